import { zonedTimeToUtc } from '../../core/src/local-days.ts';
import {
  type GroundTruth,
  truthOccupancyPerMinute,
  truthTransitions,
} from '../../simulators/src/ground-truth.ts';
import { createMallSim } from '../../simulators/src/mall-sim.ts';
import { runEngineEval } from './engine-eval.ts';

// Where the engine's errors come from (a diagnostic beside the scores, not a metric): the quick
// engine eval's run (same arguments as engine-eval.ts), then
//   - every true person-minute inside the mall that the zone-minute accuracy misses, classed by
//     what the person's phone did around it (heard within 3 min, silent for longer, not heard
//     yet in the visit, not heard again) and by what the engine wrote (no stay, a wrong zone);
//   - every estimated stay-minute that counts someone where they were not (occupancy over-counts);
//   - occupancy over- and under-counts and stay time per zone kind, and per 10 minutes;
//   - the flow pairs furthest from the overall estimated/true ratio;
//   - what each counted visitor device is (a passer-by, a second device of one person).
//
//   npx tsx eval/src/error-breakdown.ts [--seed 42] [--from 11:00] [--hours 2] [--oracle-zone 1] ...

const MINUTE_MS = 60_000;
const SKIP_MS = 5 * MINUTE_MS; // the eval's warm-up, not scored

const argv = process.argv.slice(2);
const r = runEngineEval(argv);
const args = new Map<string, string>();
for (let i = 0; i < argv.length; i += 2) args.set(argv[i]!, argv[i + 1] ?? '');
const { layout, truth, fromMs, toMs, estimates } = r;
const scoredFromMs = fromMs + SKIP_MS;
const kindOf = new Map(layout.zones.map((z) => [z.id, z.kind]));
const outside = new Set(layout.zones.filter((z) => z.kind === 'outside').map((z) => z.id));
const out = (line: string) => process.stdout.write(`${line}\n`);
const groupBy = <T>(xs: readonly T[], key: (x: T) => string) => {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const list = m.get(key(x));
    if (list) list.push(x);
    else m.set(key(x), [x]);
  }
  return m;
};
const tally = () => {
  const m = new Map<string, number>();
  return {
    add: (k: string) => m.set(k, (m.get(k) ?? 0) + 1),
    print: (total?: number) => {
      for (const [k, n] of [...m].sort((a, b) => b[1] - a[1])) {
        const share = total === undefined ? '' : `${((100 * n) / total).toFixed(2).padStart(6)} %  `;
        out(`${String(n).padStart(6)}  ${share}${k}`);
      }
    },
    sum: () => [...m.values()].reduce((a, b) => a + b, 0),
  };
};

// Every probe burst's time per MAC, from a twin of the simulation.
const heard = new Map<string, number[]>();
{
  const date = args.get('--date') ?? '2026-11-18';
  const opensMs = zonedTimeToUtc(date, '10:00', layout.timezone);
  const twin = createMallSim({
    layout,
    seed: Number(args.get('--seed') ?? 42),
    startMs: Math.min(opensMs, fromMs),
  });
  twin.stepAll(fromMs);
  for (const s of twin.stepAll(toMs).wifi) {
    const list = heard.get(s.mac) ?? [];
    if (list.length === 0 || s.heardAt - list[list.length - 1]! > 3_000) list.push(s.heardAt);
    heard.set(s.mac, list);
  }
}
const macsOf = groupBy(truth.macs, (m) => m.person);
const personOfMac = new Map(truth.macs.map((m) => [m.mac, m.person]));
const intervalsOf = groupBy(truth.intervals, (iv) => iv.person);
const visitsOf = groupBy(truth.visits, (v) => v.person);
const staysOf = groupBy(estimates.stays, (s) => s.device);
const macAt = (person: string, t: number) =>
  macsOf.get(person)?.find((m) => m.fromMs <= t && t < m.toMs)?.mac;
const heardTimesOf = (person: string) =>
  (macsOf.get(person) ?? [])
    .flatMap((m) => (heard.get(m.mac) ?? []).filter((h) => m.fromMs <= h && h < m.toMs))
    .sort((a, b) => a - b);

