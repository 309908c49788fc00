// Device pseudonyms interned as small integer ids (issue 4: ≤ 300 B of live state per device at
// 1,000,000 devices). A pseudonym as gateways make it (core/src/privacy.ts: 32 lowercase hex
// characters) is kept as its 16 bytes (4 Uint32 words) in a growable arena, found through an
// open-addressing hash index (linear probing, backward-shift deletion); a V8 string of it took
// ~48 B and each Map keyed by it ~29 B more per entry. Any other string (tests use 'd1'...) goes
// to a fallback Map. The text is rebuilt only when output needs it.
//
// An id lives while something holds it: each holder (a device slot, an open session as its key,
// as its visit's first device or as its stay's device) retains it and releases it when done; at
// 0 the id is freed and may be reused at once. Nothing else stores ids (the event queues name
// device slots, which have their own quarantine), so a reused id cannot meet a stale reference.

export interface PseudonymTable {
  /** 4 words per id: the pseudonym's 32 hex digits, 8 per word, most significant first. */
  words: Uint32Array;
  /** Holders per id (0: free). */
  refs: Int32Array;
  /** id + 1 of each hex pseudonym, at its hash's slot or after (0: empty). Length a power of 2. */
  slots: Int32Array;
  /** Hex pseudonyms in `slots`. */
  hexCount: number;
  /** Ids in use or freed, and the columns' length in ids. */
  used: number;
  capacity: number;
  free: number[];
  /** Pseudonyms not 32 lowercase hex characters. */
  fallback: Map<string, number>;
  /** Their text by id (empty while every pseudonym is hex). */
  fallbackText: (string | undefined)[];
}

const INITIAL_IDS = 1024;
const scratch = new Uint32Array(4);

export function createPseudonymTable(): PseudonymTable {
  return {
    words: new Uint32Array(INITIAL_IDS * 4),
    refs: new Int32Array(INITIAL_IDS),
    slots: new Int32Array(INITIAL_IDS * 2),
    hexCount: 0,
    used: 0,
    capacity: INITIAL_IDS,
    free: [],
    fallback: new Map(),
    fallbackText: [],
  };
}

/** Value of each lowercase hex digit's char code; -1 for any other code below 128. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let c = 0; c < 10; c++) HEX_VALUE[48 + c] = c;
for (let c = 0; c < 6; c++) HEX_VALUE[97 + c] = 10 + c;

/** The value of a lowercase hex digit's char code, -1 for any other. */
export function hexDigit(c: number): number {
  return c < 128 ? HEX_VALUE[c]! : -1;
}

/** Parses 32 lowercase hex characters into `scratch`; false for anything else. */
function parseHex(s: string): boolean {
  if (s.length !== 32) return false;
  // Negative once any character is not a hex digit (-1 in the table) or not ASCII (127 - c < 0).
  let bad = 0;
  for (let w = 0; w < 4; w++) {
    let x = 0;
    for (let i = w * 8; i < w * 8 + 8; i++) {
      const c = s.charCodeAt(i);
      const v = HEX_VALUE[c & 127]!;
      bad |= v | (127 - c);
      x = (x << 4) | v;
    }
    scratch[w] = x;
  }
  return bad >= 0;
}

function hashWords(w0: number, w1: number, w2: number, w3: number): number {
  let h = Math.imul(w0 ^ (w1 >>> 7), 0x9e3779b1);
  h = Math.imul(h ^ w2 ^ (h >>> 15), 0x85ebca6b);
  return (h ^ w3 ^ (h >>> 13)) >>> 0;
}

function homeOf(t: PseudonymTable, id: number): number {
  const w = t.words;
  const o = id * 4;
  return hashWords(w[o]!, w[o + 1]!, w[o + 2]!, w[o + 3]!) & (t.slots.length - 1);
}

/** The slot holding the pseudonym in `scratch`, or the empty slot where it would go. */
function probe(t: PseudonymTable): number {
  const mask = t.slots.length - 1;
  const w = t.words;
  const s0 = scratch[0]!;
  const s1 = scratch[1]!;
  const s2 = scratch[2]!;
  const s3 = scratch[3]!;
  let i = hashWords(s0, s1, s2, s3) & mask;
  for (;;) {
    const e = t.slots[i]!;
    if (e === 0) return i;
    const o = (e - 1) * 4;
    if (w[o] === s0 && w[o + 1] === s1 && w[o + 2] === s2 && w[o + 3] === s3) return i;
    i = (i + 1) & mask;
  }
}

