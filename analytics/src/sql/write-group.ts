import type pg from 'pg';
import type { AnyBatch, BleReading, ScaleReading, WifiReading } from '../../../core/src/messages.ts';
import { copySightings, type SightingsWrite, sightingCopyLines } from './copy-sightings.ts';
import type { DeadLetter } from './dead-letter.ts';

// A commit group: the batches and dead letters of several MQTT messages written in one
// transaction, each statement over all of them (unnest arrays): the ledger claims, the sightings
// (one COPY where the database carries it, see `copy-sightings.ts`), the weigh-ins and the dead
// letters. A batch whose (mall, gateway, seq) is already in the ledger, or appears earlier in the
// same group, writes nothing.

export interface GroupBatch {
  mallId: string;
  gatewayId: string;
  kind: 'wifi' | 'ble' | 'scale';
  batch: AnyBatch;
}

const CLAIM_SQL = `INSERT INTO ingested_batches (mall_id, gateway_id, seq, kind, readings, sent_at)
  SELECT m, g, s, k, n, to_timestamp(t / 1000)
  FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::int[], $6::double precision[]) AS u(m, g, s, k, n, t)
  ON CONFLICT (mall_id, gateway_id, seq) DO NOTHING
  RETURNING mall_id, gateway_id, seq`;

// One statement per (mall, gateway, kind) in the group, with those as scalars: fewer arrays to
// send and parse than one statement with them per row. Without any 802.11 details in the rows,
// the shorter form leaves those columns NULL.
const SIGHTINGS_SQL = `INSERT INTO sightings (time, mall_id, gateway_id, sensor_id, kind, device, rssi_dbm, randomized, frame_seq, ie_fingerprint)
  SELECT to_timestamp(t / 1000), $1, $2, s, $3, d, r, z, q, f
  FROM unnest($4::double precision[], $5::text[], $6::text[], $7::smallint[], $8::boolean[], $9::smallint[], $10::text[])
    AS u(t, s, d, r, z, q, f)`;
const SIGHTINGS_PLAIN_SQL = `INSERT INTO sightings (time, mall_id, gateway_id, sensor_id, kind, device, rssi_dbm, randomized)
  SELECT to_timestamp(t / 1000), $1, $2, s, $3, d, r, z
  FROM unnest($4::double precision[], $5::text[], $6::text[], $7::smallint[], $8::boolean[]) AS u(t, s, d, r, z)`;

const SCALES_SQL = `INSERT INTO scale_readings (time, mall_id, gateway_id, sensor_id, member_id, weight_kg, impedance_ohm, body_fat_pct)
  SELECT to_timestamp(t / 1000), m, g, s, u, w, i, f
  FROM unnest($1::double precision[], $2::text[], $3::text[], $4::text[], $5::text[], $6::real[], $7::real[], $8::real[])
    AS x(t, m, g, s, u, w, i, f)`;

const DEAD_LETTERS_SQL = `INSERT INTO dead_letters (topic, mall_id, gateway_id, reason, payload)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])`;

/** A batch's ledger key, (mall, gateway, seq), as one string. */
export const keyOf = (mallId: string, gatewayId: string, seq: number | string) =>
  `${mallId}\u0000${gatewayId}\u0000${seq}`;

/** Claims and writes the group inside the caller's transaction; returns which batches were fresh. */
export async function writeGroup(
  client: pg.ClientBase,
  batches: readonly GroupBatch[],
  deadLetters: readonly DeadLetter[],
  sightingsWrite: SightingsWrite,
): Promise<boolean[]> {
  const fresh: boolean[] = new Array(batches.length).fill(false);
  if (batches.length > 0) {
    const claimed = await client.query<{ mall_id: string; gateway_id: string; seq: string }>({
      name: 'group-claim',
      text: CLAIM_SQL,
      values: [
        batches.map((b) => b.mallId),
        batches.map((b) => b.gatewayId),
        batches.map((b) => b.batch.seq),
        batches.map((b) => b.kind),
        batches.map((b) => b.batch.readings.length),
        batches.map((b) => b.batch.sentAt),
      ],
    });
    const unclaimed = new Set(claimed.rows.map((r) => keyOf(r.mall_id, r.gateway_id, r.seq)));
    batches.forEach((b, i) => {
      fresh[i] = unclaimed.delete(keyOf(b.mallId, b.gatewayId, b.batch.seq)); // the first copy only
    });
    if (sightingsWrite === 'copy') await copySightingRows(client, batches, fresh);
    else await insertSightingRows(client, batches, fresh);
    await insertScaleRows(client, batches, fresh);
  }
  if (deadLetters.length > 0) {
    await client.query({
      name: 'group-dead-letters',
      text: DEAD_LETTERS_SQL,
      values: [
        deadLetters.map((d) => d.topic),
        deadLetters.map((d) => d.mallId ?? null),
        deadLetters.map((d) => d.gatewayId ?? null),
        deadLetters.map((d) => d.reason),
        deadLetters.map((d) => d.payload),
      ],
    });
  }
  return fresh;
}

