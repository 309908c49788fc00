import type pg from 'pg';
import type { Visit, ZoneStay } from '../../../core/src/sessions.ts';

export async function upsertZoneStays(
  client: pg.ClientBase | pg.Pool,
  mallId: string,
  stays: readonly ZoneStay[],
) {
  if (stays.length === 0) return;
  await client.query({
    name: 'upsert-zone-stays',
    text: `INSERT INTO zone_stays (mall_id, device, zone_id, started_at, ended_at, dwell_ms, bursts, visit_device, confidence)
           SELECT $1, d, z, to_timestamp(s / 1000), to_timestamp(e / 1000), e - s, b, v, c
           FROM unnest($2::text[], $3::text[], $4::double precision[], $5::double precision[], $6::int[], $7::text[],
                       $8::real[]) AS u(d, z, s, e, b, v, c)
           ON CONFLICT (mall_id, device, started_at) DO UPDATE
             SET zone_id = EXCLUDED.zone_id, ended_at = EXCLUDED.ended_at, dwell_ms = EXCLUDED.dwell_ms, bursts = EXCLUDED.bursts,
                 visit_device = EXCLUDED.visit_device, confidence = EXCLUDED.confidence`,
    values: [
      mallId,
      stays.map((s) => s.device),
      stays.map((s) => s.zoneId),
      stays.map((s) => s.startMs),
      stays.map((s) => s.endMs),
      stays.map((s) => s.bursts),
      stays.map((s) => s.visitDevice),
      stays.map((s) => s.confidence),
    ],
  });
}

export async function upsertVisits(
  client: pg.ClientBase | pg.Pool,
  mallId: string,
  visits: readonly Visit[],
) {
  if (visits.length === 0) return;
  await client.query({
    name: 'upsert-visits',
    text: `INSERT INTO visits (mall_id, device, started_at, ended_at, dwell_ms, stays, bursts,
                               devices, doubtful_links, orphan, passer_by, inside_ms)
           SELECT $1, d, to_timestamp(s / 1000), to_timestamp(e / 1000), e - s, n, b, k, l, o, p, i
           FROM unnest($2::text[], $3::double precision[], $4::double precision[], $5::int[], $6::int[],
                       $7::int[], $8::int[], $9::boolean[], $10::boolean[], $11::bigint[]) AS u(d, s, e, n, b, k, l, o, p, i)
           ON CONFLICT (mall_id, device, started_at) DO UPDATE
             SET ended_at = EXCLUDED.ended_at, dwell_ms = EXCLUDED.dwell_ms, stays = EXCLUDED.stays, bursts = EXCLUDED.bursts,
                 devices = EXCLUDED.devices, doubtful_links = EXCLUDED.doubtful_links, orphan = EXCLUDED.orphan,
                 passer_by = EXCLUDED.passer_by, inside_ms = EXCLUDED.inside_ms`,
    values: [
      mallId,
      visits.map((v) => v.device),
      visits.map((v) => v.startMs),
      visits.map((v) => v.endMs),
      visits.map((v) => v.stays),
      visits.map((v) => v.bursts),
      visits.map((v) => v.devices),
      visits.map((v) => v.doubtfulLinks),
      visits.map((v) => v.orphan),
      visits.map((v) => v.passerBy),
      visits.map((v) => v.insideMs),
    ],
  });
  // LEAST: a late or recomputed earlier visit moves the first sighting back, never forward.
  await client.query({
    name: 'upsert-first-seen',
    text: `INSERT INTO device_first_seen (mall_id, device, first_visit_at)
           SELECT $1, d, to_timestamp(min(s) / 1000)
           FROM unnest($2::text[], $3::double precision[]) AS u(d, s)
           GROUP BY d
           ON CONFLICT (mall_id, device) DO UPDATE
             SET first_visit_at = LEAST(device_first_seen.first_visit_at, EXCLUDED.first_visit_at)`,
    values: [mallId, visits.map((v) => v.device), visits.map((v) => v.startMs)],
  });
}
