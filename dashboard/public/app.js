// mallflow operator dashboard: plain browser JS, no build step.
// Flow: pick the mall (?mall= or the first), draw every floor from the layout (SVG, viewBox in
// metres), paint the REST occupancy frame, then subscribe over Socket.IO and repaint on each
// `occupancy` event (the same frame shape as GET /api/malls/:mall/occupancy).
(() => {
  const SVG_NS = 'http://www.w3.org/2000/svg';
  /** A frame older than this (wall clock, since it arrived) marks the feed as stale. */
  const STALE_AFTER_MS = 10_000;
  const HISTORY_REFRESH_MS = 60_000;
  const OVER_CAPACITY_RATIO = 0.8;
  const COMMON_KINDS = new Set(['corridor', 'atrium', 'entrance', 'escalator', 'lift']);
  const EMPTY_RGB = [43, 53, 72];
  /** Green → yellow → orange → red → deep red, by devices / capacity. */
  const SCALE = [
    [0, [34, 166, 96]],
    [0.5, [236, 201, 75]],
    [0.8, [245, 134, 52]],
    [1, [220, 53, 53]],
    [1.25, [150, 20, 60]],
  ];
  /** What shows through a translucent zone (the floor background). */
  const FLOOR_RGB = [12, 19, 34];
  const KIND_OPACITY = { outside: 0.18 };
  const COMMON_OPACITY = 0.55;

  const $ = (id) => document.getElementById(id);
  const state = {
    layout: null,
    zoneById: new Map(),
    floorById: new Map(),
    /** zoneId → { shape, count, label } */
    els: new Map(),
    frame: null,
    receivedAtMs: 0,
    connected: false,
    timeFormat: null,
  };

  // ---- helpers -------------------------------------------------------------------------------

  async function getJson(path) {
    const res = await fetch(path, { headers: { accept: 'application/json' } });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.message || `${path}: HTTP ${res.status}`);
    return body;
  }

  function svg(tag, attrs, parent) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    if (parent) parent.appendChild(el);
    return el;
  }

  function colorFor(ratio, devices) {
    return rgb(colorRgb(ratio, devices));
  }

  function colorRgb(ratio, devices) {
    if (devices <= 0) return EMPTY_RGB;
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

  /** 'dark' when a label needs dark text on this zone's fill as seen over the floor. */
  function labelTone(zone, ratio, devices) {
    const alpha = KIND_OPACITY[zone.kind] ?? (COMMON_KINDS.has(zone.kind) ? COMMON_OPACITY : 1);
    const c = colorRgb(ratio, devices).map((v, i) => v * alpha + FLOOR_RGB[i] * (1 - alpha));
    const luminance = (0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]) / 255;
    return luminance > 0.5 ? 'dark' : 'light';
  }

  function rgb(c) {
    return `rgb(${Math.round(c[0])}, ${Math.round(c[1])}, ${Math.round(c[2])})`;
  }

  const fmtInt = (n) => Math.round(n).toLocaleString();
  const pct = (ratio) => `${Math.round(ratio * 100)}%`;
  const plural = (n, word) => `${fmtInt(n)} ${word}${n === 1 ? '' : 's'}`;

  function shortName(zone) {
    const name = zone.brand || zone.name;
    return name.length > 18 ? `${name.slice(0, 17)}…` : name;
  }

  /** A short floor tag: a short id as written ("B1", "L2"), else from the level. */
  function floorBadge(floor) {
    if (floor.id.length <= 3) return floor.id.toUpperCase();
    return floor.level < 0 ? `B${-floor.level}` : `L${floor.level}`;
  }

  function kindLabel(zone) {
    if (zone.kind === 'store') return zone.category ? `${zone.category} store` : 'store';
    return zone.kind;
  }

  function showBanner(message) {
    const banner = $('banner');
    banner.textContent = message;
    banner.hidden = false;
  }

  function bbox(polygon) {
    let minX = Number.POSITIVE_INFINITY;
    let minY = Number.POSITIVE_INFINITY;
    let maxX = Number.NEGATIVE_INFINITY;
    let maxY = Number.NEGATIVE_INFINITY;
    for (const [x, y] of polygon) {
      minX = Math.min(minX, x);
      minY = Math.min(minY, y);
      maxX = Math.max(maxX, x);
      maxY = Math.max(maxY, y);
    }
    return { minX, minY, maxX, maxY, w: maxX - minX, h: maxY - minY };
  }

  /** Area-weighted centroid; falls back to the box centre for degenerate polygons. */
  function centroid(polygon, box) {
    let a = 0;
    let cx = 0;
    let cy = 0;
    for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
      const [xi, yi] = polygon[i];
      const [xj, yj] = polygon[j];
      const f = xj * yi - xi * yj;
      a += f;
      cx += (xi + xj) * f;
      cy += (yi + yj) * f;
    }
    if (Math.abs(a) < 1e-9) return [box.minX + box.w / 2, box.minY + box.h / 2];
    return [cx / (3 * a), cy / (3 * a)];
  }

  // ---- drawing -------------------------------------------------------------------------------

  function drawFloors(layout) {
    const container = $('floors');
    container.textContent = '';
    const floors = [...layout.floors].sort((a, b) => b.level - a.level);
    // 4 floors read best as 2×2; otherwise up to 3 across on wide screens.
    container.style.setProperty('--max-cols', String(floors.length === 4 ? 2 : Math.min(floors.length, 3)));
    for (const floor of floors) {
      const card = document.createElement('article');
      card.className = 'floor';
      card.dataset.floorId = floor.id;
      const head = document.createElement('header');
      head.className = 'floor-head';
      head.innerHTML =
        '<div><span class="floor-level"></span><h3></h3></div><div class="floor-stats"><strong></strong> people</div>';
      head.querySelector('.floor-level').textContent = floorBadge(floor);
      head.querySelector('h3').textContent = floor.name;
      card.appendChild(head);

      const pad = Math.max(floor.widthM, floor.heightM) * 0.015;
      const plan = svg('svg', {
        class: 'plan',
        viewBox: `${-pad} ${-pad} ${floor.widthM + 2 * pad} ${floor.heightM + 2 * pad}`,
        preserveAspectRatio: 'xMidYMid meet',
        role: 'img',
        'aria-label': `Floor plan of ${floor.name}`,
      });
      svg(
        'rect',
        { class: 'floor-bg', x: 0, y: 0, width: floor.widthM, height: floor.heightM, rx: pad * 0.6 },
        plan,
      );
      const zonesG = svg('g', { class: 'zones' }, plan);
      const sensorsG = svg('g', { class: 'sensors' }, plan);
      const labelsG = svg('g', { class: 'labels' }, plan);
      const zones = layout.zones.filter((z) => z.floor === floor.id);
      const baseFont = labelBaseSize(floor, zones);
      // Draw open areas first so stores sit on top of a corridor polygon that overlaps them.
      zones.sort((a, b) => Number(b.kind !== 'store') - Number(a.kind !== 'store'));
      for (const zone of zones) {
        const shape = svg(
          'polygon',
          {
            class: `zone zone-${zone.kind}${COMMON_KINDS.has(zone.kind) ? ' zone-common' : ''}`,
            points: zone.polygon.map(([x, y]) => `${x},${y}`).join(' '),
            fill: rgb(EMPTY_RGB),
            'data-zone-id': zone.id,
            'data-devices': '0',
            'data-ratio': '0',
            tabindex: '0',
          },
          zonesG,
        );
        const title = svg('title', {}, shape);
        title.textContent = `${zone.name}: 0 / ${zone.capacity}`;
        shape.addEventListener('pointerenter', (e) => showTooltip(zone.id, e));
        shape.addEventListener('pointermove', (e) => moveTooltip(e));
        shape.addEventListener('pointerleave', hideTooltip);
        shape.addEventListener('focus', () => showTooltip(zone.id, null, shape));
        shape.addEventListener('blur', hideTooltip);

        const { label, count } = drawLabel(zone, baseFont, labelsG);
        state.els.set(zone.id, { shape, title, label, count, floor: floor.id });
      }
      for (const sensor of layout.sensors.filter((s) => s.floor === floor.id)) {
        svg('circle', { class: 'sensor', cx: sensor.x, cy: sensor.y, r: baseFont * 0.16 }, sensorsG);
      }
      card.appendChild(plan);
      container.appendChild(card);
    }
  }

  /**
   * Label size in metres for a floor: from the typical zone size (the median of each zone's
   * shorter side), kept between 1/60 and 1/32 of the floor so labels stay legible either way.
   */
  function labelBaseSize(floor, zones) {
    const maxDim = Math.max(floor.widthM, floor.heightM);
    const sides = zones.map((z) => {
      const b = bbox(z.polygon);
      return Math.min(b.w, b.h);
    });
    sides.sort((a, b) => a - b);
    const median = sides.length > 0 ? sides[Math.floor(sides.length / 2)] : maxDim / 10;
    return Math.min(maxDim / 32, Math.max(maxDim / 60, median * 0.22));
  }

  /**
   * Name (and a live count when there is room) at the zone's centroid, sized to fit its box;
   * turned upright in tall narrow zones. Zones too small for a legible name get none (the
   * tooltip still names them).
   */
  function drawLabel(zone, baseFont, parent) {
    const box = bbox(zone.polygon);
    const [cx, cy] = centroid(zone.polygon, box);
    if (zone.kind === 'outside') {
      const label = svg(
        'text',
        { class: 'zone-label zone-label-outside', x: cx, y: cy, 'font-size': baseFont * 0.8 },
        parent,
      );
      label.textContent = zone.name;
      return { label, count: null };
    }
    const text = shortName(zone);
    const fitAlong = (along, across) =>
      Math.min(baseFont, (along * 0.86) / (text.length * 0.6), across * 0.34);
    const flat = fitAlong(box.w, box.h);
    const upright = fitAlong(box.h, box.w);
    const vertical = upright > flat * 1.25;
    const fit = vertical ? upright : flat;
    if (fit < baseFont * 0.5) return { label: null, count: null };
    const twoLines = (vertical ? box.w : box.h) > fit * 2.9;
    const g = svg('g', vertical ? { transform: `rotate(-90 ${cx} ${cy})` } : {}, parent);
    const label = svg(
      'text',
      { class: 'zone-label', x: cx, y: twoLines ? cy - fit * 0.15 : cy + fit * 0.35, 'font-size': fit },
      g,
    );
    label.textContent = text;
    let count = null;
    if (twoLines) {
      count = svg('text', { class: 'zone-count', x: cx, y: cy + fit * 1.05, 'font-size': fit * 0.85 }, g);
      count.textContent = '0';
    }
    return { label, count };
  }

  // ---- tooltip -------------------------------------------------------------------------------

  function zoneStats(zoneId) {
    const z = state.frame?.zones.find((x) => x.zoneId === zoneId);
    return (
      z || {
        zoneId,
        devices: 0,
        capacity: state.zoneById.get(zoneId)?.capacity || 1,
        ratio: 0,
        confidence: null,
      }
    );
  }

  function showTooltip(zoneId, event, anchor) {
    const zone = state.zoneById.get(zoneId);
    if (!zone) return;
    const tip = $('tooltip');
    tip.dataset.zoneId = zoneId;
    renderTooltip();
    tip.hidden = false;
    if (event) moveTooltip(event);
    else if (anchor) {
      const r = anchor.getBoundingClientRect();
      placeTooltip(r.left + r.width / 2, r.top);
    }
  }

  function renderTooltip() {
    const tip = $('tooltip');
    const zone = state.zoneById.get(tip.dataset.zoneId);
    if (!zone) return;
    const s = zoneStats(zone.id);
    const floor = state.floorById.get(zone.floor);
    tip.innerHTML =
      '<div class="tip-name"></div><div class="tip-kind"></div>' +
      '<div class="tip-row"><span class="tip-devices"></span><span class="tip-pct"></span></div>' +
      '<div class="tip-bar"><span></span></div><div class="tip-sure"></div>';
    tip.querySelector('.tip-name').textContent = zone.name;
    tip.querySelector('.tip-kind').textContent = `${kindLabel(zone)} · ${floor ? floor.name : zone.floor}`;
    tip.querySelector('.tip-devices').textContent = `${fmtInt(s.devices)} / ${fmtInt(s.capacity)} people`;
    tip.querySelector('.tip-pct').textContent = pct(s.ratio);
    const bar = tip.querySelector('.tip-bar span');
    bar.style.width = `${Math.min(100, s.ratio * 100)}%`;
    bar.style.background = colorFor(s.ratio, Math.max(1, s.devices));
    // How sure the engine is that these people are in this zone rather than next door.
    tip.querySelector('.tip-sure').textContent =
      s.confidence === null || s.confidence === undefined
        ? ''
        : `${(s.confidence * 100).toFixed(1)} % sure of the zone`;
  }

  function moveTooltip(event) {
    placeTooltip(event.clientX, event.clientY);
  }

  function placeTooltip(x, y) {
    const tip = $('tooltip');
    const w = tip.offsetWidth;
    const h = tip.offsetHeight;
    const left = Math.min(window.innerWidth - w - 8, Math.max(8, x + 14));
    const top = y + 16 + h > window.innerHeight ? y - h - 12 : y + 16;
    tip.style.transform = `translate(${left}px, ${Math.max(8, top)}px)`;
  }

  function hideTooltip() {
    $('tooltip').hidden = true;
  }

  // ---- occupancy -----------------------------------------------------------------------------

  function applyFrame(frame) {
    if (!state.layout || frame.mallId !== state.layout.id) return;
    state.frame = frame;
    state.receivedAtMs = Date.now();
    const perFloor = new Map();
    const ranked = [];
    let over = [];
    for (const z of frame.zones) {
      const zone = state.zoneById.get(z.zoneId);
      const el = state.els.get(z.zoneId);
      if (!zone || !el) continue;
      el.shape.setAttribute('fill', colorFor(z.ratio, z.devices));
      el.shape.setAttribute('data-devices', String(z.devices));
      el.shape.setAttribute('data-ratio', String(z.ratio));
      el.shape.classList.toggle('zone-hot', z.ratio >= OVER_CAPACITY_RATIO);
      el.title.textContent = `${zone.name}: ${fmtInt(z.devices)} / ${fmtInt(z.capacity)} (${pct(z.ratio)})`;
      el.shape.setAttribute('data-confidence', z.confidence === null ? '' : String(z.confidence));
      if (el.count) el.count.textContent = fmtInt(z.devices);
      const tone = labelTone(zone, z.ratio, z.devices);
      el.label?.setAttribute('data-tone', tone);
      el.count?.setAttribute('data-tone', tone);
      if (zone.kind === 'outside') continue;
      perFloor.set(zone.floor, (perFloor.get(zone.floor) || 0) + z.devices);
      if (z.devices > 0) ranked.push({ zone, z });
      if (z.ratio >= OVER_CAPACITY_RATIO) over.push({ zone, z });
    }
    ranked.sort((a, b) => b.z.ratio - a.z.ratio || b.z.devices - a.z.devices);
    over = over.sort((a, b) => b.z.ratio - a.z.ratio);

    const total = $('kpi-total');
    total.textContent = fmtInt(frame.total);
    total.dataset.total = String(frame.total);
    $('kpi-total-sub').textContent =
      `across ${plural(frame.zones.length, 'zone')} on ${plural(state.layout.floors.length, 'floor')}`;

    const busiest = ranked[0];
    $('kpi-busiest').textContent = busiest ? busiest.zone.name : 'No one yet';
    $('kpi-busiest-sub').textContent = busiest
      ? `${pct(busiest.z.ratio)} full · ${fmtInt(busiest.z.devices)} / ${fmtInt(busiest.z.capacity)} · ${
          state.floorById.get(busiest.zone.floor)?.name || ''
        }`
      : '\u00a0';

    const overEl = $('kpi-over');
    overEl.textContent = String(over.length);
    overEl.classList.toggle('alert', over.length > 0);
    $('kpi-over-sub').textContent =
      over.length > 0
        ? over
            .slice(0, 3)
            .map((o) => `${o.zone.name} ${pct(o.z.ratio)}`)
            .join(' · ') + (over.length > 3 ? ` +${over.length - 3}` : '')
        : 'all zones below 80%';

    for (const card of document.querySelectorAll('.floor')) {
      card.querySelector('.floor-stats strong').textContent = fmtInt(perFloor.get(card.dataset.floorId) || 0);
    }
    renderTopZones(ranked.slice(0, 8));
    if (!$('tooltip').hidden) renderTooltip();
    renderFreshness();
  }

  function renderTopZones(items) {
    const list = $('top-zones');
    list.textContent = '';
    if (items.length === 0) {
      const li = document.createElement('li');
      li.className = 'muted';
      li.textContent = 'No one in the mall yet.';
      list.appendChild(li);
      return;
    }
    for (const { zone, z } of items) {
      const li = document.createElement('li');
      li.innerHTML =
        '<div class="tz-head"><span class="tz-name"></span><span class="tz-pct"></span></div>' +
        '<div class="tz-bar"><span></span></div><div class="tz-sub"></div>';
      li.querySelector('.tz-name').textContent = zone.name;
      li.querySelector('.tz-pct').textContent = pct(z.ratio);
      const bar = li.querySelector('.tz-bar span');
      bar.style.width = `${Math.min(100, z.ratio * 100)}%`;
      bar.style.background = colorFor(z.ratio, z.devices);
      li.querySelector('.tz-sub').textContent =
        `${fmtInt(z.devices)} / ${fmtInt(z.capacity)} · ${state.floorById.get(zone.floor)?.name || zone.floor}`;
      li.addEventListener('pointerenter', () => highlight(zone.id, true));
      li.addEventListener('pointerleave', () => highlight(zone.id, false));
      list.appendChild(li);
    }
  }

  function highlight(zoneId, on) {
    state.els.get(zoneId)?.shape.classList.toggle('zone-highlight', on);
  }

  function renderFreshness() {
    const conn = $('conn');
    const label = $('conn-label');
    const ageMs = state.receivedAtMs ? Date.now() - state.receivedAtMs : Number.POSITIVE_INFINITY;
    let mode = 'connecting';
    if (!state.connected) mode = state.receivedAtMs ? 'offline' : 'connecting';
    else if (ageMs > STALE_AFTER_MS) mode = 'stale';
    else mode = 'live';
    conn.dataset.state = mode;
    label.textContent = {
      connecting: 'Connecting…',
      offline: 'Reconnecting…',
      stale: 'Waiting for data',
      live: 'Live',
    }[mode];
    const frame = state.frame;
    if (!frame) return;
    $('kpi-updated').textContent = frame.asOf ? state.timeFormat.format(new Date(frame.asOf)) : 'No data yet';
    const ageSec = Math.max(0, Math.round(ageMs / 1000));
    $('kpi-updated-sub').textContent = `received ${ageSec < 2 ? 'just now' : `${ageSec}s ago`} · ${
      state.layout.timezone
    }`;
  }

  // ---- history sparkline ---------------------------------------------------------------------

  async function refreshHistory() {
    if (!state.layout) return;
    const toMs = state.frame?.asOf ? Date.parse(state.frame.asOf) + 60_000 : Date.now();
    const from = new Date(toMs - 60 * 60_000).toISOString();
    const to = new Date(toMs).toISOString();
    try {
      const data = await getJson(
        `/api/malls/${encodeURIComponent(state.layout.id)}/occupancy/minutes?from=${from}&to=${to}`,
      );
      const totals = new Map();
      for (const row of data.rows) {
        if (state.zoneById.get(row.zoneId)?.kind === 'outside') continue;
        totals.set(row.bucket, (totals.get(row.bucket) || 0) + row.devices);
      }
      drawTrend([...totals.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map((e) => e[1]));
    } catch (err) {
      console.warn('history unavailable', err);
    }
  }

  function drawTrend(values) {
    const el = $('trend');
    el.textContent = '';
    if (values.length < 2) {
      el.classList.add('trend-empty');
      return;
    }
    el.classList.remove('trend-empty');
    const max = Math.max(...values, 1);
    const step = 120 / (values.length - 1);
    const pts = values.map((v, i) => `${(i * step).toFixed(2)},${(34 - (v / max) * 30).toFixed(2)}`);
    svg('polygon', { class: 'trend-area', points: `0,36 ${pts.join(' ')} 120,36` }, el);
    svg('polyline', { class: 'trend-line', points: pts.join(' ') }, el);
    const title = svg('title', {}, el);
    title.textContent = `Last hour: ${fmtInt(Math.min(...values))}–${fmtInt(max)} people`;
  }

  // ---- live ----------------------------------------------------------------------------------

  function connectLive(mallId) {
    if (typeof io !== 'function') {
      showBanner('Live updates unavailable: the Socket.IO client did not load.');
      return;
    }
    const socket = io({ transports: ['websocket', 'polling'] });
    socket.on('connect', () => {
      state.connected = true;
      socket.emit('subscribe', { mallId }, (ack) => {
        if (!ack?.ok) showBanner(`Live updates refused: ${ack ? ack.message : 'no answer'}`);
      });
      renderFreshness();
    });
    socket.on('disconnect', () => {
      state.connected = false;
      renderFreshness();
    });
    socket.on('occupancy', applyFrame);
  }

  async function start() {
    const malls = await getJson('/api/malls');
    if (malls.length === 0) {
      showBanner('No mall is configured.');
      return;
    }
    const wanted = new URLSearchParams(location.search).get('mall');
    const mall = wanted ? malls.find((m) => m.id === wanted) : malls[0];
    if (!mall) {
      showBanner(`Unknown mall "${wanted}". Known: ${malls.map((m) => m.id).join(', ')}.`);
      return;
    }
    if (malls.length > 1) {
      const picker = $('mall-picker');
      for (const m of malls) {
        const opt = document.createElement('option');
        opt.value = m.id;
        opt.textContent = m.name;
        opt.selected = m.id === mall.id;
        picker.appendChild(opt);
      }
      picker.hidden = false;
      picker.addEventListener('change', () => {
        location.search = `?mall=${encodeURIComponent(picker.value)}`;
      });
    }

    const layout = await getJson(`/api/malls/${encodeURIComponent(mall.id)}/layout`);
    state.layout = layout;
    for (const z of layout.zones) state.zoneById.set(z.id, z);
    for (const f of layout.floors) state.floorById.set(f.id, f);
    state.timeFormat = new Intl.DateTimeFormat(undefined, {
      timeZone: layout.timezone || 'UTC',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    document.title = `${layout.name} · mallflow`;
    $('mall-name').textContent = layout.name;
    const stores = layout.zones.filter((z) => z.kind === 'store').length;
    $('mall-meta').textContent =
      `${plural(layout.floors.length, 'floor')} · ${plural(stores, 'store')} · ${plural(layout.sensors.length, 'sensor')}`;
    drawFloors(layout);
    // history.js builds the History view from the same layout.
    document.dispatchEvent(new CustomEvent('mallflow:layout', { detail: layout }));

    connectLive(layout.id);
    try {
      applyFrame(await getJson(`/api/malls/${encodeURIComponent(layout.id)}/occupancy`));
    } catch (err) {
      showBanner(`Occupancy unavailable: ${err.message}`);
    }
    await refreshHistory();
    setInterval(refreshHistory, HISTORY_REFRESH_MS);
    setInterval(renderFreshness, 1000);
  }

  start().catch((err) => showBanner(`Dashboard failed to load: ${err.message}`));
})();
