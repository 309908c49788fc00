import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { recordBroker, startTestBroker } from 'mallflow/testkit';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { pseudonymize } from '../../core/src/privacy.ts';
import { createGateway } from '../../gateway/src/gateway.ts';
import { readOptOutFile } from '../../gateway/src/main.ts';
import { runOptOut } from '../../gateway/src/opt-out-command.ts';

// Opting out: the operator turns MACs into pseudonyms with `mallflow gateway opt-out`, the
// gateway reads that file and drops those devices before anything is published.

const SECRET = 'opt-out-test-secret-01';

async function optOut(input: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => {
    out += c;
  });
  stderr.on('data', (c) => {
    err += c;
  });
  const code = await runOptOut(
    [],
    { SITE_SECRET: SECRET },
    { stdin: Readable.from([input]), stdout, stderr },
  );
  return { code, out, err };
}

describe('gateway opt-out', () => {
  it('prints pseudonyms for MACs in any notation and reports bad lines by number only', async () => {
    const { code, out, err } = await optOut(
      '# opted out at the desk\nAA-BB-CC-DD-EE-01\nnot-a-mac 12\n\naabbccddee02\n',
    );
    expect(code).toBe(2);
    expect(out.trim().split('\n')).toEqual([
      pseudonymize('aa:bb:cc:dd:ee:01', SECRET),
      pseudonymize('aa:bb:cc:dd:ee:02', SECRET),
    ]);
    expect(err).toBe('line 3: not a MAC address\n');
    expect(await optOut('aa:bb:cc:dd:ee:01\n')).toMatchObject({ code: 0 });
    const noSecret = await runOptOut(
      [],
      {},
      {
        stdin: Readable.from(['']),
        stdout: new PassThrough(),
        stderr: new PassThrough(),
      },
    );
    expect(noSecret).toBe(2);
  });

  it('the gateway drops opted-out devices before publishing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opt-out-'));
    const broker = await startTestBroker();
    try {
      const file = join(dir, 'opt-out.txt');
      writeFileSync(file, (await optOut('aa:bb:cc:dd:ee:01\n')).out);
      const login = await broker.addGateway('small-store', 'gw-o');
      const recorder = await recordBroker(broker.url, await broker.addObserver());
      const gateway = await createGateway({
        mqttUrl: broker.url,
        ...login,
        siteSecret: SECRET,
        optOut: readOptOutFile(file),
        maxBatchReadings: 100,
        flushIntervalMs: 50,
        heartbeatIntervalMs: 0,
        logger: pino({ level: 'silent' }),
      });
      const heardAt = Date.UTC(2026, 10, 23, 10);
      gateway.pushWifi([
        { sensorId: 's1', heardAt, rssiDbm: -60, mac: 'AA:BB:CC:DD:EE:01' },
        { sensorId: 's1', heardAt, rssiDbm: -61, mac: 'aa:bb:cc:dd:ee:02' },
      ]);
      gateway.pushBle([{ sensorId: 's1', heardAt, rssiDbm: -70, mac: 'aa-bb-cc-dd-ee-01' }]);
      await gateway.close();
      expect(gateway.stats()).toMatchObject({ optedOut: 2, readingsPublished: 1 });
      const devices = recorder.messages
        .filter((m) => /\/(wifi|ble)$/.test(m.topic))
        .flatMap((m) => (m.payload as { readings: { device: string }[] }).readings.map((r) => r.device));
      expect(devices).toEqual([pseudonymize('aa:bb:cc:dd:ee:02', SECRET)]);
      await recorder.close();
    } finally {
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
