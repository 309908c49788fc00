import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { pino } from 'pino';
import { type Analytics, createAnalytics } from '../../analytics/src/analytics.ts';
import { type Account, AccountStore, hashPassword } from '../../broker/src/accounts.ts';
import { createBroker, type RunningBroker } from '../../broker/src/broker.ts';
import type { Layout } from '../../core/src/layout.ts';

export const silent = pino({ level: 'silent' });

export interface Login {
  username: string;
  password: string;
}

/** A real broker on ephemeral ports with the given accounts (plain passwords in, hashed in the store). */
export async function startBrokerWith(
  accounts: (Omit<Account, 'passwordHash'> & { password?: string })[],
  maxPayloadBytes = 256 * 1024,
): Promise<{ broker: RunningBroker; logins: Map<string, Login> }> {
  const store = new AccountStore();
  const logins = new Map<string, Login>();
  for (const { password, ...account } of accounts) {
    const pw = password ?? randomBytes(12).toString('hex');
    store.add({ ...account, passwordHash: await hashPassword(pw) });
    logins.set(account.username, { username: account.username, password: pw });
  }
  const broker = await createBroker({ port: 0, wsPort: 0, accounts: store, maxPayloadBytes, logger: silent });
  return { broker, logins };
}

export async function startAnalyticsOn(
  broker: RunningBroker,
  login: Login,
  pool: pg.Pool,
  layouts: Layout[],
  onFatal: (err: unknown) => void,
): Promise<Analytics> {
  return createAnalytics({
    pool,
    layouts,
    mqtt: { url: broker.url, ...login, clientId: `analytics-${randomBytes(3).toString('hex')}` },
    occupancy: { presenceMs: 180_000, allowedLatenessMs: 2_000, visitIdleMs: 600_000 },
    liveIntervalMs: 200,
    logger: silent,
    onFatal,
  });
}
