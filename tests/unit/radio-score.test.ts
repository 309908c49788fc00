import { describe, expect, it } from 'vitest';
import { createRadioMap, type RadioMap, scoreZone } from '../../core/src/radio-map.ts';
import { RADIO_SCORE_WASM } from '../../core/src/radio-score-wasm.ts';
import { assembleRadioScore } from '../../scripts/radio-score-source.ts';
import { loadShippedLayout } from '../../simulators/src/load-layout.ts';
import { createRng } from '../../simulators/src/rng.ts';

// The radio map's scoring loop runs as WebAssembly (core/src/radio-score.wat): the committed
// bytes must be what the source assembles to, and its scores the plain arithmetic's to the bit.

/** The score as radio-map.ts describes it, written plainly. */
function reference(map: RadioMap, zone: number, sensors: number[], rssi: number[]): number {
  const slot = map.zoneSlot[zone]!;
  if (sensors.some((s) => slot[s]! < 0)) return Number.NEGATIVE_INFINITY;
  const width = map.zoneWidth[zone]!;
  const levels = map.zoneLevels[zone]!;
  let best = Number.POSITIVE_INFINITY;
  for (let row = 0; row < levels.length; row += width) {
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < sensors.length; i++) {
      const e = rssi[i]! - levels[row + slot[sensors[i]!]!]!;
      sum += e;
      sumSq += e * e;
    }
    const sse = sumSq - (sum * sum) / sensors.length;
    if (sse < best) best = sse;
  }
  return best === Number.POSITIVE_INFINITY ? Number.NEGATIVE_INFINITY : -best * map.inverseTwoVar;
}

describe('radio map scoring (WebAssembly)', () => {
  it('is what radio-score.wat assembles to (regenerate with npm run build:wasm)', async () => {
    expect(await assembleRadioScore()).toBe(RADIO_SCORE_WASM);
  });

  it('scores every zone exactly as the plain arithmetic does, out-of-range points included', () => {
    const map = createRadioMap(loadShippedLayout('joy-city'));
    const rng = createRng(7);
    let finite = 0;
    let ruledOut = 0;
    for (let b = 0; b < 400; b++) {
      // A burst heard by sensors around one zone, with readings of any strength.
      const home = Math.floor(rng.next() * map.zoneSlot.length);
      const sensors: number[] = [];
      map.zoneSlot[home]!.forEach((c, k) => {
        if (c >= 0 && sensors.length < 12 && rng.next() < 0.5) sensors.push(k);
      });
      if (sensors.length === 0) continue;
      const rssi = sensors.map(() => -40 - Math.round(rng.next() * 50));
      for (let z = 0; z < map.zoneSlot.length; z++) {
        const got = scoreZone(map, z, sensors, rssi);
        expect(Object.is(got, reference(map, z, sensors, rssi))).toBe(true);
        if (Number.isFinite(got)) finite++;
        else ruledOut++;
      }
    }
    expect(finite).toBeGreaterThan(1_000);
    expect(ruledOut).toBeGreaterThan(1_000);
  });
});
