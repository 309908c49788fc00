import mqtt from 'mqtt';
import type { Login } from './test-broker.ts';

// Collects what the broker delivered, and waits on it with an error that says what was expected
// and what arrived.

export interface RecordedMessage {
  topic: string;
  /** The payload parsed as JSON, or the raw text when it is not JSON. */
  payload: unknown;
  raw: Buffer;
  retain: boolean;
}

export interface WaitOptions {
  timeout?: number | undefined;
  /** What is awaited, for the timeout message. */
  what?: string | undefined;
}

export interface Recorder {
  messages: RecordedMessage[];
  /** Resolves with the first recorded message matching `predicate` (past or future). */
  waitFor(predicate: (m: RecordedMessage) => boolean, options?: WaitOptions): Promise<RecordedMessage>;
  clear(): void;
  close(): Promise<void>;
}

function summarize(m: RecordedMessage): string {
  const p = m.payload as { seq?: unknown; readings?: unknown[]; state?: unknown };
  if (p && typeof p === 'object') {
    if (Array.isArray(p.readings)) return `${m.topic} seq=${String(p.seq)} readings=${p.readings.length}`;
    if (p.state) return `${m.topic} state=${String(p.state)}`;
  }
  return `${m.topic} ${m.raw.toString('utf8').slice(0, 60)}`;
}

export async function recordBroker(
  url: string,
  login: Login,
  filter = 'mallflow/v1/+/gw/+/+',
): Promise<Recorder> {
  const client = await mqtt.connectAsync(url, { ...login, protocolVersion: 4, reconnectPeriod: 0 });
  const messages: RecordedMessage[] = [];
  const waiters = new Set<() => void>();
  client.on('message', (topic, raw, packet) => {
    let payload: unknown;
    try {
      payload = JSON.parse(raw.toString('utf8'));
    } catch {
      payload = raw.toString('utf8'); // not JSON: the test may be checking exactly that
    }
    messages.push({ topic, payload, raw, retain: packet.retain });
    for (const w of waiters) w();
  });
  const granted = await client.subscribeAsync(filter, { qos: 1 });
  if (granted.some((g) => g.qos === 128))
    throw new Error(`the broker refused ${login.username} a subscription to ${filter}`);
  return {
    messages,
    clear() {
      messages.length = 0;
    },
    waitFor(predicate, options = {}) {
      const timeoutMs = options.timeout ?? 5_000;
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = messages.find(predicate);
          if (!hit) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          const arrived = messages.length === 0 ? 'nothing' : messages.slice(-10).map(summarize).join('\n  ');
          reject(
            new Error(
              `timed out after ${timeoutMs} ms waiting for ${options.what ?? 'a matching message'}; ` +
                `${messages.length} message(s) arrived, the last:\n  ${arrived}`,
            ),
          );
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    close: () => client.endAsync(),
  };
}
