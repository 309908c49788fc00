import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, onTestFinished, test } from 'vitest';
import {
  type Account,
  AccountStore,
  AccountsFileError,
  hashPassword,
  InvalidAccountError,
  loadAccountsFile,
  verifyPassword,
} from '../../broker/src/accounts.ts';
import { mayPublish, mayReceive, maySubscribe } from '../../broker/src/acl.ts';
import {
  FrameLimit,
  FrameScanner,
  FrameTooLargeError,
  MalformedFrameError,
} from '../../broker/src/frame-limit.ts';

// The broker's pure parts, table-driven. (tests/unit/ is for core/ only, per STYLE.md §7.)

const HASH = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=';
const gw: Account = {
  username: 'gw-joy-01',
  passwordHash: HASH,
  role: 'gateway',
  mallId: 'joy',
  gatewayId: 'gw-01',
};
const analytics: Account = { username: 'analytics', passwordHash: HASH, role: 'analytics' };
const analyticsJoy: Account = {
  username: 'analytics-joy',
  passwordHash: HASH,
  role: 'analytics',
  mallId: 'joy',
};
const dashboard: Account = { username: 'dashboard', passwordHash: HASH, role: 'dashboard' };

describe('mayPublish', () => {
  test.each<[Account, string, boolean]>([
    [gw, 'mallflow/v1/joy/gw/gw-01/wifi', true],
    [gw, 'mallflow/v1/joy/gw/gw-01/ble', true],
    [gw, 'mallflow/v1/joy/gw/gw-01/scale', true],
    [gw, 'mallflow/v1/joy/gw/gw-01/status', true],
    [gw, 'mallflow/v1/joy/gw/gw-02/wifi', false],
    [gw, 'mallflow/v1/sky/gw/gw-01/wifi', false],
    [gw, 'mallflow/v1/joy/gw/gw-01/config', false],
    [gw, 'mallflow/v1/joy/gw/gw-01/', false],
    [gw, 'mallflow/v1/joy/gw/gw-01/wifi/extra', false],
    [gw, 'mallflow/v1/joy/gw/gw-01/+', false],
    [gw, 'mallflow/v1/joy/gw/gw-01/#', false],
    [gw, 'mallflow/v1/joy/gw/gw-011/wifi', false],
    [gw, '$SYS/broker/heartbeat', false],
    [gw, '#', false],
    [analytics, 'mallflow/v1/joy/gw/gw-01/wifi', false],
    [dashboard, 'mallflow/v1/joy/gw/gw-01/status', false],
    [{ ...gw, gatewayId: '+' }, 'mallflow/v1/joy/gw/+/wifi', false],
  ])('%o may publish %s: %s', (account, topic, expected) => {
    expect(mayPublish(account, topic)).toBe(expected);
  });
});

describe('maySubscribe', () => {
  test.each<[Account, string, boolean]>([
    [analytics, 'mallflow/v1/+/gw/+/+', true],
    [analytics, 'mallflow/v1/joy/gw/+/+', true],
    [analytics, 'mallflow/v1/joy/gw/+/wifi', true],
    [analytics, 'mallflow/v1/joy/gw/gw-01/status', true],
    [analytics, 'mallflow/v1/+/gw/+/scale', true],
    [analytics, 'mallflow/v1/+/gw/+/#', false],
    [analytics, 'mallflow/v1/+/gw/+/config', false],
    [analytics, 'mallflow/v1/+/gw/#', false],
    [analytics, 'mallflow/#', false],
    [analytics, '#', false],
    [analytics, '+/+/+/+/+/+', false],
    [analytics, '$SYS/#', false],
    [analytics, '$share/workers/mallflow/v1/+/gw/+/+', false],
    [analytics, 'mallflow/v1/jo+/gw/+/+', false],
    [analytics, 'mallflow/v1/+/gw/+/+/extra', false],
    [analytics, 'mallflow/v2/+/gw/+/+', false],
    [analytics, 'mallflow/v1/+/sensor/+/+', false],
    [analyticsJoy, 'mallflow/v1/joy/gw/+/+', true],
    [analyticsJoy, 'mallflow/v1/+/gw/+/+', false],
    [analyticsJoy, 'mallflow/v1/sky/gw/+/+', false],
    [dashboard, 'mallflow/v1/+/gw/+/status', true],
    [dashboard, 'mallflow/v1/joy/gw/gw-01/status', true],
    [dashboard, 'mallflow/v1/+/gw/+/+', false],
    [dashboard, 'mallflow/v1/+/gw/+/wifi', false],
    [gw, 'mallflow/v1/joy/gw/gw-01/+', false],
    [gw, 'mallflow/v1/joy/gw/gw-01/status', false],
  ])('%o may subscribe %s: %s', (account, filter, expected) => {
    expect(maySubscribe(account, filter)).toBe(expected);
  });
});

