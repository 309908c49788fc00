import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import { type Analytics, createAnalytics } from '../../analytics/src/analytics.ts';
import { AccountStore, hashPassword } from '../../broker/src/accounts.ts';
import { createBroker, type RunningBroker } from '../../broker/src/broker.ts';
import type { Layout } from '../../core/src/layout.ts';
import type { OccupancyOptions } from '../../core/src/occupancy.ts';
import type { StaffRule } from '../../core/src/staff-rule.ts';
import { createDashboard, type Dashboard } from '../../dashboard/src/server.ts';
import { createGateway, type Gateway } from '../../gateway/src/gateway.ts';

// The whole system in one process: broker, analytics, dashboard and one gateway per floor, with
// accounts made up at start (random passwords, hashed in the broker's store). Used by
// `mallflow start`, the end-to-end tests and the benchmark; in production each is its own process.
//
// Shutdown order loses no batch: the source stops → gateways flush and await every PUBACK →
// analytics drains what the broker delivered → dashboard → broker.

export interface StackOptions {
  pool: pg.Pool;
  layout: Layout;
  siteSecret: string;
  host?: string;
  brokerPort: number;
  brokerWsPort?: number | undefined;
  dashboardPort: number;
  maxPayloadBytes?: number;
  occupancy: OccupancyOptions;
  liveIntervalMs?: number;
  /** Storage maintenance in the analytics worker; absent = off. */
  maintenance?: {
    intervalMs: number;
    rawRetentionDays: number;
    compressAfterDays: number;
    staffRule?: StaffRule;
  };
  dashboardTickMs?: number;
  batchMaxReadings?: number;
  flushIntervalMs?: number;
  /** A root logger per component (each names itself on every line). */
  loggerFor(component: 'broker' | 'analytics' | 'dashboard' | 'gateway'): Logger;
  onFatal(err: unknown): void;
}

export interface Stack {
  broker: RunningBroker;
  analytics: Analytics;
  dashboard: Dashboard;
  /** Gateway per floor id. */
  gateways: Map<string, Gateway>;
  gatewayOfSensor(sensorId: string): Gateway | undefined;
  /** Resolves once analytics has taken every batch the gateways had acknowledged. */
  drained(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export function gatewayIdOfFloor(floorId: string): string {
  return `gw-${floorId}`;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const { layout } = options;
  const host = options.host ?? '127.0.0.1';
  const accounts = new AccountStore();
  const analyticsPassword = randomBytes(18).toString('base64url');
  accounts.add({
    username: 'analytics',
    passwordHash: await hashPassword(analyticsPassword),
    role: 'analytics',
  });
  const gatewayPasswords = new Map<string, string>();
  for (const floor of layout.floors) {
    const gatewayId = gatewayIdOfFloor(floor.id);
    const password = randomBytes(18).toString('base64url');
    gatewayPasswords.set(floor.id, password);
    accounts.add({
      username: gatewayId,
      passwordHash: await hashPassword(password),
      role: 'gateway',
      mallId: layout.id,
      gatewayId,
    });
  }

  const broker = await createBroker({
    host,
    port: options.brokerPort,
    wsPort: options.brokerWsPort,
    accounts,
    maxPayloadBytes: options.maxPayloadBytes ?? 256 * 1024,
    logger: options.loggerFor('broker'),
  });
  const opened: { close(): Promise<void> }[] = [broker];
  const closeOpened = async () => {
    for (const o of opened.reverse()) await o.close();
  };
  try {
    const analytics = await createAnalytics({
      pool: options.pool,
      layouts: [layout],
      mqtt: {
        url: broker.url,
        username: 'analytics',
        password: analyticsPassword,
        clientId: 'mallflow-analytics',
      },
      occupancy: options.occupancy,
      liveIntervalMs: options.liveIntervalMs ?? 1000,
      maintenance: options.maintenance,
      logger: options.loggerFor('analytics'),
      onFatal: options.onFatal,
    });
    opened.push(analytics);
    const dashboard = await createDashboard({
      pool: options.pool,
      layouts: [layout],
      host,
      port: options.dashboardPort,
      tickMs: options.dashboardTickMs ?? 1000,
      logger: options.loggerFor('dashboard'),
    });
    opened.push(dashboard);
    const gateways = new Map<string, Gateway>();
    for (const floor of layout.floors) {
      const gatewayId = gatewayIdOfFloor(floor.id);
      const gateway = await createGateway({
        mqttUrl: broker.url,
        mallId: layout.id,
        gatewayId,
        username: gatewayId,
        password: gatewayPasswords.get(floor.id)!,
        siteSecret: options.siteSecret,
        maxBatchReadings: options.batchMaxReadings ?? 500,
        flushIntervalMs: options.flushIntervalMs ?? 250,
        logger: options.loggerFor('gateway'),
      });
      gateways.set(floor.id, gateway);
      opened.push(gateway);
    }
    const sensorGateway = new Map(layout.sensors.map((s) => [s.id, gateways.get(s.floor)!]));

    const drained = async (timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const published = [...gateways.values()].reduce((n, g) => n + g.stats().batchesPublished, 0);
        const s = analytics.stats();
        if (s.batches + s.duplicates >= published) return true;
        if (Date.now() > deadline) return false;
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    let closed = false;
    return {
      broker,
      analytics,
      dashboard,
      gateways,
      gatewayOfSensor: (sensorId) => sensorGateway.get(sensorId),
      drained,
      async close() {
        if (closed) return;
        closed = true;
        for (const g of gateways.values()) await g.close();
        if (!(await drained(15_000)))
          options.loggerFor('analytics').warn('analytics did not take every batch before shutdown');
        await analytics.close();
        await dashboard.close();
        await broker.close();
      },
    };
  } catch (err) {
    await closeOpened();
    throw err;
  }
}
