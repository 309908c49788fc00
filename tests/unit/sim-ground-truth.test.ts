import { describe, expect, it } from 'vitest';
import type { GroundTruth, TruthInterval, TruthMac, TruthVisit } from '../../simulators/src/ground-truth.ts';
import {
  renderTruthFiles,
  truthOccupancyPerMinute,
  truthPersonsPerDay,
  truthTransitions,
} from '../../simulators/src/ground-truth.ts';
import { loadShippedLayout } from '../../simulators/src/load-layout.ts';
import type { RawScaleReading } from '../../simulators/src/mall-sim.ts';
import { createMallSim } from '../../simulators/src/mall-sim.ts';

// One simulated Monday and Tuesday at Joy City with the default options, checked against itself
// (the ground truth is consistent) and against the behaviour issue 3 asks for.

const JOY_CITY = loadShippedLayout('joy-city');
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
const SHANGHAI_MS = 8 * HOUR_MS;
/** Monday 2025-06-09 and Tuesday 2025-06-10; local midnight in UTC. */
const DAYS = ['2025-06-09', '2025-06-10'];
const MONDAY_MS = Date.UTC(2025, 5, 9) - SHANGHAI_MS;
const START_MS = MONDAY_MS + 8 * HOUR_MS;
const END_MS = MONDAY_MS + 47 * HOUR_MS; // Tuesday 23:00
const local = (day: number, hour: number, minute = 0): number =>
  MONDAY_MS + day * 24 * HOUR_MS + hour * HOUR_MS + minute * MINUTE_MS;

const sensorById = JOY_CITY.sensorById;
const kindOfZone = new Map(JOY_CITY.zones.map((z) => [z.id, z.kind]));
const zoneIds = JOY_CITY.zones.map((z) => z.id);

interface BleSample {
  sensorId: string;
  heardAt: number;
  person: string;
}

const { truth, scale, bleSamples, bleBad, bleTotal, bleKinds } = (() => {
  const sim = createMallSim({ layout: JOY_CITY, seed: 2024, startMs: START_MS });
  const scaleReadings: RawScaleReading[] = [];
  const samples: BleSample[] = [];
  const bad: string[] = [];
  const kinds = new Set<string>();
  let total = 0;
  for (let t = START_MS + HOUR_MS; t <= END_MS; t += HOUR_MS) {
    const out = sim.stepAll(t);
    scaleReadings.push(...out.scale);
    total += out.ble.length;
    out.ble.forEach((s, i) => {
      const kind = sensorById.get(s.sensorId)?.kind;
      if (kind !== 'wifi+ble' && kind !== 'ble') bad.push(`${s.sensorId} is ${kind}`);
      const b = s.beacon;
      kinds.add(b.kind);
      const valid =
        b.kind === 'ibeacon'
          ? /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/.test(b.uuid)
          : /^[0-9a-f]{20}$/.test(b.namespace) && /^[0-9a-f]{12}$/.test(b.instance);
      if (!valid) bad.push(`bad beacon ${JSON.stringify(b)}`);
      if (i % 500 === 0) {
        // The beacon names its person: iBeacon major/minor, or the Eddystone instance.
        const n = b.kind === 'ibeacon' ? b.major * 65_536 + b.minor : Number.parseInt(b.instance, 16);
        samples.push({ sensorId: s.sensorId, heardAt: s.heardAt, person: `p${String(n).padStart(6, '0')}` });
      }
    });
  }
  return {
    truth: sim.truth(),
    scale: scaleReadings,
    bleSamples: samples,
    bleBad: bad,
    bleTotal: total,
    bleKinds: kinds,
  };
})();

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

const intervalsByPerson = groupBy(truth.intervals, (iv) => iv.person);
const macsByPerson = groupBy(truth.macs, (m) => m.person);
const visitsByPerson = groupBy(truth.visits, (v) => v.person);
const kindOfPerson = new Map(truth.visits.map((v) => [v.person, v.kind]));