async function copySightingRows(client: pg.ClientBase, batches: readonly GroupBatch[], fresh: boolean[]) {
  const chunks: string[] = [];
  batches.forEach((b, i) => {
    if (!fresh[i] || b.kind === 'scale') return;
    chunks.push(
      sightingCopyLines(
        b.mallId,
        b.gatewayId,
        b.kind,
        b.batch.readings as readonly (WifiReading | BleReading)[],
      ),
    );
  });
  if (chunks.length > 0) await copySightings(client, chunks);
}

async function insertSightingRows(client: pg.ClientBase, batches: readonly GroupBatch[], fresh: boolean[]) {
  const byStream = new Map<string, GroupBatch[]>();
  batches.forEach((b, i) => {
    if (!fresh[i] || b.kind === 'scale') return;
    const key = keyOf(b.mallId, b.gatewayId, b.kind);
    const list = byStream.get(key);
    if (list) list.push(b);
    else byStream.set(key, [b]);
  });
  for (const stream of byStream.values()) {
    const first = stream[0] as GroupBatch;
    let n = 0;
    for (const b of stream) n += b.batch.readings.length;
    const time = new Array<number>(n);
    const sensor = new Array<string>(n);
    const device = new Array<string>(n);
    const rssi = new Array<number>(n);
    const randomized = new Array<boolean>(n);
    const frameSeq = new Array<number | null>(n);
    const fingerprint = new Array<string | null>(n);
    let details = false;
    let j = 0;
    for (const b of stream) {
      for (const r of b.batch.readings as readonly (WifiReading | BleReading)[]) {
        time[j] = r.heardAt;
        sensor[j] = r.sensorId;
        device[j] = r.device;
        rssi[j] = r.rssiDbm;
        randomized[j] = r.randomized;
        const q = 'frameSeq' in r ? (r.frameSeq ?? null) : null;
        const f = 'ieFingerprint' in r ? (r.ieFingerprint ?? null) : null;
        frameSeq[j] = q;
        fingerprint[j] = f;
        if (q !== null || f !== null) details = true;
        j++;
      }
    }
    const head = [first.mallId, first.gatewayId, first.kind, time, sensor, device, rssi, randomized];
    await client.query(
      details
        ? { name: 'group-sightings', text: SIGHTINGS_SQL, values: [...head, frameSeq, fingerprint] }
        : { name: 'group-sightings-plain', text: SIGHTINGS_PLAIN_SQL, values: head },
    );
  }
}

async function insertScaleRows(client: pg.ClientBase, batches: readonly GroupBatch[], fresh: boolean[]) {
  const rows: { mallId: string; gatewayId: string; r: ScaleReading }[] = [];
  batches.forEach((b, i) => {
    if (!fresh[i] || b.kind !== 'scale') return;
    for (const r of b.batch.readings as readonly ScaleReading[])
      rows.push({ mallId: b.mallId, gatewayId: b.gatewayId, r });
  });
  if (rows.length === 0) return;
  await client.query({
    name: 'group-scales',
    text: SCALES_SQL,
    values: [
      rows.map((x) => x.r.measuredAt),
      rows.map((x) => x.mallId),
      rows.map((x) => x.gatewayId),
      rows.map((x) => x.r.sensorId),
      rows.map((x) => x.r.memberId ?? null),
      rows.map((x) => x.r.weightKg),
      rows.map((x) => x.r.impedanceOhm ?? null),
      rows.map((x) => x.r.bodyFatPct ?? null),
    ],
  });
}