{
  const misses = tally();
  let total = 0;
  for (const iv of truth.intervals) {
    if (outside.has(iv.zoneId)) continue;
    const first = Math.max(scoredFromMs, Math.ceil(iv.startMs / MINUTE_MS) * MINUTE_MS);
    for (let t = first; t < Math.min(iv.endMs, toMs); t += MINUTE_MS) {
      total++;
      const mac = macAt(iv.person, t);
      const stay =
        mac === undefined ? undefined : staysOf.get(mac)?.find((s) => s.startMs <= t && t < s.endMs);
      if (stay?.zoneId === iv.zoneId) continue;
      const v = visitsOf.get(iv.person)?.find((x) => x.startMs <= t && t < x.endMs);
      const h = heardTimesOf(iv.person).filter((x) => v !== undefined && x >= v.startMs && x < v.endMs);
      const prev = h.filter((x) => x <= t).pop();
      const next = h.find((x) => x > t);
      const when =
        prev === undefined
          ? 'not heard yet in the visit'
          : next === undefined
            ? 'not heard again in the visit (or the window)'
            : next - prev > 10 * MINUTE_MS
              ? 'in a silence of over 10 min'
              : next - prev > 3 * MINUTE_MS
                ? 'in a gap of 3-10 min'
                : 'heard within 3 min';
      const otherMac = (macsOf.get(iv.person) ?? []).some(
        (m) =>
          m.mac !== mac &&
          staysOf.get(m.mac)?.some((s) => s.startMs <= t && t < s.endMs && s.zoneId === iv.zoneId),
      );
      const what =
        stay !== undefined
          ? `wrong zone (true ${kindOf.get(iv.zoneId)}, estimated ${kindOf.get(stay.zoneId)})`
          : otherMac
            ? 'no stay; another MAC of the person has it (rotation edge)'
            : (heard.get(mac ?? '')?.length ?? 0) === 0
              ? 'no stay; the MAC in use was never heard'
              : 'no stay';
      misses.add(`${what} | ${when}`);
    }
  }
  out(`zone-minute misses: ${misses.sum()} of ${total} person-minutes`);
  misses.print(total);
}

{
  const extra = tally();
  for (const s of estimates.stays) {
    const person = personOfMac.get(s.device);
    if (person === undefined) continue;
    for (let t = Math.ceil(s.startMs / MINUTE_MS) * MINUTE_MS; t < s.endMs; t += MINUTE_MS) {
      if (t <= scoredFromMs || t > toMs) continue;
      const iv = intervalsOf.get(person)?.find((x) => x.startMs <= t && t < x.endMs);
      if (iv === undefined) {
        const before = visitsOf.get(person)?.some((x) => x.startMs > t && x.startMs - t < 10 * MINUTE_MS);
        extra.add(
          `${before ? 'before the visit began' : 'after the visit ended'} (estimated ${kindOf.get(s.zoneId)})`,
        );
      } else if (macAt(person, t) !== s.device)
        extra.add('the MAC was not (or no longer) in use (rotation edge)');
      else if (iv.zoneId !== s.zoneId)
        extra.add(`wrong zone (true ${kindOf.get(iv.zoneId)}, estimated ${kindOf.get(s.zoneId)})`);
    }
  }
  out('\nestimated stay-minutes where the person was not:');
  extra.print();
}

