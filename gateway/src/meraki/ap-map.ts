import { ID_PATTERN } from '../../../core/src/ids.ts';
import { normalizeMac } from '../../../core/src/privacy.ts';

// Which mallflow sensor each Meraki access point is. Pure: the file's text in, the map and every
// problem (with its line number) out. The shell reads the file and refuses to start on problems.
//
// Format, one AP per line, either
//   CSV:        aa:bb:cc:dd:ee:ff,sensor-id       (an optional header line `apMac,sensorId`)
//   JSON lines: {"apMac":"aa:bb:cc:dd:ee:ff","sensorId":"sensor-id"}
// MACs in any of the usual forms (colon, dash, bare, any case). Blank lines and `#` comments are
// skipped. Several APs may share a sensor id; one AP may not appear twice.
// Problems never quote the line: an AP MAC is not personal data, but a mistyped client MAC could be.

export interface ApMapParse {
  /** Normalized AP MAC (`aa:bb:cc:dd:ee:ff`) → sensor id. */
  apSensors: Map<string, string>;
  /** `line N: what is wrong`, in line order; empty when the file is good. */
  problems: string[];
}

const HEADER = /^\s*"?ap_?mac"?\s*,\s*"?sensor_?id"?\s*$/i;

function fieldsOf(line: string): { apMac: unknown; sensorId: unknown } | string {
  if (line.startsWith('{') || line.startsWith('[')) {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return 'not valid JSON';
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return 'a JSON line must be an object {"apMac": ..., "sensorId": ...}';
    const o = value as Record<string, unknown>;
    return { apMac: o.apMac, sensorId: o.sensorId };
  }
  const parts = line.split(',');
  if (parts.length !== 2) return `expected "apMac,sensorId" (2 fields), found ${parts.length}`;
  return { apMac: parts[0]?.trim().replace(/^"|"$/g, ''), sensorId: parts[1]?.trim().replace(/^"|"$/g, '') };
}

export function parseApMap(text: string): ApMapParse {
  const apSensors = new Map<string, string>();
  const firstLine = new Map<string, number>();
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    if (apSensors.size === 0 && problems.length === 0 && HEADER.test(line)) continue;
    const fields = fieldsOf(line);
    if (typeof fields === 'string') {
      problems.push(`line ${lineNo}: ${fields}`);
      continue;
    }
    const mac = typeof fields.apMac === 'string' ? normalizeMac(fields.apMac) : undefined;
    if (!mac) {
      problems.push(`line ${lineNo}: apMac is not a MAC address (e.g. aa:bb:cc:dd:ee:ff)`);
      continue;
    }
    if (typeof fields.sensorId !== 'string' || !ID_PATTERN.test(fields.sensorId)) {
      problems.push(
        `line ${lineNo}: sensorId must be 1-63 chars of a-z, 0-9, "_" or "-", starting with a letter or digit`,
      );
      continue;
    }
    const first = firstLine.get(mac);
    if (first !== undefined) {
      problems.push(`line ${lineNo}: this AP is already mapped on line ${first}`);
      continue;
    }
    firstLine.set(mac, lineNo);
    apSensors.set(mac, fields.sensorId);
  }
  return { apSensors, problems };
}
