import { runAnalytics, runMigrate } from '../../analytics/src/main.ts';
import { runRecompute } from '../../analytics/src/recompute-command.ts';
import { runBroker } from '../../broker/src/main.ts';
import { runDashboard } from '../../dashboard/src/main.ts';
import { runGateway } from '../../gateway/src/main.ts';
import { loadLayoutFile } from '../../simulators/src/load-layout.ts';
import { runSimulate } from './commands/simulate.ts';
import { runStart } from './commands/start.ts';
import { createSimSource } from './sim-source.ts';

const COMMANDS: Record<
  string,
  { summary: string; run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> }
> = {
  start: {
    summary: 'everything in one process on the embedded database, with a simulated mall',
    run: runStart,
  },
  broker: {
    summary: 'the MQTT broker (Aedes: TCP + WebSocket, auth and topic ACL)',
    run: (a, e) => runBroker(a, e),
  },
  gateway: {
    summary: 'an edge gateway: pseudonymize, batch, publish',
    run: (a, e) =>
      runGateway(a, e, {
        simulator: (c) =>
          createSimSource({
            layout: loadLayoutFile(c.LAYOUT_FILE),
            seed: c.SIM_SEED,
            speed: c.SIM_SPEED,
            warmupMs: 0,
          }),
      }),
  },
  analytics: { summary: 'the analytics worker: validate, store, occupancy', run: runAnalytics },
  dashboard: {
    summary: 'the dashboard: REST API, Socket.IO and the live page',
    run: (a, e) => runDashboard(a, e),
  },
  simulate: { summary: 'simulate a mall and publish its readings through a gateway', run: runSimulate },
  migrate: { summary: 'apply database migrations', run: runMigrate },
  recompute: {
    summary: "re-run a mall's stored sightings through the engine and replace what was derived",
    run: runRecompute,
  },
};

function usage(): string {
  const lines = ['Usage: mallflow <command> [options]   (each command takes --help)', '', 'Commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  return lines.join('\n');
}

const [command, ...rest] = process.argv.slice(2);
if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
  process.stdout.write(`${usage()}\n`);
  process.exit(command === undefined ? 2 : 0);
}
const entry = COMMANDS[command];
if (!entry) {
  process.stderr.write(`mallflow: unknown command "${command}"\n${usage()}\n`);
  process.exit(2);
}
try {
  process.exitCode = await entry.run(rest, process.env);
} catch (err) {
  // Our own errors carry a code and a message written for the operator; anything else is a bug.
  const known =
    err instanceof Error && typeof (err as { code?: unknown }).code === 'string' && !('errno' in err);
  process.stderr.write(
    `mallflow ${command}: ${known ? (err as Error).message : ((err as Error).stack ?? String(err))}\n`,
  );
  process.exitCode = 1;
}
