import { type Logger, pino } from 'pino';
import type { CommandConfig } from '../../core/src/config.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_BAD_CONFIG = 2;

/** One root logger per process: JSON to stdout, the component named on every line. */
export function createLogger(component: string, level: string): Logger {
  return pino({ base: { component }, level });
}

/**
 * Prints help or config errors for a `CommandConfig`; returns the exit code when the command
 * should stop there, or undefined to go on with `config`.
 */
export function reportCommandConfig<T>(c: CommandConfig<T>, command: string): number | undefined {
  if (c.kind === 'help') {
    process.stdout.write(`${c.text}\n`);
    return EXIT_OK;
  }
  if (c.kind === 'invalid') {
    process.stderr.write(
      `mallflow ${command}: invalid configuration\n${c.errors.map((e) => `  ${e}\n`).join('')}`,
    );
    process.stderr.write(`Run 'mallflow ${command} --help' for the options.\n`);
    return EXIT_BAD_CONFIG;
  }
  return undefined;
}

/**
 * A Ctrl-C reaches this process more than once (the terminal signals the whole process group, and
 * npm and tsx relay it too), so repeats within this window are the same request, not an insistence.
 */
const REPEATED_SIGNAL_WINDOW_MS = 1_500;

/** Resolves on the first SIGINT or SIGTERM; another one after the repeat window exits at once. */
export function waitForShutdownSignal(log: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
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
  });
}