function rehash(t: PseudonymTable, size: number): void {
  t.slots = new Int32Array(size);
  const mask = size - 1;
  for (let id = 0; id < t.used; id++) {
    if (t.refs[id] === 0 || fallbackTextOf(t, id) !== undefined) continue;
    let i = homeOf(t, id);
    while (t.slots[i] !== 0) i = (i + 1) & mask;
    t.slots[i] = id + 1;
  }
}

function fallbackTextOf(t: PseudonymTable, id: number): string | undefined {
  return id < t.fallbackText.length ? t.fallbackText[id] : undefined;
}

function newId(t: PseudonymTable): number {
  let id = t.free.pop();
  if (id === undefined) {
    if (t.used === t.capacity) {
      const n = t.capacity * 2;
      const words = new Uint32Array(n * 4);
      words.set(t.words);
      t.words = words;
      const refs = new Int32Array(n);
      refs.set(t.refs);
      t.refs = refs;
      t.capacity = n;
    }
    id = t.used++;
  }
  return id;
}

/** The id of `pseudonym`, or -1 when nothing holds it. */
export function findPseudonym(t: PseudonymTable, pseudonym: string): number {
  if (!parseHex(pseudonym)) return t.fallback.get(pseudonym) ?? -1;
  return t.slots[probe(t)]! - 1;
}

/** The id of `pseudonym`, interned if new, with one more holder (release it with `releasePseudonym`). */
export function acquirePseudonym(t: PseudonymTable, pseudonym: string): number {
  if (!parseHex(pseudonym)) {
    let id = t.fallback.get(pseudonym);
    if (id === undefined) {
      id = newId(t);
      t.fallback.set(pseudonym, id);
      t.fallbackText[id] = pseudonym;
    }
    t.refs[id]!++;
    return id;
  }
  const i = probe(t);
  const e = t.slots[i]!;
  if (e !== 0) {
    t.refs[e - 1]!++;
    return e - 1;
  }
  const id = newId(t);
  t.words.set(scratch, id * 4);
  t.slots[i] = id + 1;
  t.refs[id] = 1;
  // Load ≤ 3/4: 4-8 B of index per pseudonym.
  if (++t.hexCount * 4 > t.slots.length * 3) rehash(t, t.slots.length * 2);
  return id;
}

/** One more holder of `id`. */
export function retainPseudonym(t: PseudonymTable, id: number): void {
  t.refs[id]!++;
}

/** One holder less of `id`; with none left the id is freed. */
export function releasePseudonym(t: PseudonymTable, id: number): void {
  if (--t.refs[id]! > 0) return;
  const text = fallbackTextOf(t, id);
  if (text !== undefined) {
    t.fallback.delete(text);
    t.fallbackText[id] = undefined;
  } else {
    const w = t.words;
    const o = id * 4;
    scratch[0] = w[o]!;
    scratch[1] = w[o + 1]!;
    scratch[2] = w[o + 2]!;
    scratch[3] = w[o + 3]!;
    const mask = t.slots.length - 1;
    let i = probe(t);
    // Backward-shift deletion: move later entries of the run up into the hole when their home
    // does not lie cyclically in (hole, their slot].
    for (let j = (i + 1) & mask; t.slots[j] !== 0; j = (j + 1) & mask) {
      const k = homeOf(t, t.slots[j]! - 1);
      if (i <= j ? i < k && k <= j : i < k || k <= j) continue;
      t.slots[i] = t.slots[j]!;
      i = j;
    }
    t.slots[i] = 0;
    t.hexCount--;
  }
  t.free.push(id);
}

/** The pseudonym of `id` as text. */
export function pseudonymText(t: PseudonymTable, id: number): string {
  const text = fallbackTextOf(t, id);
  if (text !== undefined) return text;
  const w = t.words;
  const o = id * 4;
  return (
    w[o]!.toString(16).padStart(8, '0') +
    w[o + 1]!.toString(16).padStart(8, '0') +
    w[o + 2]!.toString(16).padStart(8, '0') +
    w[o + 3]!.toString(16).padStart(8, '0')
  );
}

/** `byId` long enough to hold `id` (doubled as needed; new entries -1): a column indexed by pseudonym id. */
export function coverId(byId: Int32Array, id: number): Int32Array {
  if (id < byId.length) return byId;
  let n = byId.length * 2;
  while (n <= id) n *= 2;
  const bigger = new Int32Array(n).fill(-1);
  bigger.set(byId);
  return bigger;
}
