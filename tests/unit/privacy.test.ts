import { describe, expect, it } from 'vitest';
import { isRandomizedMac, normalizeMac, pseudonymize, redactMacs } from '../../core/src/privacy.ts';

describe('normalizeMac', () => {
  it.each([
    ['AA:BB:CC:DD:EE:FF', 'aa:bb:cc:dd:ee:ff'],
    ['aa-bb-cc-dd-ee-ff', 'aa:bb:cc:dd:ee:ff'],
    ['aabbccddeeff', 'aa:bb:cc:dd:ee:ff'],
    [' 02:00:00:00:00:01 ', '02:00:00:00:00:01'],
    ['aa:bb:cc:dd:ee', undefined],
    ['aa:bb-cc:dd:ee:ff', undefined],
    ['gg:bb:cc:dd:ee:ff', undefined],
    ['', undefined],
  ])('%j → %j', (input, expected) => {
    expect(normalizeMac(input)).toBe(expected);
  });
});

describe('isRandomizedMac (locally administered bit)', () => {
  it.each([
    ['00:1a:2b:3c:4d:5e', false],
    ['3c:22:fb:00:00:01', false],
    ['02:00:00:00:00:01', true],
    ['da:a1:19:00:00:01', true],
    ['fe:ff:ff:ff:ff:ff', true],
    ['fc:ff:ff:ff:ff:ff', false],
  ])('%s → %s', (mac, expected) => {
    expect(isRandomizedMac(mac)).toBe(expected);
  });
});

describe('pseudonymize', () => {
  const mac = 'aa:bb:cc:dd:ee:ff';

  it('is 32 hex digits, stable for one secret, different across secrets and devices', () => {
    const a = pseudonymize(mac, 'site-secret-one-0123');
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(pseudonymize(mac, 'site-secret-one-0123')).toBe(a);
    expect(pseudonymize(mac, 'site-secret-two-0123')).not.toBe(a);
    expect(pseudonymize('aa:bb:cc:dd:ee:fe', 'site-secret-one-0123')).not.toBe(a);
  });

  it('matches HMAC-SHA-256 truncated to 128 bits (known vector)', () => {
    // echo -n 'aa:bb:cc:dd:ee:ff' | openssl dgst -sha256 -hmac 'key' | cut -c1-32
    expect(pseudonymize(mac, 'key')).toBe('65483338ba669acf4e21376484390738');
  });

  it('does not contain the MAC digits in any form', () => {
    const p = pseudonymize(mac, 'site-secret-one-0123');
    expect(p).not.toContain('aabbccddeeff');
  });
});

describe('redactMacs', () => {
  it('replaces colon and dash MACs in free text', () => {
    expect(redactMacs('{"mac":"AA:BB:CC:DD:EE:FF","x":"aa-bb-cc-dd-ee-ff"}')).toBe(
      '{"mac":"[mac-redacted]","x":"[mac-redacted]"}',
    );
  });
  it('leaves pseudonyms and times alone', () => {
    const text = '{"device":"65483338ba669acf4e21376484390738","t":"10:00:00"}';
    expect(redactMacs(text)).toBe(text);
  });
});