describe('mayReceive', () => {
  test.each<[Account, string, boolean]>([
    [analytics, 'mallflow/v1/joy/gw/gw-01/wifi', true],
    [analytics, '$SYS/x/heartbeat', false],
    [analyticsJoy, 'mallflow/v1/sky/gw/gw-01/wifi', false],
    [dashboard, 'mallflow/v1/joy/gw/gw-01/status', true],
    [dashboard, 'mallflow/v1/joy/gw/gw-01/wifi', false],
    [gw, 'mallflow/v1/joy/gw/gw-01/wifi', false],
  ])('%o may receive %s: %s', (account, topic, expected) => {
    expect(mayReceive(account, topic)).toBe(expected);
  });
});

describe('passwords', () => {
  test('hash and verify', async () => {
    const hash = await hashPassword('correct horse');
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
    expect(await hashPassword('correct horse')).not.toBe(hash);
    expect(await verifyPassword('correct horse', hash)).toBe(true);
    expect(await verifyPassword('correct horsE', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  test.each([
    'plain',
    'scrypt$3$8$1$c2FsdA==$aGFzaA==',
    'scrypt$16384$8$1$$aGFzaGhhc2hoYXNoaGFzaA==',
    'scrypt$1073741824$8$1$c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA==',
  ])('a malformed or unsafe hash never verifies: %s', async (hash) => {
    expect(await verifyPassword('x', hash)).toBe(false);
  });
});

describe('accounts', () => {
  async function writeAccounts(content: unknown): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'mallflow-accounts-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'accounts.json');
    await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  }

  test('loads a valid file', async () => {
    const path = await writeAccounts([gw, analytics, dashboard]);
    const accounts = await loadAccountsFile(path);
    expect(accounts.map((a) => a.username)).toEqual(['gw-joy-01', 'analytics', 'dashboard']);
  });

  test('reports every problem with its index and field', async () => {
    const path = await writeAccounts([
      gw,
      { username: 'gw-2', passwordHash: HASH, role: 'gateway', mallId: 'joy' },
      { username: 'x', passwordHash: 'secret', role: 'admin' },
      { ...analytics, gatewayId: 'gw-01' },
      { ...gw, mallId: 'Joy City' },
      gw,
      null,
    ]);
    const error = await loadAccountsFile(path).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(AccountsFileError);
    const problems = (error as AccountsFileError).problems;
    expect(problems).toContain('[1].gatewayId: is required for a gateway account');
    expect(problems.some((p) => p.startsWith('[2].passwordHash:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('[2].role:'))).toBe(true);
    expect(problems).toContain('[3].gatewayId: is only allowed on a gateway account');
    expect(problems.some((p) => p.startsWith('[4].mallId:'))).toBe(true);
    expect(problems).toContain('[5].username: "gw-joy-01" is already used by [0]');
    expect(problems).toContain('[6]: Invalid input: expected object, received null');
    expect((error as AccountsFileError).code).toBe('ACCOUNTS_FILE_INVALID');
  });

  test.each([
    ['not JSON', '{', /not valid JSON/],
    ['not an array', { username: 'x' }, /must be a JSON array/],
    ['empty', [], /contains no accounts/],
  ])('refuses a file that is %s', async (_what, content, message) => {
    const path = await writeAccounts(content);
    await expect(loadAccountsFile(path)).rejects.toThrow(message);
  });

  test('refuses a missing file', async () => {
    await expect(loadAccountsFile(join(tmpdir(), 'mallflow-no-such-file.json'))).rejects.toThrow(
      /cannot read/,
    );
  });

  test('AccountStore validates and refuses duplicates', () => {
    const store = new AccountStore([gw]);
    expect(store.get('gw-joy-01')).toEqual(gw);
    expect(store.get('nobody')).toBeUndefined();
    expect(() => store.add(gw)).toThrow(InvalidAccountError);
    expect(() => store.add({ ...analytics, username: 'gw-x', role: 'gateway' })).toThrow(/mallId/);
    store.add(analytics);
    expect(store.size).toBe(2);
  });
});

describe('frame scanner', () => {
  // PUBLISH with a 2-byte topic "ab" and a payload, remaining length encoded per MQTT §2.2.3.
  function publishFrame(payloadBytes: number): Buffer {
    const remaining = 2 + 2 + payloadBytes;
    const lengthBytes: number[] = [];
    let x = remaining;
    do {
      let byte = x % 128;
      x = Math.floor(x / 128);
      if (x > 0) byte |= 0x80;
      lengthBytes.push(byte);
    } while (x > 0);
    return Buffer.concat([
      Buffer.from([0x30, ...lengthBytes, 0x00, 0x02, 0x61, 0x62]),
      Buffer.alloc(payloadBytes, 0x7a),
    ]);
  }

  function scanInPieces(limit: number, stream: Buffer, pieceBytes: number): Error | undefined {
    const scanner = new FrameScanner(limit);
    for (let i = 0; i < stream.length; i += pieceBytes) {
      const err = scanner.scan(stream.subarray(i, i + pieceBytes));
      if (err) return err;
    }
    return undefined;
  }

  const pingreq = Buffer.from([0xc0, 0x00]);
  const stream = Buffer.concat([publishFrame(10), pingreq, publishFrame(200), publishFrame(20_000), pingreq]);

  test.each([1, 2, 3, 7, 64, 1000, stream.length])(
    'frames within the limit pass, in %i-byte pieces',
    (piece) => {
      expect(scanInPieces(20_004, stream, piece)).toBeUndefined();
    },
  );

  test.each([1, 2, 3, 7, 64, 1000, stream.length])(
    'an oversized frame is caught, in %i-byte pieces',
    (piece) => {
      const err = scanInPieces(20_003, stream, piece);
      expect(err).toBeInstanceOf(FrameTooLargeError);
      expect(err?.message).toBe('MQTT packet of 20004 bytes exceeds the limit of 20003 bytes');
    },
  );

  test('the header alone is enough to refuse', () => {
    expect(new FrameScanner(1024).scan(Buffer.from([0x30, 0xff, 0xff]))).toBeInstanceOf(FrameTooLargeError);
  });

  test('a five-byte remaining length is malformed', () => {
    expect(
      new FrameScanner(Number.MAX_SAFE_INTEGER).scan(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])),
    ).toBeInstanceOf(MalformedFrameError);
  });

  test('the Transform passes bytes through unchanged and errors on an oversized frame', async () => {
    const out: Buffer[] = [];
    const ok = new FrameLimit(20_004);
    ok.on('data', (chunk: Buffer) => out.push(chunk));
    const ended = new Promise((resolve) => ok.on('end', resolve));
    for (let i = 0; i < stream.length; i += 5) ok.write(stream.subarray(i, i + 5));
    ok.end();
    await ended;
    expect(Buffer.concat(out).equals(stream)).toBe(true);

    const tooSmall = new FrameLimit(100);
    const source = new PassThrough();
    const failed = new Promise<Error>((resolve) => tooSmall.on('error', resolve));
    source.pipe(tooSmall);
    source.write(stream);
    await expect(failed).resolves.toBeInstanceOf(FrameTooLargeError);
    expect(tooSmall.destroyed).toBe(true);
  });
});
