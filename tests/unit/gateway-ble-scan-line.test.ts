import { describe, expect, it } from 'vitest';
import { BleReading, ScaleReading } from '../../core/src/messages.ts';
import { createBleDecoder } from '../../gateway/src/ble/ble-decoder.ts';
import { toHex } from '../../gateway/src/ble/hex-bytes.ts';
import { parseScanLine, parseTs, type ScanLine } from '../../gateway/src/ble/scan-line.ts';
import * as V from './gateway-ble-vectors.ts';

const NOW = 1_763_460_000_000; // 2025-11-18T10:00:00Z

/** The parsed line with its payload as hex, for readable expectations. */
function parsed(line: string): Record<string, unknown> {
  const r: ScanLine = parseScanLine(line, NOW);
  if (r.kind === 'adv') return { ...r, payload: toHex(r.payload) };
  if (r.kind === 'char') return { ...r, value: toHex(r.value) };
  return r;
}

describe('parseScanLine: JSON lines', () => {
  it('reads the documented advertisement line', () => {
    const line = `{"mac":"AA:BB:CC:DD:EE:FF","rssi":-67,"ts":1763460000123,"adv":"${V.AIRLOCATE_IBEACON}"}`;
    expect(parsed(line)).toEqual({
      kind: 'adv',
      mac: 'aa:bb:cc:dd:ee:ff',
      heardAtMs: 1_763_460_000_123,
      rssiDbm: -67,
      payload: V.AIRLOCATE_IBEACON,
    });
  });

  it('reads a characteristic notification line (RSSI optional)', () => {
    expect(parsed('{"mac":"aa-bb-cc-dd-ee-ff","char":"2a9d","value":"001437"}')).toEqual({
      kind: 'char',
      mac: 'aa:bb:cc:dd:ee:ff',
      heardAtMs: NOW,
      charUuid16: 0x2a9d,
      value: '001437',
    });
    for (const char of ['0x2A9C', '00002a9c-0000-1000-8000-00805f9b34fb']) {
      expect(parsed(`{"mac":"aabbccddeeff","char":"${char}","value":"0000ea00"}`)).toMatchObject({
        charUuid16: 0x2a9c,
      });
    }
  });

  it('reads Theengs / OpenMQTTGateway fields back into AD structures', () => {
    const line =
      '{"id":"6F:92:8A:04:E1:79","name":"x","rssi":-89,"manufacturerdata":"4c000215e2c56db5dffb48d2b060d0f5a71096e000000000c5",' +
      '"servicedata":"10000367657470617265746f07","servicedatauuid":"0xfeaa"}';
    expect(parsed(line)).toEqual({
      kind: 'adv',
      mac: '6f:92:8a:04:e1:79',
      heardAtMs: NOW,
      rssiDbm: -89,
      payload:
        `1aff4c000215e2c56db5dffb48d2b060d0f5a71096e000000000c5` + `1016aafe10000367657470617265746f07`,
    });
    // A 128-bit vendor UUID cannot be one of the 16-bit services read here: the data is left out.
    expect(
      parsed(
        '{"id":"6F:92:8A:04:E1:79","rssi":-89,"servicedata":"0102","servicedatauuid":"12345678-1234-1234-1234-123456789abc"}',
      ),
    ).toMatchObject({ kind: 'adv', payload: '' });
  });

  it('keeps an id that is not a MAC as a device key, and the line sensor', () => {
    expect(parsed('{"id":"apple:1005:9-26","rssi":-70,"sensor":"floor2-east"}')).toEqual({
      kind: 'adv',
      deviceKey: 'apple:1005:9-26',
      sensorId: 'floor2-east',
      heardAtMs: NOW,
      rssiDbm: -70,
      payload: '',
    });
  });

  it.each([
    ['{"mac":"AA:BB:CC:DD:EE:FF","rssi":-67', 'bad-json'],
    ['{"mac" "x"}', 'bad-json'],
    ['{}x', 'bad-json'],
    ['{"rssi":-67,"adv":""}', 'missing-mac'],
    ['{"mac":"AA:BB:CC:DD:EE","rssi":-67}', 'bad-mac'],
    ['{"mac":42,"rssi":-67}', 'bad-mac'],
    ['{"id":"","rssi":-67}', 'bad-mac'],
    ['{"mac":"AA:BB:CC:DD:EE:FF"}', 'bad-rssi'],
    ['{"mac":"AA:BB:CC:DD:EE:FF","rssi":"-67"}', 'bad-rssi'],
    ['{"mac":"AA:BB:CC:DD:EE:FF","rssi":-128}', 'bad-rssi'],
    ['{"mac":"AA:BB:CC:DD:EE:FF","rssi":21}', 'bad-rssi'],
    ['{"mac":"AA:BB:CC:DD:EE:FF","rssi":-67,"adv":"02010"}', 'bad-hex'],
    ['{"mac":"AA:BB:CC:DD:EE:FF","rssi":-67,"adv":"zz"}', 'bad-hex'],
    ['{"mac":"AA:BB:CC:DD:EE:FF","rssi":-67,"manufacturerdata":"4c0"}', 'bad-hex'],
    ['{"mac":"AA:BB:CC:DD:EE:FF","rssi":-67,"ts":"yesterday"}', 'bad-ts'],
    ['{"mac":"AA:BB:CC:DD:EE:FF","rssi":-67,"ts":5}', 'bad-ts'],
    ['{"mac":"AA:BB:CC:DD:EE:FF","rssi":-67,"sensor":"Floor 2"}', 'bad-sensor'],
    ['{"mac":"AA:BB:CC:DD:EE:FF","char":"2a37","value":"00"}', 'unknown-char'],
    ['{"mac":"AA:BB:CC:DD:EE:FF","char":"2a9d"}', 'bad-hex'],
  ])('%s → %s', (line, reason) => {
    expect(parseScanLine(line, NOW)).toEqual({ kind: 'bad', reason });
  });

  it('rounds a fractional RSSI', () => {
    expect(parsed('{"mac":"AA:BB:CC:DD:EE:FF","rssi":-67.6}')).toMatchObject({ rssiDbm: -68 });
  });
});

