import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import { type Logger, pino } from 'pino';
import { type Account, AccountStore, hashPassword } from '../../broker/src/accounts.ts';
import { createBroker, type RunningBroker } from '../../broker/src/broker.ts';

// A real in-process Aedes with mallflow's auth and topic ACL on ephemeral ports, or the same
// handle around an external broker (Mosquitto, a running mallflow) whose accounts you already have.

export interface Login {
  username: string;
  password: string;
}

export interface GatewayLogin extends Login {
  mallId: string;
  gatewayId: string;
}

export interface TestBroker {
  /** `mqtt://127.0.0.1:port` */
  url: string;
  /** `ws://127.0.0.1:port`, when the broker has a WebSocket listener. */
  wsUrl: string | undefined;
  /** Creates a gateway account (in-process broker) or returns the one configured (external). */
  addGateway(mallId: string, gatewayId: string): Promise<GatewayLogin>;
  /** An account that may subscribe to every gateway topic (the analytics role). */
  addObserver(): Promise<Login>;
  /** The broker itself when it runs in this process. */
  running: RunningBroker | undefined;
  close(): Promise<void>;
}

export interface TestBrokerOptions {
  maxPayloadBytes?: number;
  /** Also listen for MQTT over WebSocket. Default true. */
  webSocket?: boolean;
  logger?: Logger;
}

export async function startTestBroker(options: TestBrokerOptions = {}): Promise<TestBroker> {
  const accounts = new AccountStore();
  const running = await createBroker({
    port: 0,
    wsPort: options.webSocket === false ? undefined : 0,
    accounts,
    maxPayloadBytes: options.maxPayloadBytes ?? 256 * 1024,
    logger: options.logger ?? pino({ level: 'silent' }),
  });
  const add = async (account: Omit<Account, 'passwordHash'>): Promise<Login> => {
    const existing = accounts.get(account.username);
    if (existing) throw new Error(`account "${account.username}" already exists on the test broker`);
    const password = randomBytes(12).toString('base64url');
    accounts.add({ ...account, passwordHash: await hashPassword(password) });
    return { username: account.username, password };
  };
  let observers = 0;
  return {
    url: running.url,
    wsUrl: running.wsUrl,
    running,
    async addGateway(mallId, gatewayId) {
      const login = await add({ username: gatewayId, role: 'gateway', mallId, gatewayId });
      return { ...login, mallId, gatewayId };
    },
    addObserver: () => add({ username: `observer-${++observers}`, role: 'analytics' }),
    close: () => running.close(),
  };
}

/** The kit against a broker it did not start: give it the accounts that broker knows. */
export function useExternalBroker(options: {
  url: string;
  gateways: GatewayLogin[];
  observer?: Login;
}): TestBroker {
  return {
    url: options.url,
    wsUrl: undefined,
    running: undefined,
    async addGateway(mallId, gatewayId) {
      const login = options.gateways.find((g) => g.mallId === mallId && g.gatewayId === gatewayId);
      if (!login) throw new Error(`no account given for gateway ${mallId}/${gatewayId} on ${options.url}`);
      return login;
    },
    async addObserver() {
      if (!options.observer) throw new Error(`no observer account given for ${options.url}`);
      return options.observer;
    },
    async close() {},
  };
}

/** Tries to log in; resolves with the broker's CONNACK return code (0 = accepted). */
export async function tryLogin(
  url: string,
  login: Login,
): Promise<{ accepted: boolean; returnCode: number }> {
  const client = mqtt.connect(url, {
    ...login,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
  });
  return new Promise((resolve, reject) => {
    client.once('connect', () => {
      client.end(true);
      resolve({ accepted: true, returnCode: 0 });
    });
    client.once('error', (err) => {
      client.end(true);
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'number') resolve({ accepted: false, returnCode: code });
      else reject(err);
    });
  });
}
