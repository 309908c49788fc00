import type pg from 'pg';

// What analytics concluded, read back from the database it writes.

export interface StoredZoneStay {
  device: string;
  zoneId: string;
  startedAt: Date;
  endedAt: Date;
  dwellMs: number;
}

export interface StoredVisit {
  device: string;
  startedAt: Date;
  endedAt: Date;
  dwellMs: number;
  stays: number;
}

export interface ReadBack {
  zoneStays(filter?: { device?: string | readonly string[] }): Promise<StoredZoneStay[]>;
  visits(filter?: { device?: string | readonly string[] }): Promise<StoredVisit[]>;
  /** Devices per zone in the live snapshot (zones with 0 included). */
  occupancy(): Promise<Map<string, number>>;
  sightings(filter?: { device?: string | readonly string[] }): Promise<number>;
  deadLetters(): Promise<{ topic: string; reason: string; payload: string }[]>;
  batches(): Promise<number>;
}

const devices = (d: string | readonly string[] | undefined) =>
  d === undefined ? null : typeof d === 'string' ? [d] : [...d];

export function createReadBack(pool: pg.Pool, mallId: string): ReadBack {
  return {
    async zoneStays(filter = {}) {
      const r = await pool.query(
        `SELECT device, zone_id, started_at, ended_at, dwell_ms FROM zone_stays
         WHERE mall_id = $1 AND ($2::text[] IS NULL OR device = ANY($2)) ORDER BY started_at, device`,
        [mallId, devices(filter.device)],
      );
      return r.rows.map((x) => ({
        device: x.device,
        zoneId: x.zone_id,
        startedAt: x.started_at,
        endedAt: x.ended_at,
        dwellMs: Number(x.dwell_ms),
      }));
    },
    async visits(filter = {}) {
      const r = await pool.query(
        `SELECT device, started_at, ended_at, dwell_ms, stays FROM visits
         WHERE mall_id = $1 AND ($2::text[] IS NULL OR device = ANY($2)) ORDER BY started_at, device`,
        [mallId, devices(filter.device)],
      );
      return r.rows.map((x) => ({
        device: x.device,
        startedAt: x.started_at,
        endedAt: x.ended_at,
        dwellMs: Number(x.dwell_ms),
        stays: x.stays,
      }));
    },
    async occupancy() {
      const r = await pool.query('SELECT zone_id, devices FROM occupancy_live WHERE mall_id = $1', [mallId]);
      return new Map(r.rows.map((x) => [x.zone_id as string, x.devices as number]));
    },
    async sightings(filter = {}) {
      const r = await pool.query(
        'SELECT count(*)::int AS n FROM sightings WHERE mall_id = $1 AND ($2::text[] IS NULL OR device = ANY($2))',
        [mallId, devices(filter.device)],
      );
      return r.rows[0].n;
    },
    async deadLetters() {
      const r = await pool.query('SELECT topic, reason, payload FROM dead_letters ORDER BY id');
      return r.rows;
    },
    async batches() {
      const r = await pool.query('SELECT count(*)::int AS n FROM ingested_batches WHERE mall_id = $1', [
        mallId,
      ]);
      return r.rows[0].n;
    },
  };
}
