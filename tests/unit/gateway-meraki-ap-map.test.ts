import { describe, expect, it } from 'vitest';
import { parseApMap } from '../../gateway/src/meraki/ap-map.ts';
import { createRecentRecords } from '../../gateway/src/meraki/recent-records.ts';

describe('parseApMap', () => {
  it('reads CSV with a header, comments, blank lines and any MAC form', () => {
    const text = [
      'apMac,sensorId',
      '# ground floor',
      'AA:AA:AA:11:11:11,mr-entrance',
      '',
      'aa-aa-aa-22-22-22, mr-atrium ',
      'aaaaaa333333,mr-atrium',
      '"aa:aa:aa:44:44:44","mr-office"',
    ].join('\r\n');
    const { apSensors, problems } = parseApMap(text);
    expect(problems).toEqual([]);
    expect([...apSensors]).toEqual([
      ['aa:aa:aa:11:11:11', 'mr-entrance'],
      ['aa:aa:aa:22:22:22', 'mr-atrium'],
      ['aa:aa:aa:33:33:33', 'mr-atrium'],
      ['aa:aa:aa:44:44:44', 'mr-office'],
    ]);
  });

  it('reads JSON lines, and both forms in one file', () => {
    const text = [
      '{"apMac":"aa:aa:aa:11:11:11","sensorId":"mr-entrance"}',
      'aa:aa:aa:22:22:22,mr-atrium',
    ].join('\n');
    expect([...parseApMap(text).apSensors.values()]).toEqual(['mr-entrance', 'mr-atrium']);
  });

  it('names the line and the problem of every bad line, and keeps the good ones', () => {
    const text = [
      'aa:aa:aa:11:11:11,mr-entrance', // 1
      'aa:aa:aa:11:11,mr-short', // 2
      'aa:aa:aa:22:22:22,Atrium Sensor', // 3
      'aa:aa:aa:33:33:33', // 4
      '{"apMac":"aa:aa:aa:44:44:44"', // 5
      '{"apMac":"aa:aa:aa:55:55:55","sensorId":7}', // 6
      'AA-AA-AA-11-11-11,mr-again', // 7
      'a,b,c', // 8
      '["aa:aa:aa:66:66:66","mr-x"]', // 9
    ].join('\n');
    const { apSensors, problems } = parseApMap(text);
    expect(problems).toEqual([
      'line 2: apMac is not a MAC address (e.g. aa:bb:cc:dd:ee:ff)',
      'line 3: sensorId must be 1-63 chars of a-z, 0-9, "_" or "-", starting with a letter or digit',
      'line 4: expected "apMac,sensorId" (2 fields), found 1',
      'line 5: not valid JSON',
      'line 6: sensorId must be 1-63 chars of a-z, 0-9, "_" or "-", starting with a letter or digit',
      'line 7: this AP is already mapped on line 1',
      'line 8: expected "apMac,sensorId" (2 fields), found 3',
      'line 9: a JSON line must be an object {"apMac": ..., "sensorId": ...}',
    ]);
    expect([...apSensors]).toEqual([['aa:aa:aa:11:11:11', 'mr-entrance']]);
  });

  it('takes a header only as the first line', () => {
    expect(parseApMap('aa:aa:aa:11:11:11,s-1\napMac,sensorId').problems).toEqual([
      'line 2: apMac is not a MAC address (e.g. aa:bb:cc:dd:ee:ff)',
    ]);
  });
});

describe('createRecentRecords', () => {
  const NOW = 1_700_000_000_000;
  const AP1 = 'aa:aa:aa:11:11:11';
  const AP2 = 'aa:aa:aa:22:22:22';

  it('admits a (client, AP, time) once while it is inside the window', () => {
    const recent = createRecentRecords({ windowMs: 60_000 });
    expect(recent.admit('c1', AP1, NOW - 1000, NOW)).toBe('new');
    expect(recent.admit('c1', AP1, NOW - 1000, NOW + 30_000)).toBe('duplicate');
    expect(recent.admit('c1', AP2, NOW - 1000, NOW)).toBe('new');
    expect(recent.admit('c2', AP1, NOW - 1000, NOW)).toBe('new');
    expect(recent.admit('c1', AP1, NOW, NOW)).toBe('new');
    expect(recent.admit('c1', AP1, NOW - 61_000, NOW)).toBe('stale');
    expect(recent.size()).toBe(4);
  });

  it('forgets records that left the window when pruned', () => {
    const recent = createRecentRecords({ windowMs: 60_000 });
    recent.admit('c1', AP1, NOW, NOW);
    recent.admit('c1', AP2, NOW + 50_000, NOW + 50_000);
    recent.admit('c2', AP1, NOW, NOW);
    recent.prune(NOW + 70_000);
    expect(recent.size()).toBe(1);
    expect(recent.admit('c1', AP2, NOW + 50_000, NOW + 70_000)).toBe('duplicate');
    expect(recent.admit('c2', AP1, NOW + 20_000, NOW + 70_000)).toBe('new');
  });

  it('never holds more than maxEntries, forgetting the client first remembered', () => {
    const recent = createRecentRecords({ windowMs: 60_000, maxEntries: 3 });
    recent.admit('c1', AP1, NOW, NOW);
    recent.admit('c1', AP2, NOW, NOW);
    recent.admit('c2', AP1, NOW, NOW);
    recent.admit('c3', AP1, NOW, NOW);
    expect(recent.size()).toBe(2);
    expect(recent.evicted()).toBe(2);
    expect(recent.admit('c2', AP1, NOW, NOW)).toBe('duplicate');
    expect(recent.admit('c1', AP1, NOW, NOW)).toBe('new');
  });
});
