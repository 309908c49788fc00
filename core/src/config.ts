import { z } from 'zod';

// Shared, pure config plumbing: every component describes its settings as one zod object of
// UPPER_SNAKE env keys; `--some-key value` / `--some-key=value` flags override `SOME_KEY` env.

export type ConfigResult<T> = { ok: true; config: Readonly<T> } | { ok: false; errors: string[] };

export function flagToKey(flag: string): string {
  return flag.replace(/^--/, '').replace(/-/g, '_').toUpperCase();
}

export function keyToFlag(key: string): string {
  return `--${key.toLowerCase().replace(/_/g, '-')}`;
}

/** Parses `--key value` and `--key=value` pairs; a bare `--flag` means 'true'. */
export function parseFlags(argv: readonly string[]): { values: Record<string, string>; errors: string[] } {
  const values: Record<string, string> = {};
  const errors: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      errors.push(`unexpected argument "${arg}"`);
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq > 0) {
      values[flagToKey(arg.slice(0, eq))] = arg.slice(eq + 1);
      continue;
    }
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      values[flagToKey(arg)] = next;
      i++;
    } else values[flagToKey(arg)] = 'true';
  }
  return { values, errors };
}

/**
 * Builds a frozen config from env and flags. Every problem is reported at once, each naming
 * the key (as env var and flag) and what is wrong with it. Unknown flags are errors; unknown
 * env vars are ignored (the environment holds much else).
 */
export function parseConfig<S extends z.ZodObject>(
  schema: S,
  env: Readonly<Record<string, string | undefined>>,
  argv: readonly string[] = [],
): ConfigResult<z.infer<S>> {
  const { values: flags, errors } = parseFlags(argv);
  const keys = Object.keys(schema.shape);
  for (const key of Object.keys(flags)) {
    if (!keys.includes(key)) errors.push(`${keyToFlag(key)}: unknown option`);
  }
  const input: Record<string, string> = {};
  for (const key of keys) {
    const value = flags[key] ?? env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '');
      const given = input[key];
      const shown =
        given === undefined ? 'not set' : `got "${given.length > 60 ? `${given.slice(0, 60)}…` : given}"`;
      errors.push(`${key} (${keyToFlag(key)}): ${issue.message} (${shown})`);
    }
  }
  if (errors.length > 0 || !parsed.success) return { ok: false, errors };
  return { ok: true, config: Object.freeze(parsed.data) };
}

/** `--help` text generated from the schema's `.describe()` texts and defaults. */
export function formatHelp(command: string, summary: string, schema: z.ZodObject): string {
  const lines = [
    `Usage: mallflow ${command} [options]`,
    '',
    summary,
    '',
    'Options (flag or environment variable):',
  ];
  for (const [key, field] of Object.entries(schema.shape)) {
    const f = field as z.ZodType;
    const description = f.description ?? '';
    let fallback = '';
    const def = (f as { _zod?: { def?: { defaultValue?: unknown; type?: string } } })._zod?.def;
    if (def?.type === 'default') fallback = ` [default: ${JSON.stringify(def.defaultValue)}]`;
    lines.push(`  ${keyToFlag(key).padEnd(28)} ${key.padEnd(26)} ${description}${fallback}`);
  }
  return lines.join('\n');
}

/** Booleans from env need an explicit enum: z.coerce.boolean() reads 'false' as true. */
export const BOOLEAN_STRINGS = ['true', 'false'] as const;

export type CommandConfig<T> =
  | { kind: 'help'; text: string }
  | { kind: 'invalid'; errors: string[] }
  | { kind: 'ok'; config: Readonly<T> };

/** `--help`, or the parsed config, or every problem with it: what each `mallflow X` does first. */
export function resolveCommandConfig<S extends z.ZodObject>(
  command: string,
  summary: string,
  schema: S,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): CommandConfig<z.infer<S>> {
  if (argv.includes('--help') || argv.includes('-h'))
    return { kind: 'help', text: formatHelp(command, summary, schema) };
  const r = parseConfig(schema, env, argv);
  return r.ok ? { kind: 'ok', config: r.config } : { kind: 'invalid', errors: r.errors };
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The `LOG_LEVEL` key every command has; `fallback` is its default. */
export function logLevelKey(fallback: (typeof LOG_LEVELS)[number] = 'info') {
  return z.enum(LOG_LEVELS).default(fallback).describe('Log level (pino)');
}