/** The records of `items` (sorted by start) that fall within a visit. */
function within<T>(items: readonly T[] | undefined, startOf: (t: T) => number, v: TruthVisit): T[] {
  return (items ?? []).filter((item) => startOf(item) >= v.startMs && startOf(item) < v.endMs);
}

/** Persons whose interval covers instant t, computed directly from the intervals. */
function presentAt(t: number, intervals: readonly TruthInterval[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const iv of intervals) {
    if (iv.startMs <= t && (t < iv.endMs || (iv.open === true && t === iv.endMs))) {
      out.set(iv.zoneId, (out.get(iv.zoneId) ?? 0) + 1);
    }
  }
  return out;
}

function occupancyShare(at: number, category: string): number {
  const occupancy = truthOccupancyPerMinute(truth, zoneIds, at - MINUTE_MS, at);
  let total = 0;
  let matching = 0;
  for (const zone of JOY_CITY.zones) {
    if (zone.kind === 'outside') continue;
    const n = occupancy.get(zone.id)![0]!;
    total += n;
    if (zone.category === category) matching += n;
  }
  return matching / total;
}

describe('ground truth is self-consistent', () => {
  it('covers the run, sorted, with every kind of person', () => {
    expect(truth.startMs).toBe(START_MS);
    expect(truth.endMs).toBe(END_MS);
    expect(truth.intervals.length).toBeGreaterThan(50_000);
    const sorted = (xs: number[]) => xs.every((x, i) => i === 0 || x >= xs[i - 1]!);
    expect(sorted(truth.intervals.map((iv) => iv.startMs))).toBe(true);
    expect(sorted(truth.macs.map((m) => m.fromMs))).toBe(true);
    expect(sorted(truth.visits.map((v) => v.startMs))).toBe(true);
    expect(new Set(truth.visits.map((v) => v.kind))).toEqual(new Set(['shopper', 'passer-by', 'staff']));
    for (const v of truth.visits) expect(v.person).toMatch(/^p\d{6}$/);
  });

  it('matches truthOccupancyPerMinute against a direct count of the intervals, zone by zone', () => {
    const fromMs = START_MS + 17 * MINUTE_MS;
    const occupancy = truthOccupancyPerMinute(truth, zoneIds, fromMs, END_MS);
    const buckets = Math.ceil((END_MS - fromMs) / MINUTE_MS);
    for (const counts of occupancy.values()) expect(counts).toHaveLength(buckets);
    let checked = 0;
    for (let i = 0; i < buckets; i += 7) {
      const direct = presentAt(fromMs + (i + 1) * MINUTE_MS, truth.intervals);
      let sum = 0;
      let directSum = 0;
      for (const zoneId of zoneIds) {
        const n = occupancy.get(zoneId)![i]!;
        expect(n, `${zoneId} at bucket ${i}`).toBe(direct.get(zoneId) ?? 0);
        sum += n;
        directSum += direct.get(zoneId) ?? 0;
      }
      expect(sum).toBe(directSum);
      checked += sum;
    }
    expect(checked).toBeGreaterThan(10_000);
  });

  it('counts the persons still there in the last minute (open intervals run to the end)', () => {
    const last = truthOccupancyPerMinute(truth, zoneIds, END_MS - MINUTE_MS, END_MS);
    const total = [...last.values()].reduce((a, c) => a + c[0]!, 0);
    expect(total).toBe(truth.intervals.filter((iv) => iv.open === true).length);
    expect(total).toBeGreaterThan(0); // staff stay past closing; passers-by at 23:00
  });

  it('moves each person between adjacent zones only, contiguously within a visit', () => {
    const problems: string[] = [];
    let visits = 0;
    let placed = 0;
    for (const [person, personVisits] of visitsByPerson) {
      const intervals = intervalsByPerson.get(person) ?? [];
      for (const v of personVisits) {
        const at = `${person} visit at ${v.startMs}`;
        const stays = within(intervals, (iv) => iv.startMs, v);
        if (stays.length === 0) {
          problems.push(`${at}: no intervals`);
          continue;
        }
        if (stays[0]!.startMs !== v.startMs) problems.push(`${at}: first interval starts later`);
        if (stays.at(-1)!.endMs !== v.endMs) problems.push(`${at}: last interval ends before the visit`);
        for (let i = 1; i < stays.length; i++) {
          const a = stays[i - 1]!;
          const b = stays[i]!;
          if (b.startMs !== a.endMs) problems.push(`${at}: gap or overlap at ${a.endMs}`);
          if (b.zoneId === a.zoneId) problems.push(`${at}: two intervals in ${a.zoneId} in a row`);
          if (!JOY_CITY.neighbours.get(a.zoneId)?.includes(b.zoneId))
            problems.push(`${at}: ${a.zoneId} > ${b.zoneId} are not neighbours`);
        }
        for (const iv of stays) if (!(iv.endMs > iv.startMs)) problems.push(`${at}: empty interval`);
        placed += stays.length;
        visits++;
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
    expect(placed).toBe(truth.intervals.length);
    expect(visits).toBe(truth.visits.length);
  });

  it('gives every visit its phone MACs back to back, and marks only what is still going on as open', () => {
    const problems: string[] = [];
    for (const [person, personVisits] of visitsByPerson) {
      for (const v of personVisits) {
        const at = `${person} visit at ${v.startMs}`;
        const macs = within(macsByPerson.get(person), (m: TruthMac) => m.fromMs, v);
        if (macs[0]?.fromMs !== v.startMs) problems.push(`${at}: no MAC from the start`);
        if (macs.at(-1)?.toMs !== v.endMs) problems.push(`${at}: no MAC to the end`);
        for (let i = 1; i < macs.length; i++) {
          if (macs[i]!.fromMs !== macs[i - 1]!.toMs) problems.push(`${at}: MACs not back to back`);
        }
        for (const m of macs)
          if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(m.mac)) problems.push(`${at}: ${m.mac}`);
      }
    }
    for (const iv of truth.intervals) {
      if (iv.open === true ? iv.endMs !== END_MS : 'open' in iv)
        problems.push(`${iv.person}: open flag wrong`);
    }
    expect(problems.slice(0, 10)).toEqual([]);
    expect(truth.macs.length).toBeGreaterThan(truth.visits.length);
  });

  it('counts transitions as consecutive intervals within a visit', () => {
    const transitions = truthTransitions(truth);
    let total = 0;
    for (const [key, count] of transitions) {
      const [from, to] = key.split('>');
      expect(JOY_CITY.neighbours.get(from!)).toContain(to);
      total += count;
    }
    let expected = 0;
    for (const [person, personVisits] of visitsByPerson) {
      for (const v of personVisits)
        expected += within(intervalsByPerson.get(person), (iv) => iv.startMs, v).length - 1;
    }
    expect(total).toBe(expected);
    // The mall's doors are busy both ways.
    expect(transitions.get('l1-outside-s>l1-entrance-s')).toBeGreaterThan(100);
    expect(transitions.get('l1-entrance-s>l1-outside-s')).toBeGreaterThan(100);
  });

  it('counts distinct persons per day, by kind and in all', () => {
    const all = truthPersonsPerDay(truth);
    const byKind = (['shopper', 'passer-by', 'staff'] as const).map((k) => truthPersonsPerDay(truth, k));
    for (const day of DAYS) {
      const persons = new Set(truth.visits.filter((v) => v.day === day).map((v) => v.person));
      expect(all.get(day)).toBe(persons.size);
      expect(byKind.reduce((sum, m) => sum + (m.get(day) ?? 0), 0)).toBe(persons.size);
    }
    expect([...all.keys()]).toEqual([...all.keys()].sort());
  });

  it('renders the truth files with headers and one occupancy row per zone and minute', () => {
    const small: GroundTruth = {
      ...truth,
      endMs: START_MS + 3 * HOUR_MS,
      intervals: truth.intervals.filter((iv) => iv.startMs < START_MS + 3 * HOUR_MS),
    };
    const files = renderTruthFiles(small, zoneIds);
    expect([...files.keys()]).toEqual([
      'intervals.csv',
      'macs.csv',
      'visits.csv',
      'occupancy-minute.csv',
      'transitions.csv',
      'persons-per-day.csv',
    ]);
    expect(files.get('intervals.csv')!.split('\n')[0]).toBe('person,zone_id,start,end,start_ms,end_ms,open');
    const occupancy = files.get('occupancy-minute.csv')!.trimEnd().split('\n');
    expect(occupancy[0]).toBe('bucket_start,bucket_start_ms,zone_id,persons');
    expect(occupancy).toHaveLength(1 + 180 * zoneIds.length);
    expect(occupancy[1]).toMatch(/^2025-06-09T00:00:00\.000Z,\d+,b1-/);
    expect(files.get('persons-per-day.csv')).toContain('2025-06-09,staff,40\n2025-06-09,all,');
  });
});

describe('simulated behaviour', () => {
  const shopperVisits = truth.visits.filter((v) => v.kind === 'shopper');
  const startsBetween = (day: number, fromHour: number, toHour: number) =>
    shopperVisits.filter((v) => v.startMs >= local(day, fromHour) && v.startMs < local(day, toHour)).length;

  it('follows the weekday arrival curve: the lunch hour beats the opening hour, none when closed', () => {
    expect(startsBetween(0, 12, 13)).toBeGreaterThan(startsBetween(0, 10, 11) * 1.5);
    expect(startsBetween(1, 12, 13)).toBeGreaterThan(startsBetween(1, 10, 11) * 1.5);
    expect(startsBetween(0, 10, 11)).toBeGreaterThan(30);
    for (const v of shopperVisits) {
      const day = Math.floor((v.startMs - MONDAY_MS) / (24 * HOUR_MS));
      expect(v.startMs).toBeGreaterThanOrEqual(local(day, 10));
      expect(v.startMs).toBeLessThan(local(day, 21, 30));
      expect(v.endMs, `${v.person} leaves by closing`).toBeLessThanOrEqual(local(day, 22));
    }
  });

  it('fills the restaurants at lunch and the cinema in the evening', () => {
    expect(occupancyShare(local(0, 12, 30), 'food')).toBeGreaterThan(
      occupancyShare(local(0, 16), 'food') * 1.2,
    );
    expect(occupancyShare(local(1, 12, 30), 'food')).toBeGreaterThan(
      occupancyShare(local(1, 16), 'food') * 1.2,
    );
    expect(occupancyShare(local(0, 19, 30), 'cinema')).toBeGreaterThan(
      occupancyShare(local(0, 12), 'cinema'),
    );
  });

  it('keeps passers-by outside: one 10-60 s stay in an outside zone, twice as many as shoppers or so', () => {
    const passers = truth.visits.filter((v) => v.kind === 'passer-by');
    for (const v of passers) {
      const stays = within(intervalsByPerson.get(v.person), (iv) => iv.startMs, v);
      expect(stays).toHaveLength(1);
      expect(kindOfZone.get(stays[0]!.zoneId)).toBe('outside');
      if (stays[0]!.open !== true) {
        expect(v.endMs - v.startMs).toBeGreaterThanOrEqual(10_000);
        expect(v.endMs - v.startMs).toBeLessThanOrEqual(60_000);
      }
    }
    for (const iv of truth.intervals) {
      if (kindOfPerson.get(iv.person) === 'passer-by') expect(kindOfZone.get(iv.zoneId)).toBe('outside');
    }
    const ratio = passers.filter((v) => v.day === DAYS[0]).length / startsBetween(0, 0, 24);
    expect(ratio).toBeGreaterThan(1.5);
    expect(ratio).toBeLessThan(3.5);
  });

  it('has the staff in their shop from opening to closing, every day, in the same shop', () => {
    const staffDays = truthPersonsPerDay(truth, 'staff');
    expect([...staffDays]).toEqual(DAYS.map((d) => [d, 40]));
    const staff = [...visitsByPerson].filter(([, vs]) => vs[0]!.kind === 'staff');
    expect(staff).toHaveLength(40);
    for (const [person, visits] of staff) {
      const shops = new Set<string>();
      for (let day = 0; day < 2; day++) {
        const covering = (intervalsByPerson.get(person) ?? []).find(
          (iv) => iv.startMs <= local(day, 10) && iv.endMs >= local(day, 22),
        );
        expect(covering, `${person} on ${DAYS[day]}`).toBeDefined();
        expect(kindOfZone.get(covering!.zoneId)).toBe('store');
        shops.add(covering!.zoneId);
      }
      expect(shops.size).toBe(1);
      expect(visits).toHaveLength(2);
      // Universal MACs, the same on both days.
      const macs = new Set((macsByPerson.get(person) ?? []).map((m) => m.mac));
      expect(macs.size).toBe(1);
      expect(Number.parseInt([...macs][0]!.slice(0, 2), 16) & 0x02).toBe(0);
    }
  });

  it('brings regulars back on a later day under the same person id, some with the same MAC', () => {
    const returning = [...visitsByPerson].filter(
      ([, vs]) => vs[0]!.kind === 'shopper' && new Set(vs.map((v) => v.day)).size > 1,
    );
    expect(returning.length).toBeGreaterThan(50);
    const sameMac = returning.filter(([person, vs]) => {
      const macsOn = (day: string) =>
        new Set(
          vs
            .filter((v) => v.day === day)
            .flatMap((v) => within(macsByPerson.get(person), (m: TruthMac) => m.fromMs, v).map((m) => m.mac)),
        );
      const [a, b] = [macsOn(DAYS[0]!), macsOn(DAYS[1]!)];
      return [...a].some((mac) => b.has(mac));
    });
    expect(sameMac.length).toBeGreaterThan(returning.length * 0.4); // 70 % of phones are not randomized
    expect(sameMac.length).toBeLessThan(returning.length);
  });

  it('weighs members on the scales only, with believable weights and impedances', () => {
    expect(scale.length).toBeGreaterThan(5);
    const byMember = groupBy(scale, (r) => r.memberId);
    for (const r of scale) {
      expect(sensorById.get(r.sensorId)?.kind).toBe('scale');
      expect(r.memberId).toMatch(/^m\d{4}$/);
      expect(r.weightKg).toBeGreaterThanOrEqual(40);
      expect(r.weightKg).toBeLessThanOrEqual(140);
      expect(Math.round(r.weightKg * 10)).toBeCloseTo(r.weightKg * 10, 6);
      expect(r.impedanceOhm).toBeGreaterThanOrEqual(350);
      expect(r.impedanceOhm).toBeLessThanOrEqual(650);
      // Someone is standing in the scale's shop at that moment.
      const zone = sensorById.get(r.sensorId)!.zone;
      expect(presentAt(r.measuredAt, truth.intervals).get(zone) ?? 0).toBeGreaterThan(0);
    }
    for (const readings of byMember.values()) {
      const weights = readings.map((r) => r.weightKg);
      expect(Math.max(...weights) - Math.min(...weights)).toBeLessThan(2);
      expect(new Set(readings.map((r) => r.sensorId)).size).toBe(1);
    }
  });

  it('hears BLE tags on BLE sensors, from shoppers who are on that floor at that moment', () => {
    expect(bleBad).toEqual([]);
    expect([...bleKinds].sort()).toEqual(['eddystone-uid', 'ibeacon']); // tags and the mall app
    expect(bleTotal).toBeGreaterThan(10_000);
    expect(bleSamples.length).toBeGreaterThan(100);
    for (const s of bleSamples) {
      expect(kindOfPerson.get(s.person)).toBe('shopper');
      const iv = (intervalsByPerson.get(s.person) ?? []).find(
        (i) => i.startMs <= s.heardAt && s.heardAt < i.endMs,
      );
      expect(iv, `${s.person} at ${s.heardAt}`).toBeDefined();
      expect(JOY_CITY.zoneById.get(iv!.zoneId)!.floor).toBe(sensorById.get(s.sensorId)!.floor);
    }
  });
});
