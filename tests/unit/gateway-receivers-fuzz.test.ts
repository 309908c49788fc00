import { describe, expect, it } from 'vitest';
import {
  parseEspresenseTopic,
  toEspresenseSighting,
} from '../../gateway/src/espresense/espresense-message.ts';
import { parseApMap } from '../../gateway/src/meraki/ap-map.ts';
import { createMerakiCounts, readMerakiPost, toMerakiSightings } from '../../gateway/src/meraki/meraki-v3.ts';
import { createRecentRecords } from '../../gateway/src/meraki/recent-records.ts';
import { parseSensorPairs } from '../../gateway/src/sensor-pairs.ts';
import { createRng } from '../helpers/capture-writer.ts';
import { documentedWifiPost, SECRET } from '../helpers/meraki-v3-posts.ts';

// The text parsers of the receivers (Meraki posts, the AP map, ESPresense topics and payloads, the
// name=sensor pair lists) against 100,000 random and mutated inputs each: none may throw, and what
// they accept keeps its promises (readings carry a sensor from the map and a plausible RSSI).

const ITERATIONS = 100_000;
const random = createRng(20_261_123);
const int = (n: number) => Math.floor(random() * n);
const ALPHABET = '{}[]":,.-0123456789abcdefABCDEF \\ntrue false null nan e+ é\u0000';

function randomText(max: number): string {
  let s = '';
  const n = int(max);
  for (let i = 0; i < n; i++) s += ALPHABET[int(ALPHABET.length)];
  return s;
}

/** Flips, cuts, duplicates or splices characters of a valid text. */
function mutate(valid: string): string {
  const chars = [...valid];
  const edits = 1 + int(4);
  for (let e = 0; e < edits; e++) {
    const at = int(chars.length + 1);
    switch (int(5)) {
      case 0:
        chars.splice(at, 1 + int(8));
        break;
      case 1:
        chars.splice(at, 0, ...randomText(12));
        break;
      case 2:
        chars[at] = ALPHABET[int(ALPHABET.length)] as string;
        break;
      case 3:
        chars.splice(at, 0, ...chars.slice(int(chars.length), int(chars.length) + 20));
        break;
      default:
        chars.length = Math.min(chars.length, at);
    }
  }
  return chars.join('');
}

describe('receiver parsers under fuzz', () => {
  it(`Meraki posts: ${ITERATIONS.toLocaleString('en-US')} random and mutated bodies`, () => {
    const apSensors = new Map([
      ['aa:aa:aa:11:11:11', 'mr-entrance'],
      ['aa:aa:aa:22:22:22', 'mr-atrium'],
    ]);
    const recent = createRecentRecords();
    const counts = createMerakiCounts();
    const valid = JSON.stringify(documentedWifiPost());
    let accepted = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const body = i % 4 === 0 ? randomText(200) : mutate(valid);
      const read = readMerakiPost(body, SECRET);
      if (read.kind !== 'ok') continue;
      accepted++;
      const out = toMerakiSightings(
        read.post,
        { apSensors, recent, nowMs: Date.parse('2019-11-28T14:28:30Z') },
        counts,
      );
      for (const r of [...out.wifi, ...out.ble]) {
        expect([...apSensors.values()]).toContain(r.sensorId);
        expect(Number.isInteger(r.rssiDbm) && r.rssiDbm >= -127 && r.rssiDbm <= 20).toBe(true);
      }
    }
    expect(accepted).toBeGreaterThan(0); // the mutations reach the success path too
  });

  it(`ESPresense: ${ITERATIONS.toLocaleString('en-US')} random and mutated topics and payloads`, () => {
    const valid = JSON.stringify({
      id: 'f099b6123456',
      mac: 'f099b6123456',
      rssi: -66,
      'rssi@1m': -59,
      distance: 2.1,
    });
    let accepted = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const topicText = i % 3 === 0 ? randomText(60) : mutate('espresense/devices/f099b6123456/hall');
      const topic = parseEspresenseTopic(topicText, 'espresense');
      const payload = i % 5 === 0 ? randomText(120) : mutate(valid);
      const result = toEspresenseSighting(topic ?? { id: 'f099b6123456', room: 'hall' }, payload, {
        rooms: new Map([['hall', 's-hall']]),
        nowMs: 1_763_460_000_000,
      });
      if (!result.ok) continue;
      accepted++;
      expect(result.reading.mac !== undefined || result.reading.deviceKey !== undefined).toBe(true);
      expect(Number.isInteger(result.reading.rssiDbm)).toBe(true);
    }
    expect(accepted).toBeGreaterThan(0);
  });

  it(`AP maps and sensor pair lists: ${ITERATIONS.toLocaleString('en-US')} random and mutated texts`, () => {
    const map =
      'apMac,sensorId\naa:aa:aa:11:11:11,mr-entrance\n{"apMac":"aa-aa-aa-22-22-22","sensorId":"mr-atrium"}\n';
    for (let i = 0; i < ITERATIONS; i++) {
      const text = i % 2 === 0 ? mutate(map) : mutate('wlan0mon=entrance-a,wlan1mon=food-court');
      const parsed = parseApMap(text);
      for (const sensorId of parsed.apSensors.values())
        expect(sensorId).toMatch(/^[a-z0-9][a-z0-9_-]{0,62}$/);
      const pairs = parseSensorPairs(text, 'interface');
      for (const sensorId of pairs.sensors.values()) expect(sensorId).toMatch(/^[a-z0-9][a-z0-9_-]{0,62}$/);
    }
  });
});
