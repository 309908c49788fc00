import type pg from 'pg';

/**
 * Records `(mall, gateway, seq)` in the batch ledger inside the caller's transaction. False when the
 * batch was already ingested (QoS 1 redelivery or a gateway replay): the caller skips it.
 */
export async function claimBatch(
  client: pg.ClientBase | pg.Pool,
  b: { gatewayId: string; seq: number; mallId: string; kind: string; readings: number; sentAtMs: number },
): Promise<boolean> {
  const r = await client.query({
    name: 'claim-batch',
    text: `INSERT INTO ingested_batches (gateway_id, seq, mall_id, kind, readings, sent_at)
           VALUES ($1, $2, $3, $4, $5, to_timestamp($6::double precision / 1000))
           ON CONFLICT (mall_id, gateway_id, seq) DO NOTHING`,
    values: [b.gatewayId, b.seq, b.mallId, b.kind, b.readings, b.sentAtMs],
  });
  return r.rowCount === 1;
}
