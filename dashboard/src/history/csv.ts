// CSV as RFC 4180 writes it: a header row, records separated by CRLF, a field quoted (with inner
// quotes doubled) when it holds a comma, a quote, CR or LF. Text cells that a spreadsheet would
// run as a formula (starting with = + - @, tab or CR; OWASP "CSV injection") get a leading
// apostrophe; numbers are written as they are, negative ones included.

export type CsvCell = string | number | null | undefined;

const NEEDS_QUOTES = /[",\r\n]/;
const FORMULA_START = /^[=+\-@\t\r]/;

function field(cell: CsvCell): string {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'number') return Number.isFinite(cell) ? String(cell) : '';
  const text = FORMULA_START.test(cell) ? `'${cell}` : cell;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The whole document: header, then one line per row, each line ended by CRLF. */
export function formatCsv(header: readonly string[], rows: Iterable<readonly CsvCell[]>): string {
  const lines = [header.map(field).join(',')];
  for (const row of rows) lines.push(row.map(field).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * A Content-Disposition value that downloads as `name` (RFC 6266): the name reduced to
 * letters, digits, '.', '_' and '-' so it needs no escaping in the quoted form.
 */
export function attachmentDisposition(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_');
  return `attachment; filename="${safe}"`;
}

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(accept: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const part of accept.split(',')) {
    const [mediaType = '', ...params] = part.trim().toLowerCase().split(';');
    const [type, subtype] = mediaType.trim().split('/');
    if (!type || !subtype) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (Number.isFinite(q)) ranges.push({ type, subtype, q });
  }
  return ranges;
}

/** The q the most specific matching range gives `type/subtype` (RFC 9110 §12.5.1); 0 if none. */
function qualityOf(ranges: readonly MediaRange[], type: string, subtype: string): number {
  let best: MediaRange | undefined;
  let bestSpecificity = -1;
  for (const r of ranges) {
    const specificity =
      r.type === type && r.subtype === subtype
        ? 2
        : r.type === type && r.subtype === '*'
          ? 1
          : r.type === '*'
            ? 0
            : -1;
    if (specificity > bestSpecificity) {
      best = r;
      bestSpecificity = specificity;
    }
  }
  return best?.q ?? 0;
}

/** What a client asked for: `format` when given, else CSV only if `Accept` prefers it to JSON. */
export function chooseFormat(format: 'json' | 'csv' | undefined, accept: string | undefined): 'json' | 'csv' {
  if (format !== undefined) return format;
  if (!accept) return 'json';
  const ranges = parseAccept(accept);
  const csv = qualityOf(ranges, 'text', 'csv');
  return csv > 0 && csv > qualityOf(ranges, 'application', 'json') ? 'csv' : 'json';
}
