import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { resolveCommandConfig } from '../../core/src/config.ts';
import { EXIT_BAD_CONFIG, reportCommandConfig, waitForShutdownSignal } from '../../infra/src/process.ts';
import { AccountStore, AccountsFileError, hashPassword, loadAccountsFile } from './accounts.ts';
import { BrokerListenError, createBroker } from './broker.ts';
import { BrokerConfig } from './config.ts';

/** Streams and a stop signal, injectable for tests; the process's own by default. */
export interface BrokerIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Stops the broker like SIGINT/SIGTERM do. */
  signal?: AbortSignal;
}

const SUMMARY = [
  'Runs the MQTT broker (Aedes, MQTT 3.1.1) on TCP and WebSocket, with password accounts and',
  'per-gateway topic ACLs. Stops on SIGINT/SIGTERM.',
  '',
  'Subcommands:',
  '  hash-password   reads a password from the first line of stdin and prints its scrypt hash',
  '                  for the accounts file: printf "%s\\n" "$PW" | mallflow broker hash-password',
].join('\n');

async function readFirstLine(stdin: NodeJS.ReadableStream): Promise<string | undefined> {
  const lines = createInterface({ input: stdin, crlfDelay: Number.POSITIVE_INFINITY, terminal: false });
  try {
    for await (const line of lines) return line;
    return undefined;
  } finally {
    lines.close();
  }
}

async function runHashPassword(argv: readonly string[], io: BrokerIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write('Usage: mallflow broker hash-password < password-file\n\n');
    io.stdout.write('Prints the scrypt hash (scrypt$N$r$p$salt$hash) of the first line of stdin.\n');
    return 0;
  }
  if (argv.length > 0) {
    io.stderr.write(`unexpected argument "${argv[0]}": the password is read from stdin\n`);
    return 2;
  }
  if (io.stdin.isTTY) io.stderr.write('password (shown as typed): ');
  const password = await readFirstLine(io.stdin);
  if (!password) {
    io.stderr.write('no password: give it as the first line of stdin\n');
    return 2;
  }
  io.stdout.write(`${await hashPassword(password)}\n`);
  return 0;
}

/** `mallflow broker [options]` and `mallflow broker hash-password`. Returns the exit code. */
export async function runBroker(
  argv: string[],
  env: NodeJS.ProcessEnv,
  ioOverrides: Partial<BrokerIo> = {},
): Promise<number> {
  const io: BrokerIo = {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    ...ioOverrides,
  };
  if (argv[0] === 'hash-password') return runHashPassword(argv.slice(1), io);
  const output = { out: (t: string) => void io.stdout.write(t), err: (t: string) => void io.stderr.write(t) };
  const resolved = resolveCommandConfig('broker', SUMMARY, BrokerConfig, argv, env);
  const stop = reportCommandConfig(resolved, 'broker', output);
  if (stop !== undefined || resolved.kind !== 'ok') return stop ?? EXIT_BAD_CONFIG;
  const config = resolved.config;

  let accounts: AccountStore;
  try {
    accounts = new AccountStore(await loadAccountsFile(config.BROKER_ACCOUNTS_FILE));
  } catch (err) {
    if (!(err instanceof AccountsFileError)) throw err;
    for (const problem of err.problems)
      io.stderr.write(`BROKER_ACCOUNTS_FILE ${config.BROKER_ACCOUNTS_FILE}: ${problem}\n`);
    return 2;
  }

  const logOptions = { base: { component: 'broker' }, level: config.LOG_LEVEL };
  // pino's own stdout destination unless a test hands in a stream.
  const log = ioOverrides.stdout ? pino(logOptions, ioOverrides.stdout) : pino(logOptions);
  let broker: Awaited<ReturnType<typeof createBroker>>;
  try {
    broker = await createBroker({
      host: config.BROKER_HOST,
      port: config.BROKER_PORT,
      wsPort: config.BROKER_WS_PORT,
      accounts,
      maxPayloadBytes: config.BROKER_MAX_PAYLOAD_BYTES,
      logger: log,
    });
  } catch (err) {
    if (!(err instanceof BrokerListenError)) throw err;
    log.error({ err }, 'broker failed to start');
    return 1;
  }
  log.info(
    {
      url: broker.url,
      wsUrl: broker.wsUrl,
      accounts: accounts.size,
      maxPayloadBytes: config.BROKER_MAX_PAYLOAD_BYTES,
    },
    'broker listening',
  );

  await waitForShutdownSignal(log, io.signal);
  await broker.close();
  return 0;
}