{
  const window = {
    ...truth,
    intervals: truth.intervals.filter((iv) => iv.endMs > scoredFromMs && iv.startMs < toMs),
  };
  const zoneIds = layout.zones.map((z) => z.id);
  const trueOcc = truthOccupancyPerMinute(window, zoneIds, scoredFromMs, toMs);
  const byKind = new Map<string, [over: number, under: number, truth: number]>();
  const byBlock: [over: number, under: number, truth: number][] = [];
  for (const z of zoneIds) {
    const k = byKind.get(kindOf.get(z)!) ?? [0, 0, 0];
    byKind.set(kindOf.get(z)!, k);
    (trueOcc.get(z) ?? []).forEach((tr, i) => {
      const est = estimates.occupancy.get(z)?.get(scoredFromMs + i * MINUTE_MS) ?? 0;
      const b = byBlock[Math.floor(i / 10)] ?? [0, 0, 0];
      byBlock[Math.floor(i / 10)] = b;
      for (const acc of [k, b]) {
        acc[0] += Math.max(0, est - tr);
        acc[1] += Math.max(0, tr - est);
        acc[2] += tr;
      }
    });
  }
  const row = (name: string, xs: number[]) =>
    out(`  ${name.padEnd(12)}${xs.map((x) => String(x).padStart(8)).join('')}`);
  out('\noccupancy error by zone kind:\n                  over   under    true');
  for (const [k, xs] of byKind) row(k, xs);
  out('occupancy error per 10 minutes from the scored start:\n                  over   under    true');
  for (const [i, xs] of byBlock.entries()) row(`+${i * 10} min`, xs);

  const clip = (a: number, b: number) => Math.max(0, Math.min(b, toMs) - Math.max(a, scoredFromMs));
  const time = new Map<string, [trueMin: number, estMin: number]>();
  for (const iv of window.intervals)
    (time.get(kindOf.get(iv.zoneId)!) ??
      time.set(kindOf.get(iv.zoneId)!, [0, 0]).get(kindOf.get(iv.zoneId)!)!)[0] +=
      clip(iv.startMs, iv.endMs) / MINUTE_MS;
  for (const s of estimates.stays)
    (time.get(kindOf.get(s.zoneId)!) ??
      time.set(kindOf.get(s.zoneId)!, [0, 0]).get(kindOf.get(s.zoneId)!)!)[1] +=
      clip(s.startMs, s.endMs) / MINUTE_MS;
  out('stay time by zone kind (minutes):\n                  true    est.');
  for (const [k, xs] of time) row(k, xs.map(Math.round));
}

{
  const trueFlows = truthTransitions({
    ...truth,
    intervals: truth.intervals.filter((iv) => iv.endMs > fromMs && iv.startMs < toMs),
  });
  const estFlows = new Map<string, number>();
  for (const list of staysOf.values()) {
    const sorted = [...list].sort((a, b) => a.startMs - b.startMs);
    for (let i = 1; i < sorted.length; i++) {
      const [a, b] = [sorted[i - 1]!, sorted[i]!];
      if (a.endMs !== b.startMs || a.zoneId === b.zoneId || b.startMs < scoredFromMs || b.startMs >= toMs)
        continue;
      estFlows.set(`${a.zoneId}>${b.zoneId}`, (estFlows.get(`${a.zoneId}>${b.zoneId}`) ?? 0) + 1);
    }
  }
  const keys = [...new Set([...trueFlows.keys(), ...estFlows.keys()])];
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const ratio = sum(estFlows) / sum(trueFlows);
  const residual = (k: string) => (estFlows.get(k) ?? 0) - ratio * (trueFlows.get(k) ?? 0);
  out(`\nflow pairs furthest from the overall ratio ${ratio.toFixed(3)} (true, estimated):`);
  for (const k of keys.sort((a, b) => Math.abs(residual(b)) - Math.abs(residual(a))).slice(0, 15)) {
    out(
      `  ${k.padEnd(44)}${String(trueFlows.get(k) ?? 0).padStart(6)}${String(estFlows.get(k) ?? 0).padStart(6)}`,
    );
  }
}

{
  const kindOfPerson = new Map((truth as GroundTruth).visits.map((v) => [v.person, v.kind]));
  const orphans = new Set(estimates.visits.filter((v) => v.orphan).map((v) => v.device));
  const counted = new Map<string, Set<string>>();
  for (const v of estimates.visits) {
    if (v.passerBy) continue;
    const person = personOfMac.get(v.device) ?? v.device;
    (counted.get(person) ?? counted.set(person, new Set()).get(person)!).add(v.device);
  }
  let passers = 0;
  let extra = 0;
  let extraOrphans = 0;
  for (const [person, devices] of counted) {
    if (kindOfPerson.get(person) === 'passer-by') passers += devices.size;
    else {
      extra += devices.size - 1;
      extraOrphans += [...devices].slice(1).filter((d) => orphans.has(d)).length;
    }
  }
  out(
    `\nvisitor devices counted: ${[...counted.values()].reduce((a, s) => a + s.size, 0)}; of passers-by ${passers}; ` +
      `second and later devices of one person ${extra} (orphans among them ${extraOrphans})`,
  );
}
