import type pg from 'pg';

// What the engine derived for a mall over a time range (visits and zone stays by start, minutes by
// bucket), as `mallflow recompute` replaces it: counted, deleted, and the first-seen registry
// brought back in line with the visits that remain. Visits and stays may begin up to `leadMs`
// before the sightings they come from (the walk in, see visitLeadMs): their range is moved back
// by that much.

export interface DerivedCounts {
  visits: number;
  passerByVisits: number;
  zoneStays: number;
  /** Minute rows with anyone in the zone, and the devices summed over all minute rows. */
  busyMinuteRows: number;
  deviceMinutes: number;
}

const range = (fromMs: number, toMs: number, leadMs: number) => [
  new Date(fromMs),
  new Date(toMs),
  new Date(fromMs - leadMs),
  new Date(toMs - leadMs),
];

export async function countDerived(
  client: pg.ClientBase,
  mallId: string,
  fromMs: number,
  toMs: number,
  leadMs = 0,
): Promise<DerivedCounts> {
  const r = await client.query<Record<keyof DerivedCounts, string>>({
    text: `SELECT
      (SELECT count(*) FROM visits WHERE mall_id = $1 AND started_at >= $4 AND started_at < $5) AS "visits",
      (SELECT count(*) FROM visits WHERE mall_id = $1 AND started_at >= $4 AND started_at < $5 AND passer_by) AS "passerByVisits",
      (SELECT count(*) FROM zone_stays WHERE mall_id = $1 AND started_at >= $4 AND started_at < $5) AS "zoneStays",
      (SELECT count(*) FROM occupancy_minute WHERE mall_id = $1 AND bucket >= $2 AND bucket < $3 AND devices > 0) AS "busyMinuteRows",
      (SELECT coalesce(sum(devices), 0) FROM occupancy_minute WHERE mall_id = $1 AND bucket >= $2 AND bucket < $3) AS "deviceMinutes"`,
    values: [mallId, ...range(fromMs, toMs, leadMs)],
  });
  const row = r.rows[0]!;
  return {
    visits: Number(row.visits),
    passerByVisits: Number(row.passerByVisits),
    zoneStays: Number(row.zoneStays),
    busyMinuteRows: Number(row.busyMinuteRows),
    deviceMinutes: Number(row.deviceMinutes),
  };
}

/** Deletes the range's visits, zone stays and minute rows; returns the devices whose visits went. */
export async function deleteDerived(
  client: pg.ClientBase,
  mallId: string,
  fromMs: number,
  toMs: number,
  leadMs = 0,
): Promise<string[]> {
  const [from, to, sessionsFrom, sessionsTo] = range(fromMs, toMs, leadMs);
  const visits = await client.query<{ device: string }>({
    text: 'DELETE FROM visits WHERE mall_id = $1 AND started_at >= $2 AND started_at < $3 RETURNING device',
    values: [mallId, sessionsFrom, sessionsTo],
  });
  await client.query({
    text: 'DELETE FROM zone_stays WHERE mall_id = $1 AND started_at >= $2 AND started_at < $3',
    values: [mallId, sessionsFrom, sessionsTo],
  });
  await client.query({
    text: 'DELETE FROM occupancy_minute WHERE mall_id = $1 AND bucket >= $2 AND bucket < $3',
    values: [mallId, from, to],
  });
  return [...new Set(visits.rows.map((r) => r.device))];
}

/**
 * Sets each device's first visit to its earliest remaining visit (recomputed visits may start
 * later than the ones they replaced), and drops devices with none left.
 */
export async function refreshFirstSeen(
  client: pg.ClientBase,
  mallId: string,
  devices: readonly string[],
): Promise<void> {
  if (devices.length === 0) return;
  await client.query({
    text: `WITH firsts AS (
        SELECT d.device, (SELECT min(v.started_at) FROM visits v WHERE v.mall_id = $1 AND v.device = d.device) AS first
        FROM unnest($2::text[]) AS d(device)
      ),
      gone AS (
        DELETE FROM device_first_seen f USING firsts
        WHERE f.mall_id = $1 AND f.device = firsts.device AND firsts.first IS NULL
      )
      INSERT INTO device_first_seen (mall_id, device, first_visit_at)
      SELECT $1, device, first FROM firsts WHERE first IS NOT NULL
      ON CONFLICT (mall_id, device) DO UPDATE SET first_visit_at = EXCLUDED.first_visit_at`,
    values: [mallId, devices],
  });
}
