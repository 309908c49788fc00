// mallflow history view: plain browser JS, no build step, beside app.js (which announces the mall's
// layout with a `mallflow:layout` event). Tabs switch between the live view and this one; the
// view's state is in the URL (?view=history&date=YYYY-MM-DD). For the chosen local day: the KPI
// cards (with the change against the same weekday a week before), the daily KPIs of the 30 days
// ending that day (chart and table), the zone x hour (or minute) heatmap, the dwell distribution
// of the 30 days, and the day's top flows, top stores and top paths, the visit frequency and peak
// hours of the 30 days, and the staff devices (left out of every other figure) that day. Every
// panel links its CSV export.
(() => {
  const DAYS = 30;
  const $ = (id) => document.getElementById(id);
  const SVG_NS = 'http://www.w3.org/2000/svg';
  /** Same scale as the floor plans: green → yellow → orange → red → deep red, by devices / capacity. */
  const SCALE = [
    [0, [34, 166, 96]],
    [0.5, [236, 201, 75]],
    [0.8, [245, 134, 52]],
    [1, [220, 53, 53]],
    [1.25, [150, 20, 60]],
  ];
  const EMPTY_RGB = [43, 53, 72];
  const NO_DATA_RGB = [20, 27, 44];
  const LABEL_W = 150;
  const ROW_H = 12;
  const HEAD_H = 18;

  const hs = {
    layout: null,
    loadedKey: null,
    loading: 0,
    heatmap: null,
    timeFormat: null,
  };

  // ---- helpers -------------------------------------------------------------------------------

  async function getJson(url) {
    const res = await fetch(url, { headers: { accept: 'application/json' } });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.message || `${url}: HTTP ${res.status}`);
    return body;
  }

  function apiUrl(path, params, csv) {
    const q = new URLSearchParams(params);
    if (csv) q.set('format', 'csv');
    return `/api/malls/${encodeURIComponent(hs.layout.id)}/history/${path}?${q}`;
  }

  const fmtInt = (n) => (n === null || n === undefined ? '–' : Math.round(n).toLocaleString());
  const fmtPct = (r) => (r === null || r === undefined ? '–' : `${(r * 100).toFixed(1)}%`);

  function fmtDuration(ms) {
    if (ms === null || ms === undefined) return '–';
    const min = Math.round(ms / 60_000);
    if (min < 1) return `${Math.round(ms / 1000)} s`;
    if (min < 60) return `${min} min`;
    return `${Math.floor(min / 60)} h ${String(min % 60).padStart(2, '0')} min`;
  }

  function fmtChange(m) {
    if (!m || m.change === null) return 'no data a week before';
    if (m.changePct === null) return `${m.change > 0 ? '+' : ''}${fmtInt(m.change)} vs a week before`;
    const arrow = m.change > 0 ? '▲' : m.change < 0 ? '▼' : '=';
    return `${arrow} ${Math.abs(m.changePct).toFixed(1)}% vs a week before`;
  }

  /** Today's date in the mall's time zone (en-CA formats dates as YYYY-MM-DD). */
  function todayIn(timeZone) {
    return new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    }).format(new Date());
  }

  function addDays(date, days) {
    const [y, m, d] = date.split('-').map(Number);
    return new Date(Date.UTC(y, m - 1, d) + days * 86_400_000).toISOString().slice(0, 10);
  }

  function colorRgb(ratio) {
    const r = Math.max(0, ratio);
    let lo = SCALE[0];
    let hi = SCALE[SCALE.length - 1];
    if (r >= hi[0]) return hi[1];
    for (let i = 1; i < SCALE.length; i++) {
      if (r <= SCALE[i][0]) {
        lo = SCALE[i - 1];
        hi = SCALE[i];
        break;
      }
    }
    const t = (r - lo[0]) / (hi[0] - lo[0]);
    return lo[1].map((c, i) => c + (hi[1][i] - c) * t);
  }

  const rgb = (c) => `rgb(${Math.round(c[0])}, ${Math.round(c[1])}, ${Math.round(c[2])})`;

  function svg(tag, attrs, parent) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    if (parent) parent.appendChild(el);
    return el;
  }

  function setStatus(text) {
    $('history-status').textContent = text;
  }

  // ---- view switching ------------------------------------------------------------------------

  function showView(view) {
    const history = view === 'history';
    $('live-view').hidden = history;
    $('history-view').hidden = !history;
    $('tab-live').setAttribute('aria-selected', String(!history));
    $('tab-history').setAttribute('aria-selected', String(history));
    const url = new URL(location.href);
    if (history) url.searchParams.set('view', 'history');
    else url.searchParams.delete('view');
    window.history.replaceState(null, '', url);
    if (history) void loadHistory();
  }

  // ---- loading -------------------------------------------------------------------------------

  async function loadHistory() {
    if (!hs.layout) return;
    const date = $('history-date').value;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return;
    const resolution = $('heatmap-resolution').value;
    const key = `${date}|${resolution}`;
    if (key === hs.loadedKey) return;
    const url = new URL(location.href);
    url.searchParams.set('date', date);
    window.history.replaceState(null, '', url);

    const from = addDays(date, -(DAYS - 1));
    const weekBefore = addDays(date, -7);
    const range = { from, to: date };
    const day = { from: date, to: date };
    const requests = {
      kpis: ['kpis', range],
      heatmap: ['heatmap', { date, resolution }],
      dwell: ['dwell', range],
      flows: ['flows', { ...day, limit: 10 }],
      stores: ['top-stores', { ...day, by: 'visits', limit: 10 }],
      compare: ['compare', { ...day, vsFrom: weekBefore, vsTo: weekBefore }],
      dayKpis: ['kpis', day],
      paths: ['paths', { ...day, limit: 10 }],
      frequency: ['frequency', range],
      peak: ['peak-hours', range],
    };
    $('csv-paths').href = apiUrl('paths', { ...day, limit: 200 }, true);
    $('csv-frequency').href = apiUrl('frequency', range, true);
    $('csv-peak').href = apiUrl('peak-hours', range, true);
    $('csv-kpis').href = apiUrl('kpis', range, true);
    $('csv-heatmap').href = apiUrl('heatmap', { date, resolution }, true);
    $('csv-dwell').href = apiUrl('dwell', range, true);
    $('csv-flows').href = apiUrl('flows', { ...day, limit: 500 }, true);
    $('csv-stores').href = apiUrl('top-stores', { ...day, by: 'visits', limit: 200 }, true);

    const ticket = ++hs.loading;
    setStatus('Loading…');
    $('history-view').dataset.state = 'loading';
    try {
      // One after another: the embedded database serves one query at a time anyway.
      const data = {};
      for (const [name, [path, params]] of Object.entries(requests))
        data[name] = await getJson(apiUrl(path, params));
      if (ticket !== hs.loading) return; // a newer selection is loading
      renderDayKpis(data.kpis, data.compare, date);
      renderDaily(data.kpis, from, date);
      hs.heatmap = data.heatmap;
      renderHeatmap();
      renderDwell(data.dwell, from, date);
      renderFlows(data.flows, date);
      renderStores(data.stores, date);
      renderStaff(data.dayKpis.staff);
      renderPaths(data.paths, date);
      renderFrequency(data.frequency, from, date);
      renderPeakHours(data.peak, from, date);
      renderDefinitions(data.kpis.definitions);
      $('history-note').textContent = `Local time, ${hs.layout.timezone}`;
      hs.loadedKey = key;
      setStatus('');
      $('history-view').dataset.state = 'ready';
      $('history-view').dataset.date = date;
    } catch (err) {
      if (ticket !== hs.loading) return;
      setStatus(`History unavailable: ${err.message}`);
      $('history-view').dataset.state = 'error';
    }
  }

  // ---- rendering -----------------------------------------------------------------------------

  function renderDayKpis(kpis, compare, date) {
    const row = kpis.rows.find((r) => r.period === date);
    const change = (metric) => compare.metrics.find((m) => m.metric === metric);
    $('hk-visitors').textContent = fmtInt(row.visitors);
    // Rotating MACs leave the count uncertain: show its interval when there is one.
    const interval =
      row.visitorsLow !== row.visitors || row.visitorsHigh !== row.visitors
        ? `range ${fmtInt(row.visitorsLow)}–${fmtInt(row.visitorsHigh)} · `
        : '';
    $('hk-visitors-sub').textContent = `${interval}${fmtChange(change('visitors'))}`;
    $('hk-passers').textContent = fmtInt(row.passersBy);
    $('hk-passers-sub').textContent = fmtChange(change('passersBy'));
    $('hk-capture').textContent = fmtPct(row.captureRate);
    const capture = change('captureRate');
    $('hk-capture-sub').textContent =
      capture && capture.change !== null
        ? `${capture.change >= 0 ? '+' : '−'}${Math.abs(capture.change * 100).toFixed(1)} points vs a week before`
        : 'visitors / (visitors + passers-by)';
    $('hk-dwell').textContent = fmtDuration(row.avgDwellMs);
    $('hk-dwell-sub').textContent =
      `${fmtInt(row.visitorVisits)} visitor visits · ${fmtChange(change('avgDwellMs'))}`;
    $('hk-new').textContent = `${fmtInt(row.newVisitors)} · ${fmtInt(row.returningVisitors)}`;
    $('hk-new-sub').textContent =
      row.visitors > 0 ? `${fmtPct(row.newVisitors / row.visitors)} new` : 'first visit that day = new';
  }

  function renderDaily(kpis, from, to) {
    $('daily-title').textContent = `Daily KPIs, ${from} to ${to}`;
    const chart = $('daily-chart');
    chart.textContent = '';
    // The viewBox follows the drawn size so labels are not stretched.
    const W = Math.max(300, Math.round(chart.clientWidth || 600));
    const H = 160;
    const padTop = 8;
    const padBottom = 16;
    chart.setAttribute('viewBox', `0 0 ${W} ${H}`);
    const rows = kpis.rows;
    const max = Math.max(1, ...rows.map((r) => r.visitors + r.passersBy));
    const slot = W / rows.length;
    const plotH = H - padTop - padBottom;
    const points = [];
    rows.forEach((r, i) => {
      const x = i * slot + slot * 0.15;
      const w = slot * 0.7;
      const hv = (r.visitors / max) * plotH;
      const hp = (r.passersBy / max) * plotH;
      const g = svg('g', { class: 'day-bar', 'data-date': r.period }, chart);
      svg('rect', { class: 'bar-visitors', x, y: H - padBottom - hv, width: w, height: hv }, g);
      svg('rect', { class: 'bar-passers', x, y: H - padBottom - hv - hp, width: w, height: hp }, g);
      const title = svg('title', {}, g);
      title.textContent = `${r.period}: ${fmtInt(r.visitors)} visitors, ${fmtInt(r.passersBy)} passers-by, capture ${fmtPct(r.captureRate)}`;
      if (r.captureRate !== null)
        points.push(`${(x + w / 2).toFixed(1)},${(H - padBottom - r.captureRate * plotH).toFixed(1)}`);
      if (i % 7 === rows.length % 7 || i === rows.length - 1) {
        const label = svg('text', { class: 'day-label', x: x + w / 2, y: H - 3 }, chart);
        label.textContent = r.period.slice(5);
      }
    });
    if (points.length > 1) svg('polyline', { class: 'capture-line', points: points.join(' ') }, chart);

    const body = $('daily-table').querySelector('tbody');
    body.textContent = '';
    for (const r of [...rows].reverse()) {
      const tr = document.createElement('tr');
      tr.dataset.date = r.period;
      tr.dataset.source = r.source;
      const cells = [
        r.period,
        fmtInt(r.visitors),
        fmtInt(r.passersBy),
        fmtPct(r.captureRate),
        fmtDuration(r.avgDwellMs),
        fmtInt(r.newVisitors),
        fmtInt(r.returningVisitors),
      ];
      for (const [i, text] of cells.entries()) {
        const td = document.createElement(i === 0 ? 'th' : 'td');
        td.textContent = text;
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
  }

  /** A short floor tag: a short id as written ("B1", "L2"), else the floor's level. */
  function floorTag(floorId) {
    if (floorId.length <= 3) return floorId.toUpperCase();
    const floor = hs.layout.floors.find((f) => f.id === floorId);
    return floor ? (floor.level < 0 ? `B${-floor.level}` : `L${floor.level}`) : floorId;
  }

  function renderHeatmap() {
    const data = hs.heatmap;
    if (!data) return;
    const canvas = $('heatmap');
    $('heatmap-title').textContent =
      `Occupancy by zone on ${data.date} (devices / capacity, by ${data.resolution})`;
    const zones = data.zones;
    const width = Math.max(480, canvas.parentElement.clientWidth);
    const height = HEAD_H + zones.length * ROW_H;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const cellW = (width - LABEL_W) / data.columns;
    let filled = 0;
    let peak = 0;
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    zones.forEach((z, row) => {
      const y = HEAD_H + row * ROW_H;
      ctx.fillStyle = z.kind === 'outside' ? '#6f7c99' : '#c9d3e8';
      const label = `${floorTag(z.floor)} · ${z.name}`;
      const name = label.length > 24 ? `${label.slice(0, 23)}…` : label;
      ctx.fillText(name, 4, y + ROW_H / 2);
      z.devices.forEach((v, col) => {
        if (v !== null) {
          filled++;
          peak = Math.max(peak, z.peakDevices ? z.peakDevices[col] : v);
        }
        ctx.fillStyle = rgb(v === null ? NO_DATA_RGB : v <= 0 ? EMPTY_RGB : colorRgb(v / z.capacity));
        ctx.fillRect(LABEL_W + col * cellW, y + 1, Math.max(cellW - (cellW > 4 ? 1 : 0), 0.5), ROW_H - 2);
      });
    });
    // Hour ticks along the top.
    ctx.fillStyle = '#8d99b5';
    const perHour = 60 / data.columnMinutes;
    const hours = data.columns / perHour;
    const every = hours > 12 ? 3 : 1;
    for (let h = 0; h < hours; h += every) {
      ctx.fillText(
        hs.timeFormat.format(new Date(Date.parse(data.startAt) + h * 3_600_000)),
        LABEL_W + h * perHour * cellW,
        HEAD_H / 2,
      );
    }
    canvas.dataset.zones = String(zones.length);
    canvas.dataset.columns = String(data.columns);
    canvas.dataset.filled = String(filled);
    canvas.dataset.peak = String(peak);
  }

  function onHeatmapPointer(event) {
    const data = hs.heatmap;
    const tip = $('tooltip');
    if (!data) return;
    const canvas = $('heatmap');
    const box = canvas.getBoundingClientRect();
    const x = event.clientX - box.left;
    const y = event.clientY - box.top;
    const row = Math.floor((y - HEAD_H) / ROW_H);
    const col = Math.floor(((x - LABEL_W) / (box.width - LABEL_W)) * data.columns);
    const zone = data.zones[row];
    if (!zone || x < LABEL_W || col < 0 || col >= data.columns) {
      tip.hidden = true;
      return;
    }
    const at = new Date(Date.parse(data.startAt) + col * data.columnMinutes * 60_000);
    const v = zone.devices[col];
    const peak = zone.peakDevices ? zone.peakDevices[col] : null;
    tip.innerHTML = '<div class="tip-name"></div><div class="tip-kind"></div><div class="tip-row"></div>';
    tip.querySelector('.tip-name').textContent = zone.name;
    tip.querySelector('.tip-kind').textContent = `${hs.timeFormat.format(at)} · ${data.date}`;
    tip.querySelector('.tip-row').textContent =
      v === null
        ? 'no data'
        : `${v.toLocaleString()} ${data.resolution === 'hour' ? 'on average' : 'devices'}${peak !== null ? ` · peak ${peak}` : ''} / ${zone.capacity}`;
    tip.hidden = false;
    const left = Math.min(window.innerWidth - tip.offsetWidth - 8, event.clientX + 14);
    tip.style.transform = `translate(${left}px, ${event.clientY + 16}px)`;
  }

  function bar(list, { label, value, sub, share }) {
    const li = document.createElement('li');
    li.innerHTML =
      '<div class="tz-head"><span class="tz-name"></span><span class="tz-pct"></span></div>' +
      '<div class="tz-bar"><span></span></div><div class="tz-sub"></div>';
    li.querySelector('.tz-name').textContent = label;
    li.querySelector('.tz-pct').textContent = value;
    li.querySelector('.tz-bar span').style.width = `${Math.min(100, Math.max(0, share * 100))}%`;
    li.querySelector('.tz-sub').textContent = sub;
    list.appendChild(li);
    return li;
  }

  function emptyNote(list, text) {
    const li = document.createElement('li');
    li.className = 'muted';
    li.textContent = text;
    list.appendChild(li);
  }

  function renderDwell(dwell, from, to) {
    $('dwell-title').textContent = `Dwell of visitor visits, ${from} to ${to}`;
    const list = $('dwell-bars');
    list.textContent = '';
    if (dwell.visitorVisits === 0) return emptyNote(list, 'No visitor visits in these days.');
    for (const b of dwell.buckets) {
      bar(list, {
        label: b.label,
        value: fmtInt(b.visits),
        sub: fmtPct(b.share),
        share: b.share ?? 0,
      }).dataset.bucket = b.bucket;
    }
  }

  function renderFlows(flows, date) {
    $('flows-title').textContent = `Top flows on ${date}`;
    const list = $('top-flows');
    list.textContent = '';
    if (flows.rows.length === 0) return emptyNote(list, 'No zone-to-zone moves that day.');
    const top = flows.rows[0].transitions;
    for (const f of flows.rows) {
      const li = bar(list, {
        label: `${f.fromZoneName ?? f.fromZoneId} → ${f.toZoneName ?? f.toZoneId}`,
        value: fmtInt(f.transitions),
        sub: `${fmtPct(f.share)} of ${fmtInt(flows.totalTransitions)} moves`,
        share: f.transitions / top,
      });
      li.dataset.from = f.fromZoneId;
      li.dataset.to = f.toZoneId;
    }
  }

  /** How sure the zone estimates behind a row are, when known. */
  function confidenceNote(confidence) {
    return confidence === null || confidence === undefined
      ? ''
      : ` · ${(confidence * 100).toFixed(1)} % sure of the zone`;
  }

  function renderStores(stores, date) {
    $('stores-title').textContent = `Top stores on ${date}`;
    const list = $('top-stores');
    list.textContent = '';
    if (stores.rows.length === 0) return emptyNote(list, 'No store visits that day.');
    const top = stores.rows[0].stays;
    for (const s of stores.rows) {
      const li = bar(list, {
        label: s.name,
        value: `${fmtInt(s.stays)} visit${s.stays === 1 ? '' : 's'}`,
        sub: `median ${fmtDuration(s.medianDwellMs)} · mean ${fmtDuration(s.meanDwellMs)} · ${fmtInt(s.devices)} devices${confidenceNote(s.meanConfidence)}`,
        share: s.stays / top,
      });
      li.dataset.zoneId = s.zoneId;
    }
  }

  function renderStaff(staff) {
    $('hk-staff').textContent = fmtInt(staff.present);
    $('hk-staff-sub').textContent = `${fmtInt(staff.flagged)} flagged in all · not in the figures`;
  }

  function renderPaths(paths, date) {
    $('paths-title').textContent = `Top paths on ${date}`;
    const list = $('top-paths');
    list.textContent = '';
    if (paths.rows.length === 0) return emptyNote(list, 'No store visited that day.');
    const top = paths.rows[0].visits;
    for (const p of paths.rows) {
      const li = bar(list, {
        label: p.names.join(' → '),
        value: `${fmtInt(p.visits)} visit${p.visits === 1 ? '' : 's'}`,
        sub: `${fmtPct(p.share)} of ${fmtInt(paths.visitsWithPath)} visits with a store`,
        share: p.visits / top,
      });
      li.dataset.path = p.zoneIds.join('>');
    }
  }

  function renderFrequency(frequency, from, to) {
    $('frequency-title').textContent = `Visit frequency, ${from} to ${to}`;
    const list = $('frequency-bars');
    list.textContent = '';
    if (frequency.devices === 0) return emptyNote(list, 'No visitors in these days.');
    for (const b of frequency.buckets) {
      bar(list, {
        label: `${b.bucket} visit${b.bucket === '1' ? '' : 's'}`,
        value: fmtInt(b.devices),
        sub: `${fmtPct(b.share)} · ${fmtInt(b.newDevices)} new · ${fmtInt(b.returningDevices)} returning`,
        share: b.share ?? 0,
      }).dataset.bucket = b.bucket;
    }
  }

  const hourLabel = (h) => `${String(h).padStart(2, '0')}:00`;

  function renderPeakHours(peak, from, to) {
    $('peak-title').textContent = `Peak hours, ${from} to ${to}`;
    const list = $('peak-hours');
    list.textContent = '';
    const busy = peak.hours.filter((h) => h.avgVisitors > 0 || h.avgOccupancy > 0);
    if (busy.length === 0) {
      $('peak-note').textContent = '';
      return emptyNote(list, 'No visitors in these days.');
    }
    // The hour most often the day's busiest (by devices in the mall).
    const counts = new Map();
    for (const d of peak.peaks) {
      if (d.peakOccupancyHour !== null)
        counts.set(d.peakOccupancyHour, (counts.get(d.peakOccupancyHour) ?? 0) + 1);
    }
    const [often, times] = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0] ?? [null, 0];
    $('peak-note').textContent =
      often === null ? '' : `Busiest hour: ${hourLabel(often)} on ${times} of ${peak.days} days`;
    const top = Math.max(...busy.map((h) => h.avgOccupancy), 0.0001);
    for (const h of busy) {
      bar(list, {
        label: hourLabel(h.hour),
        value: `${h.avgOccupancy.toLocaleString()} in the mall`,
        sub: `${h.avgVisitors.toLocaleString()} visitors arriving (mean per day)`,
        share: h.avgOccupancy / top,
      }).dataset.hour = String(h.hour);
    }
  }

  function renderDefinitions(definitions) {
    const dl = $('definitions-list');
    dl.textContent = '';
    for (const [key, text] of Object.entries(definitions)) {
      if (typeof text !== 'string') continue; // visitorRule: its figures, already in visitorVisit's text
      const dt = document.createElement('dt');
      dt.textContent = key;
      const dd = document.createElement('dd');
      dd.textContent = text;
      dl.append(dt, dd);
    }
  }

  // ---- start ---------------------------------------------------------------------------------

  for (const tab of document.querySelectorAll('.tab')) {
    tab.addEventListener('click', () => showView(tab.dataset.view));
  }
  $('history-date').addEventListener('change', () => void loadHistory());
  $('heatmap-resolution').addEventListener('change', () => void loadHistory());
  $('heatmap').addEventListener('pointermove', onHeatmapPointer);
  $('heatmap').addEventListener('pointerleave', () => {
    $('tooltip').hidden = true;
  });
  let resizeTimer;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(renderHeatmap, 150);
  });

  document.addEventListener('mallflow:layout', (event) => {
    const layout = event.detail;
    hs.layout = layout;
    hs.timeFormat = new Intl.DateTimeFormat(undefined, {
      timeZone: layout.timezone || 'UTC',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    const params = new URLSearchParams(location.search);
    const wanted = params.get('date');
    $('history-date').value =
      wanted && /^\d{4}-\d{2}-\d{2}$/.test(wanted) ? wanted : todayIn(layout.timezone || 'UTC');
    if (params.get('view') === 'history') showView('history');
  });
})();