describe('parseScanLine: text lines', () => {
  it('reads <mac> <rssi> <adv>', () => {
    expect(parsed(`AA:BB:CC:DD:EE:FF -67 ${V.RUUVI_URL}`)).toEqual({
      kind: 'adv',
      mac: 'aa:bb:cc:dd:ee:ff',
      heardAtMs: NOW,
      rssiDbm: -67,
      payload: V.RUUVI_URL,
    });
  });

  it('reads btlemon output: epoch seconds first, and a line without data', () => {
    // The btlemon README's example output (hcitool lescan + btmon-based scanner)
    expect(
      parsed('1589219964 4E:AF:83:1E:D6:2F -54 0303AAFE1516AAFE00BFD7088787A44470A9FBD2000000000000'),
    ).toEqual({
      kind: 'adv',
      mac: '4e:af:83:1e:d6:2f',
      heardAtMs: 1_589_219_964_000,
      rssiDbm: -54,
      payload: '0303aafe1516aafe00bfd7088787a44470a9fbd2000000000000',
    });
    expect(parsed('1589219961 40:40:51:17:2B:B1 -87')).toMatchObject({
      kind: 'adv',
      payload: '',
      rssiDbm: -87,
    });
  });

  it('appends the scan response to the advertisement', () => {
    expect(parsed('2025-11-18T10:00:00.5Z aa:bb:cc:dd:ee:ff -60 020106 03094142')).toMatchObject({
      heardAtMs: NOW + 500,
      payload: '02010603094142',
    });
  });

  it('reads the ESP32 AT firmware +BLESCAN format', () => {
    // Example responses quoted in a public ESP32 AT+BLESCAN client
    expect(
      parsed('+BLESCAN:6f:92:8a:04:e1:79,-89,1aff4c000215646be3e46e4e4e25ad0177a28f3df4bd00000000bf,,1'),
    ).toEqual({
      kind: 'adv',
      mac: '6f:92:8a:04:e1:79',
      heardAtMs: NOW,
      rssiDbm: -89,
      payload: '1aff4c000215646be3e46e4e4e25ad0177a28f3df4bd00000000bf',
    });
  });

  it.each([
    ['hello world', 'bad-format'],
    ['aa:bb:cc:dd:ee:ff', 'bad-format'],
    ['aa:bb:cc:dd:ee:ff loud', 'bad-rssi'],
    ['aa:bb:cc:dd:ee:ff -200', 'bad-rssi'],
    ['1589219964 not-a-mac -54', 'bad-mac'],
    ['yesterday aa:bb:cc:dd:ee:ff -54', 'bad-ts'],
    ['aa:bb:cc:dd:ee:ff -54 0201 06 07', 'bad-format'],
    ['aa:bb:cc:dd:ee:ff -54 02010', 'bad-hex'],
    ['+BLESCAN:nonsense,-54,,,1', 'bad-format'],
  ])('%s → %s', (line, reason) => {
    expect(parseScanLine(line, NOW)).toEqual({ kind: 'bad', reason });
  });

  it('skips blank lines and # comments', () => {
    expect(parseScanLine('   ', NOW)).toEqual({ kind: 'blank' });
    expect(parseScanLine('# btmon capture, 2025-11-18', NOW)).toEqual({ kind: 'blank' });
  });
});

