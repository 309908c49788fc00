import { METRIC_DEFINITIONS, type Metric, meetsTarget } from './metrics.ts';

// The eval's outputs: a Markdown report and an SVG plot of total occupancy, true against estimated.

export interface EvalRun {
  layoutId: string;
  seed: number;
  fromIso: string;
  toIso: string;
  readings: number;
  persons: number;
  database: string;
  wallSeconds: number;
}

function fmtNumber(m: Metric, value: number): string {
  return m.unit === '%' ? `${(value * 100).toFixed(1)} %` : value.toFixed(3);
}

function fmtValue(m: Metric): string {
  if (Number.isNaN(m.value)) return 'n/a';
  const value = fmtNumber(m, m.value);
  if (!m.interval || Number.isNaN(m.interval.low) || Number.isNaN(m.interval.high)) return value;
  return `${value} (${fmtNumber(m, m.interval.low)} … ${fmtNumber(m, m.interval.high)})`;
}

function fmtTarget(m: Metric): string {
  if (!m.target) return '–';
  const v = m.unit === '%' ? `${(m.target.value * 100).toFixed(0)} %` : m.target.value.toFixed(2);
  return `${m.target.absolute ? '|x| ' : ''}${m.target.op} ${v}`;
}

export function metricsTable(metrics: readonly Metric[]): string {
  const rows = metrics.map((m) => {
    const ok = meetsTarget(m);
    return `| ${m.name} | ${fmtValue(m)} | ${fmtTarget(m)} | ${ok === undefined ? '–' : ok ? 'yes' : 'no'} | ${m.detail} |`;
  });
  return ['| metric | value | bar | meets | detail |', '| --- | ---: | --- | --- | --- |', ...rows].join(
    '\n',
  );
}

export function markdownReport(run: EvalRun, metrics: readonly Metric[], plotFile: string): string {
  return [
    `# mallflow accuracy against the simulator's ground truth`,
    '',
    `Layout \`${run.layoutId}\`, seed ${run.seed}, scored window ${run.fromIso} → ${run.toIso}; ` +
      `${run.readings.toLocaleString('en-US')} readings from ${run.persons.toLocaleString('en-US')} persons went through ` +
      `gateways → Aedes → analytics → ${run.database} in ${run.wallSeconds.toFixed(1)} s.`,
    '',
    metricsTable(metrics),
    '',
    `![total occupancy, true and estimated](${plotFile})`,
    '',
    '## Definitions',
    '',
    ...metrics.map((m) => `- **${m.name}**: ${METRIC_DEFINITIONS[m.key] ?? ''}`),
    '',
  ].join('\n');
}

/** A line plot of two series over time, as a standalone SVG. */
export function occupancyPlotSvg(
  points: readonly { minuteMs: number; truth: number; estimated: number }[],
  title: string,
  timeZone = 'UTC',
): string {
  const W = 900;
  const H = 360;
  const L = 60;
  const R = 20;
  const T = 40;
  const B = 50;
  const maxY = Math.max(1, ...points.map((p) => Math.max(p.truth, p.estimated)));
  const n = Math.max(1, points.length - 1);
  const x = (i: number) => L + ((W - L - R) * i) / n;
  const y = (v: number) => H - B - ((H - T - B) * v) / maxY;
  const line = (key: 'truth' | 'estimated') =>
    points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' ');
  const ticks = Array.from({ length: 5 }, (_, i) => Math.round((maxY * i) / 4));
  const clock = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit' });
  const timeLabel = (ms: number) => clock.format(new Date(ms));
  const xTicks = points.length > 1 ? [0, Math.floor(n / 2), n] : [0];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${L}" y="24" font-size="15" font-weight="bold">${title}</text>
${ticks.map((v) => `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"/><text x="${L - 8}" y="${y(v) + 4}" text-anchor="end" fill="#555">${v}</text>`).join('\n')}
${xTicks.map((i) => `<text x="${x(i)}" y="${H - B + 18}" text-anchor="middle" fill="#555">${points[i] ? timeLabel(points[i].minuteMs) : ''}</text>`).join('\n')}
<path d="${line('truth')}" fill="none" stroke="#111827" stroke-width="2"/>
<path d="${line('estimated')}" fill="none" stroke="#2563eb" stroke-width="2" stroke-dasharray="5 3"/>
<rect x="${L + 10}" y="${H - B - 54}" width="180" height="44" fill="#fff" stroke="#ddd"/>
<line x1="${L + 20}" x2="${L + 50}" y1="${H - B - 40}" y2="${H - B - 40}" stroke="#111827" stroke-width="2"/><text x="${L + 58}" y="${H - B - 36}">true (simulator)</text>
<line x1="${L + 20}" x2="${L + 50}" y1="${H - B - 20}" y2="${H - B - 20}" stroke="#2563eb" stroke-width="2" stroke-dasharray="5 3"/><text x="${L + 58}" y="${H - B - 16}">estimated (analytics)</text>
<text x="16" y="${(H - B + T) / 2}" transform="rotate(-90 16 ${(H - B + T) / 2})" text-anchor="middle" fill="#555">persons in the mall</text>
<text x="${W - R}" y="${H - 8}" text-anchor="end" fill="#555">local time (${timeZone})</text>
</svg>
`;
}
