import { type Logger, pino } from 'pino';
import type { CommandConfig } from '../../core/src/config.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_BAD_CONFIG = 2;

/** One root logger per process: JSON to stdout, the component named on every line. */
export function createLogger(component: string, level: string): Logger {
  return pino({ base: { component }, level });
}

/** Where a command writes; the process's own streams unless a test or an embedder hands in others. */
export interface CommandOutput {
  out(text: string): void;
  err(text: string): void;
}

export const PROCESS_OUTPUT: CommandOutput = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/**
 * Prints help or config errors for a `CommandConfig`; returns the exit code when the command
 * should stop there, or undefined to go on with `config`.
 */
export function reportCommandConfig<T>(
  c: CommandConfig<T>,
  command: string,
  output: CommandOutput = PROCESS_OUTPUT,
): number | undefined {
  if (c.kind === 'help') {
    output.out(`${c.text}\n`);
    return EXIT_OK;
  }
  if (c.kind === 'invalid') {
    output.err(`mallflow ${command}: invalid configuration\n${c.errors.map((e) => `  ${e}\n`).join('')}`);
    output.err(`Run 'mallflow ${command} --help' for the options.\n`);
    return EXIT_BAD_CONFIG;
  }
  return undefined;
}

/**
 * A Ctrl-C reaches this process more than once (the terminal signals the whole process group, and
 * npm and tsx relay it too), so repeats within this window are the same request, not an insistence.
 */
const REPEATED_SIGNAL_WINDOW_MS = 1_500;

/**
 * Resolves on the first SIGINT or SIGTERM (or when `abort` fires: tests and embedders stop a
 * command that way); another signal after the repeat window exits at once.
 */
export function waitForShutdownSignal(log: Logger, abort?: AbortSignal): Promise<NodeJS.Signals | 'abort'> {
  return new Promise((resolve) => {
    const onAbort = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      log.info({ signal: 'abort' }, 'shutting down');
      resolve('abort');
    };
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      abort?.removeEventListener('abort', onAbort);
      const firstAtMs = Date.now();
      const force = (s: NodeJS.Signals) => {
        if (Date.now() - firstAtMs < REPEATED_SIGNAL_WINDOW_MS) return;
        log.warn({ signal: s }, 'second signal: exiting without a clean shutdown');
        process.exit(EXIT_FAILURE);
      };
      process.on('SIGINT', force);
      process.on('SIGTERM', force);
      log.info({ signal }, 'shutting down');
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (abort?.aborted) onAbort();
    else abort?.addEventListener('abort', onAbort, { once: true });
  });
}
