import { describe, expect, it } from 'vitest';
import { deviceSortKey } from '../../core/src/pending-queue.ts';

// Readings that share a time are applied in device order; the key must order pseudonyms exactly
// as their text does wherever it differs, or results would change with the key.
describe('deviceSortKey', () => {
  it('orders 32-digit lowercase hex pseudonyms as their text whenever two keys differ', () => {
    let x = 987654321;
    const hex = () => {
      let s = '';
      for (let i = 0; i < 32; i++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        // Few distinct leading digits, so many pairs share their key and fall back to text.
        s += (i < 8 ? (x >>> 16) % 3 : (x >>> 16) % 16).toString(16);
      }
      return s;
    };
    const names = Array.from({ length: 400 }, hex);
    for (const a of names) {
      for (const b of names.slice(0, 50)) {
        const ka = deviceSortKey(a);
        const kb = deviceSortKey(b);
        if (ka !== kb) expect(Math.sign(ka - kb)).toBe(a < b ? -1 : 1);
      }
    }
    expect(deviceSortKey('ffffffff000000000000000000000000')).toBe(0xffffffff);
  });

  it('gives -1 (compare as text) for anything else', () => {
    expect(deviceSortKey('d1')).toBe(-1);
    expect(deviceSortKey('ABCDEF01000000000000000000000000')).toBe(-1);
    expect(deviceSortKey('abcdefg1000000000000000000000000')).toBe(-1);
  });
});
