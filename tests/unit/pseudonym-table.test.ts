import { describe, expect, it } from 'vitest';
import {
  acquirePseudonym,
  createPseudonymTable,
  findPseudonym,
  pseudonymText,
  releasePseudonym,
  retainPseudonym,
} from '../../core/src/pseudonym-table.ts';

describe('pseudonym table', () => {
  it('interns hex pseudonyms and other strings, and rebuilds their text', () => {
    const t = createPseudonymTable();
    const hex = '00ff10a9bc0d4e5f60718293a4b5c6d7';
    const a = acquirePseudonym(t, hex);
    const b = acquirePseudonym(t, 'd1');
    const upper = acquirePseudonym(t, hex.toUpperCase());
    expect(new Set([a, b, upper]).size).toBe(3);
    expect(acquirePseudonym(t, hex)).toBe(a);
    expect(pseudonymText(t, a)).toBe(hex);
    expect(pseudonymText(t, b)).toBe('d1');
    expect(pseudonymText(t, upper)).toBe(hex.toUpperCase());
    expect(findPseudonym(t, 'd2')).toBe(-1);
    // U+0130 and U+0161: their low 7 bits read as '0' and 'a'; they are still not hex digits.
    const wide = `${hex.slice(0, 30)}\u0130\u0161`;
    const w = acquirePseudonym(t, wide);
    expect(w).not.toBe(a);
    expect(pseudonymText(t, w)).toBe(wide);
    expect(findPseudonym(t, `${hex.slice(0, 30)}0a`)).toBe(-1);
  });

  it('frees an id with its last holder and reuses it', () => {
    const t = createPseudonymTable();
    const a = acquirePseudonym(t, 'ffffffffffffffffffffffffffffffff');
    retainPseudonym(t, a);
    releasePseudonym(t, a);
    expect(findPseudonym(t, 'ffffffffffffffffffffffffffffffff')).toBe(a);
    releasePseudonym(t, a);
    expect(findPseudonym(t, 'ffffffffffffffffffffffffffffffff')).toBe(-1);
    expect(acquirePseudonym(t, 'x')).toBe(a);
  });

  it('agrees with a Map through growth, collisions and deletions', () => {
    const t = createPseudonymTable();
    const held = new Map<string, { id: number; holders: number }>();
    let x = 12345;
    const next = () => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x;
    };
    const names = Array.from({ length: 5_000 }, () =>
      Array.from({ length: 4 }, () => next().toString(16).padStart(8, '0')).join(''),
    );
    for (let step = 0; step < 100_000; step++) {
      const name = names[next() % names.length]!;
      const h = held.get(name);
      if (h !== undefined && next() % 2 === 0) {
        releasePseudonym(t, h.id);
        if (--h.holders === 0) held.delete(name);
      } else {
        const id = acquirePseudonym(t, name);
        if (h !== undefined) {
          if (id !== h.id) throw new Error(`${name}: id ${id}, held as ${h.id}`);
          h.holders++;
        } else held.set(name, { id, holders: 1 });
      }
    }
    for (const name of names) expect(findPseudonym(t, name)).toBe(held.get(name)?.id ?? -1);
    for (const [name, h] of held) expect(pseudonymText(t, h.id)).toBe(name);
  });
});