describe('parseTs', () => {
  it.each([
    [1_763_460_000_123, 1_763_460_000_123],
    [1_763_460_000, NOW],
    [1_763_460_000.25, NOW + 250],
    ['1763460000', NOW],
    ['1763460000123', NOW + 123],
    ['2025-11-18T10:00:00Z', NOW],
    ['2025-11-18T10:00:00', NOW],
    ['2025-11-18 10:00:00.250', NOW + 250],
    ['2025-11-18T18:00:00+08:00', NOW],
    ['2025-11-18T18:00:00+0800', NOW],
    ['2025-11-18T18:00+08', NOW],
    ['2025-11-18T05:00:00-05:00', NOW],
  ])('%j → %d', (value, expected) => {
    expect(parseTs(value, 0)).toBe(expected);
  });

  it('uses the clock when absent, and refuses what cannot be a time of this century', () => {
    expect(parseTs(undefined, NOW)).toBe(NOW);
    expect(parseTs(null, NOW)).toBe(NOW);
    for (const bad of [-1, 0, 5, Number.NaN, 5e12, '2025-13-01T00:00:00Z', '18/11/2025', true, {}]) {
      expect(parseTs(bad, NOW), String(bad)).toBeUndefined();
    }
  });
});

describe('createBleDecoder', () => {
  const SCALE = 'F1:46:E3:55:15:C8';

  function decode(lines: string[], options: Partial<Parameters<typeof createBleDecoder>[0]> = {}) {
    const d = createBleDecoder({ sensorId: 'scanner-1', ...options });
    for (const l of lines) d.pushLine(l, NOW);
    d.flush();
    return { ...d.take(), stats: d.stats() };
  }

  it('turns each advertisement into one sighting, with the beacon when there is one', () => {
    const out = decode([
      `{"mac":"6A:6B:C9:A2:3E:43","rssi":-77,"adv":"${V.BLE_MONITOR_IBEACON}"}`,
      `{"mac":"6A:6B:C9:A2:3E:44","rssi":-71,"adv":"${V.IPHONE_NEARBY}","sensor":"door-2"}`,
      `1589219964 4E:AF:83:1E:D6:2F -54 ${V.BLUECHARM_UID}`,
      '{"id":"apple:1005:9-26","rssi":-70}',
    ]);
    expect(out.ble).toEqual([
      {
        sensorId: 'scanner-1',
        heardAt: NOW,
        rssiDbm: -77,
        mac: '6a:6b:c9:a2:3e:43',
        beacon: {
          kind: 'ibeacon',
          uuid: 'e2c56db5-dffb-48d2-b060-d0f5a71096e0',
          major: 100,
          minor: 0,
          txPowerDbm: -59,
        },
      },
      { sensorId: 'door-2', heardAt: NOW, rssiDbm: -71, mac: '6a:6b:c9:a2:3e:44' },
      {
        sensorId: 'scanner-1',
        heardAt: 1_589_219_964_000,
        rssiDbm: -54,
        mac: '4e:af:83:1e:d6:2f',
        beacon: { kind: 'eddystone-uid', namespace: '626c7565636861726d31', instance: '000000000001' },
      },
      { sensorId: 'scanner-1', heardAt: NOW, rssiDbm: -70, deviceKey: 'apple:1005:9-26' },
    ]);
    expect(out.stats).toMatchObject({ lines: 4, sightings: 4, ibeacons: 1, eddystoneUids: 1 });
    for (const r of out.ble) expect(BleReading.shape.beacon.safeParse(r.beacon).success).toBe(true);
  });

  it('counts bad lines by reason and carries on', () => {
    const out = decode([
      '{"mac":',
      'garbage',
      '{"mac":"AA:BB:CC:DD:EE:FF","rssi":99}',
      `{"mac":"AA:BB:CC:DD:EE:FF","rssi":-60,"adv":"${V.RUUVI_URL.slice(0, 40)}"}`,
      `{"mac":"AA:BB:CC:DD:EE:FF","rssi":-60,"adv":"0201060303aafe1516aafe2001${'ab'.repeat(16)}"}`,
      '',
      `{"mac":"AA:BB:CC:DD:EE:FF","rssi":-60,"adv":"${V.RUUVI_URL}"}`,
    ]);
    expect(out.ble).toHaveLength(2);
    expect(out.ble[0]?.beacon).toBeUndefined(); // the encrypted TLM: sighting kept, frame skipped
    expect(out.ble[1]?.beacon).toMatchObject({ kind: 'eddystone-url' });
    expect(out.stats).toMatchObject({
      lines: 7,
      blankLines: 1,
      badJson: 1,
      badFormat: 1,
      badRssi: 1,
      adTruncated: 1,
      eddystoneEncryptedTlm: 1,
      sightings: 2,
    });
  });

  it('publishes scales as readings, never as sightings, and never with their address', () => {
    const scaleLines = [V.MIBCS_UNSETTLED, V.MIBCS_SETTLED, V.MIBCS_SETTLED, V.MIBCS_REMOVED].map(
      (adv) => `{"mac":"${SCALE}","rssi":-80,"adv":"${adv}"}`,
    );
    // The scale's other advertisements (here: just its name) are not sightings either.
    const out = decode([...scaleLines, `{"mac":"${SCALE}","rssi":-80,"adv":"06094d49424353"}`]);
    expect(out.ble).toEqual([]);
    expect(out.scale).toEqual([
      { sensorId: 'scanner-1', measuredAt: NOW, weightKg: 95.2, impedanceOhm: 486 },
    ]);
    expect(out.stats).toMatchObject({ scaleSightingsSuppressed: 1, scaleWeighIns: 1, scaleDuplicates: 1 });
    const published = JSON.stringify(out.scale);
    expect(published).not.toMatch(/f1.?46.?e3.?55.?15.?c8/i);
    for (const r of out.scale) expect(ScaleReading.safeParse(r).success).toBe(true);
  });

  it('gives a scale the sensor id it is mapped to, and hides a mapped scale that sends nothing else', () => {
    const out = decode(
      [
        `{"mac":"c8:47:8c:c0:95:89","rssi":-70,"adv":"06094d49424353"}`,
        `{"mac":"${SCALE}","rssi":-80,"adv":"${V.MIBCS_SETTLED}"}`,
        `C8:47:8C:C0:95:89 -70 ${V.MI1_STABLE}`,
        `{"id":"Gym-Scale-3","rssi":-70,"servicedata":"${V.MI1_STABLE.slice(-20)}","servicedatauuid":"181d"}`,
      ],
      {
        scaleSensorIds: new Map([
          ['C8-47-8C-C0-95-89', 'scale-entrance'],
          ['gym-scale-3 ', 'scale-gym'],
          ['zz', 'scale-unused'],
        ]),
      },
    );
    expect(out.ble).toEqual([]);
    expect(out.scale.map((r) => [r.sensorId, r.weightKg])).toEqual([
      ['scanner-1', 95.2],
      ['scale-entrance', 86.55],
      ['scale-gym', 86.55],
    ]);
  });

  it('reads GATT notification lines into one merged weigh-in', () => {
    const out = decode([
      '{"mac":"00:1a:2b:3c:4d:5e","ts":"2025-11-18T10:00:02Z","char":"2a9d","value":"0e8642e9070b120a0000011601d606"}',
      '{"mac":"00:1a:2b:3c:4d:5e","ts":"2025-11-18T10:00:03Z","char":"2a9c","value":"0002ea00fc12"}',
      '{"mac":"00:1a:2b:3c:4d:5e","char":"2a9d","value":"00ffff"}',
      '{"mac":"00:1a:2b:3c:4d:5e","char":"2a9d","value":"0e8642"}',
    ]);
    expect(out.scale).toEqual([
      { sensorId: 'scanner-1', measuredAt: NOW, weightKg: 85.15, impedanceOhm: 486, bodyFatPct: 23.4 },
    ]);
    expect(out.stats).toMatchObject({ scaleNotifications: 4, scaleUnsuccessful: 1, scaleTruncated: 1 });
  });

  it('refuses a sensor id that is not an id', () => {
    expect(() => createBleDecoder({ sensorId: 'Scanner 1' })).toThrow(
      expect.objectContaining({ code: 'INVALID_SENSOR_ID', message: 'invalid sensor id: Scanner 1' }),
    );
    expect(() =>
      createBleDecoder({ sensorId: 's1', scaleSensorIds: new Map([['aa:bb:cc:dd:ee:ff', 'Bad Id']]) }),
    ).toThrow(/invalid scale sensor id: Bad Id/);
  });
});
