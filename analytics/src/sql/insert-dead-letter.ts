import type pg from 'pg';

export interface DeadLetter {
  topic: string;
  mallId: string | undefined;
  gatewayId: string | undefined;
  reason: string;
  payload: string;
}

export async function insertDeadLetter(client: pg.ClientBase | pg.Pool, d: DeadLetter): Promise<void> {
  await client.query({
    name: 'insert-dead-letter',
    text: 'INSERT INTO dead_letters (topic, mall_id, gateway_id, reason, payload) VALUES ($1, $2, $3, $4, $5)',
    values: [d.topic, d.mallId ?? null, d.gatewayId ?? null, d.reason, d.payload],
  });
}
