import { ID_PATTERN } from '../../core/src/ids.ts';

/**
 * `name=sensor-id` pairs separated by commas or new lines (an ESPresense room, a pcapng interface)
 * → name → sensor id, with every problem named by its entry number.
 */
export function parseSensorPairs(
  text: string,
  what: string,
): { sensors: Map<string, string>; problems: string[] } {
  const sensors = new Map<string, string>();
  const problems: string[] = [];
  const entries = text
    .split(/[,\n]/)
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  entries.forEach((entry, i) => {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? '' : entry.slice(0, eq).trim();
    const sensorId = eq < 0 ? '' : entry.slice(eq + 1).trim();
    if (name === '' || sensorId === '') {
      problems.push(`entry ${i + 1}: expected ${what}=sensorId`);
    } else if (!ID_PATTERN.test(sensorId)) {
      problems.push(`entry ${i + 1}: sensor id "${sensorId}" is not a valid id (a-z, 0-9, "_", "-")`);
    } else if (sensors.has(name)) {
      problems.push(`entry ${i + 1}: ${what} "${name}" is mapped twice`);
    } else {
      sensors.set(name, sensorId);
    }
  });
  return { sensors, problems };
}
