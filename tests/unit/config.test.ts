import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatHelp, parseConfig } from '../../core/src/config.ts';

const Schema = z.object({
  BROKER_PORT: z.coerce.number().int().min(0).max(65535).default(1884).describe('TCP port'),
  SITE_SECRET: z.string().min(16).describe('HMAC key'),
  LOG_PRETTY: z.enum(['true', 'false']).default('false').describe('Pretty logs'),
});

describe('parseConfig', () => {
  it('reads env, lets flags override it, and applies defaults', () => {
    const r = parseConfig(Schema, { SITE_SECRET: 'x'.repeat(16), BROKER_PORT: '1' }, ['--broker-port', '2']);
    expect(r).toEqual({
      ok: true,
      config: { BROKER_PORT: 2, SITE_SECRET: 'x'.repeat(16), LOG_PRETTY: 'false' },
    });
  });

  it('reports every problem at once, naming the key, the flag and the bad value', () => {
    const r = parseConfig(Schema, { BROKER_PORT: 'abc' }, ['--log-pretty=yes', '--nope', '1']);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toHaveLength(4);
    expect(r.errors.join('\n')).toMatch(/--nope: unknown option/);
    expect(r.errors.join('\n')).toMatch(/BROKER_PORT \(--broker-port\): .*got "abc"/);
    expect(r.errors.join('\n')).toMatch(/SITE_SECRET \(--site-secret\): .*not set/);
    expect(r.errors.join('\n')).toMatch(/LOG_PRETTY \(--log-pretty\): .*got "yes"/);
  });

  it('generates help from the descriptions', () => {
    const help = formatHelp('broker', 'Runs the broker.', Schema);
    expect(help).toMatch(/--broker-port\s+BROKER_PORT\s+TCP port \[default: 1884\]/);
    expect(help).toMatch(/--site-secret\s+SITE_SECRET\s+HMAC key$/m);
  });
});
