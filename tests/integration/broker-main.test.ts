import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { connectAsync } from 'mqtt';
import { describe, expect, onTestFinished, test } from 'vitest';
import { hashPassword, verifyPassword } from '../../broker/src/accounts.ts';
import { runBroker } from '../../broker/src/main.ts';
import { waitFor } from '../helpers/wait-for.ts';

// `mallflow broker` as the CLI runs it: argv and env in, exit code out.

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { stream, text: () => text };
}

async function tempFile(name: string, content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mallflow-broker-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

describe('runBroker', () => {
  test('--help prints every option with its description and default', async () => {
    const stdout = capture();
    expect(await runBroker(['--help'], {}, { stdout: stdout.stream })).toBe(0);
    expect(stdout.text()).toContain('Usage: mallflow broker');
    expect(stdout.text()).toMatch(/--broker-port\s+BROKER_PORT\s+.*\[default: 1884\]/);
    expect(stdout.text()).toContain('BROKER_ACCOUNTS_FILE');
    expect(stdout.text()).toContain('hash-password');
  });

  test('bad config: every error on stderr, exit code 2', async () => {
    const stderr = capture();
    const code = await runBroker(
      ['--broker-port', 'abc', '--nope', 'x'],
      { BROKER_MAX_PAYLOAD_BYTES: '-1' },
      {
        stderr: stderr.stream,
      },
    );
    expect(code).toBe(2);
    const lines = stderr.text().trim().split('\n');
    expect(lines.some((l) => l.trimStart().startsWith('--nope: unknown option'))).toBe(true);
    expect(lines.some((l) => l.trimStart().startsWith('BROKER_PORT (--broker-port)'))).toBe(true);
    expect(lines.some((l) => l.trimStart().startsWith('BROKER_MAX_PAYLOAD_BYTES'))).toBe(true);
    expect(
      lines.some((l) => l.trimStart().startsWith('BROKER_ACCOUNTS_FILE') && l.includes('required')),
    ).toBe(true);
  });

  test('a bad accounts file: its problems on stderr, exit code 2', async () => {
    const path = await tempFile('accounts.json', JSON.stringify([{ username: 'gw', role: 'gateway' }]));
    const stderr = capture();
    expect(await runBroker([], { BROKER_ACCOUNTS_FILE: path }, { stderr: stderr.stream })).toBe(2);
    expect(stderr.text()).toContain('[0].passwordHash');
    expect(stderr.text()).toContain('[0].mallId: is required for a gateway account');
  });

  test('hash-password hashes the first line of stdin', async () => {
    const stdout = capture();
    const stdin = Readable.from(['s3cret pass\nsecond line\n']);
    expect(await runBroker(['hash-password'], {}, { stdin, stdout: stdout.stream })).toBe(0);
    const hash = stdout.text().trim();
    expect(hash).toMatch(/^scrypt\$/);
    expect(await verifyPassword('s3cret pass', hash)).toBe(true);
  });

  test('hash-password with empty stdin fails with exit code 2', async () => {
    const stderr = capture();
    expect(await runBroker(['hash-password'], {}, { stdin: Readable.from([]), stderr: stderr.stream })).toBe(
      2,
    );
    expect(stderr.text()).toContain('no password');
  });

  test('starts on the configured ports, serves clients, stops on abort', async () => {
    const password = 'pw-analytics';
    const accountsFile = await tempFile(
      'accounts.json',
      JSON.stringify([
        { username: 'analytics', role: 'analytics', passwordHash: await hashPassword(password) },
      ]),
    );
    const stdout = capture();
    const stop = new AbortController();
    onTestFinished(() => stop.abort());
    const exit = runBroker(
      ['--broker-port', '0', '--broker-ws-port', '0'],
      { BROKER_ACCOUNTS_FILE: accountsFile, LOG_LEVEL: 'info' },
      {
        stdout: stdout.stream,
        signal: stop.signal,
      },
    );
    const listening = await waitFor(
      () =>
        stdout
          .text()
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as { msg: string; url?: string; wsUrl?: string })
          .find((entry) => entry.msg === 'broker listening'),
      { what: 'the listening log line', describe: stdout.text },
    );
    expect(listening.url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(listening.wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(stdout.text()).not.toContain(password);

    const client = await connectAsync(listening.url!, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      username: 'analytics',
      password,
    });
    onTestFinished(() => client.endAsync(true));
    await expect(client.subscribeAsync('mallflow/v1/+/gw/+/+')).resolves.toHaveLength(1);

    stop.abort();
    expect(await exit).toBe(0);
    expect(stdout.text()).toContain('"msg":"broker closed"');
  });
});
