import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectSightingsWrite } from '../../analytics/src/sql/copy-sightings.ts';
import { type GroupBatch, writeGroup } from '../../analytics/src/sql/write-group.ts';
import type { BleReading, WifiReading } from '../../core/src/messages.ts';
import { type Backend, backends, createTestDb, type TestDb } from '../helpers/db.ts';

// The ingest writes sightings with COPY on a PostgreSQL server and with multi-row inserts on the
// embedded database (whose socket server drops the connection on COPY). Both must store the same
// rows: times to the millisecond, NULLs, kinds, and nothing for a batch already claimed.

const T = Date.UTC(2026, 10, 21, 7, 0, 0);
const DEV = 'a'.repeat(32);

const wifi = (heardAt: number, extra: Partial<WifiReading> = {}): WifiReading => ({
  sensorId: 's-1',
  heardAt,
  rssiDbm: -61,
  device: DEV,
  randomized: false,
  ...extra,
});

function group(gatewayId: string, mallId = 'm-1'): GroupBatch[] {
  const ble: BleReading = { sensorId: 's-2', heardAt: T + 5, rssiDbm: -80, device: DEV, randomized: true };
  return [
    {
      mallId,
      gatewayId,
      kind: 'wifi',
      batch: {
        v: 1,
        gw: gatewayId,
        seq: 1,
        sentAt: T,
        // Out of time order, across second boundaries, with and without the 802.11 details.
        readings: [
          wifi(T + 999, { frameSeq: 4095, ieFingerprint: '0123456789abcdef' }),
          wifi(T + 1000, { frameSeq: 0 }),
          wifi(T + 5),
          wifi(T + 59_050, { rssiDbm: -127, randomized: true }),
          wifi(T - 86_400_000 + 7),
        ],
      },
    },
    { mallId, gatewayId, kind: 'ble', batch: { v: 1, gw: gatewayId, seq: 2, sentAt: T, readings: [ble] } },
    // The same batch again in the group: written once.
    {
      mallId,
      gatewayId,
      kind: 'wifi',
      batch: { v: 1, gw: gatewayId, seq: 1, sentAt: T, readings: [wifi(T + 1)] },
    },
  ];
}

async function stored(db: TestDb, gatewayId: string) {
  const r = await db.pool.query(
    `SELECT mall_id, (extract(epoch FROM time) * 1000)::bigint AS ms, sensor_id, kind, device, rssi_dbm,
            randomized, frame_seq, ie_fingerprint
     FROM sightings WHERE gateway_id = $1 ORDER BY time, kind`,
    [gatewayId],
  );
  return r.rows;
}

async function write(db: TestDb, batches: GroupBatch[], how: 'copy' | 'unnest'): Promise<boolean[]> {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    const fresh = await writeGroup(client, batches, [], how);
    await client.query('COMMIT');
    return fresh;
  } finally {
    client.release();
  }
}

describe.each(backends())('sightings writes on %s', (backend: Backend) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb(backend);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('detects how the database takes sightings: COPY on the server, inserts on the embedded one', async () => {
    expect(await detectSightingsWrite(db.pool)).toBe(backend === 'server' ? 'copy' : 'unnest');
  });

  it('inserts store every reading of the fresh batches, once', async () => {
    expect(await write(db, group('gw-unnest'), 'unnest')).toEqual([true, true, false]);
    const rows = await stored(db, 'gw-unnest');
    expect(rows).toHaveLength(6);
    expect(rows.map((r) => Number(r.ms))).toEqual([
      T - 86_400_000 + 7,
      T + 5,
      T + 5,
      T + 999,
      T + 1000,
      T + 59_050,
    ]);
    expect(await write(db, group('gw-unnest'), 'unnest')).toEqual([false, false, false]);
    expect(await stored(db, 'gw-unnest')).toHaveLength(6);
  });

  it.skipIf(backend === 'embedded')(
    'COPY stores exactly what the inserts store (server only: the embedded database cannot carry COPY)',
    async () => {
      expect(await write(db, group('gw-copy'), 'copy')).toEqual([true, true, false]);
      expect(await stored(db, 'gw-copy')).toEqual(await stored(db, 'gw-unnest'));
      expect(await write(db, group('gw-copy'), 'copy')).toEqual([false, false, false]);
      expect(await stored(db, 'gw-copy')).toHaveLength(6);
      // Text COPY would split a value at a tab or end a row at a newline: such text is escaped.
      await write(db, group('gw-odd', 'm\t1\\x\ny'), 'copy');
      const odd = await stored(db, 'gw-odd');
      expect(new Set(odd.map((r) => r.mall_id))).toEqual(new Set(['m\t1\\x\ny']));
      expect(odd).toHaveLength(6);
    },
  );
});
