import { describe, expect, it } from 'vitest';
import { addDevice, burstOf, createDeviceTable, dropBurst, findDevice } from '../../core/src/device-table.ts';
import { createPseudonymTable } from '../../core/src/pseudonym-table.ts';

describe('device table pools', () => {
  it('renumber a pool once most of it is free, the lent records following their devices', () => {
    const t = createDeviceTable(createPseudonymTable());
    const n = 40_000;
    for (let i = 0; i < n; i++) {
      const d = addDevice(t, `d${i}`, false);
      const b = burstOf(t, d);
      b.count = 1;
      b.zones[0] = i;
    }
    expect(t.bursts.records.length).toBe(n);
    const kept = [7, 12_345, 39_999];
    for (let i = 0; i < n; i++) if (!kept.includes(i)) dropBurst(t, findDevice(t, `d${i}`));
    expect(t.bursts.records.length).toBeLessThan(n / 2);
    expect(t.bursts.free.length).toBeLessThan(n / 2);
    for (const i of kept) {
      const d = findDevice(t, `d${i}`);
      expect(t.burst[d]).toBeGreaterThanOrEqual(0);
      expect(t.bursts.owner[t.burst[d]!]).toBe(d);
      expect(burstOf(t, d).zones[0]).toBe(i);
    }
    // Free indices are free, and lent anew without meeting a lent record.
    const d = addDevice(t, 'new', false);
    const b = burstOf(t, d);
    expect(b.count).toBe(0);
    expect(t.bursts.owner[t.burst[d]!]).toBe(d);
    for (const i of kept) expect(burstOf(t, findDevice(t, `d${i}`)).zones[0]).toBe(i);
  });
});
