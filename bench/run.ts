import { loadShippedLayout } from '../simulators/src/load-layout.ts';
import { createTestDb, prepareTemplates } from '../tests/helpers/db.ts';
import { benchEngineMemory, printEngineMemory } from './engine-memory.ts';
import { benchHistoryQueries } from './history-queries.ts';
import { benchIngest, printIngest } from './ingest-e2e.ts';
import { benchOccupancyEngine, printOccupancyEngine } from './occupancy-engine.ts';
import { benchPcapParse, printPcapParse } from './pcap-parse.ts';
import { benchSimScale, printSimScale } from './sim-scale.ts';

// `npm run bench`: prints each figure next to its baseline measured in the same run.
// BENCH_ROWS sets the ingest size, BENCH_DEVICES the engine memory bench's devices; TEST_DATABASE_URL adds the PostgreSQL server to the embedded database.
// Arguments pick benchmarks by name (`npm run bench -- ingest history`); none runs them all.

const BENCHES = ['engine', 'memory', 'sim', 'pcap', 'ingest', 'history'] as const;
const picked = process.argv.slice(2);
const unknown = picked.filter((p) => !(BENCHES as readonly string[]).includes(p));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}: choose from ${BENCHES.join(', ')}`);
  process.exit(2);
}
const runs = (name: (typeof BENCHES)[number]) => picked.length === 0 || picked.includes(name);

const rows = Number(process.env.BENCH_ROWS ?? 200_000);
const layout = loadShippedLayout('joy-city');

if (runs('engine')) {
  printOccupancyEngine(benchOccupancyEngine(1_000_000));
}
if (runs('memory'))
  printEngineMemory(benchEngineMemory(layout, Number(process.env.BENCH_DEVICES ?? 1_000_000)));
if (runs('sim')) printSimScale(benchSimScale());
if (runs('pcap')) printPcapParse(await benchPcapParse());

await prepareTemplates();
for (const backend of runs('ingest') ? (['embedded', 'server'] as const) : []) {
  if (backend === 'server' && !process.env.TEST_DATABASE_URL) {
    console.log('ingest server    skipped: set TEST_DATABASE_URL to measure the PostgreSQL server too');
    continue;
  }
  const db = await createTestDb(backend);
  try {
    printIngest(backend, await benchIngest(db.pool, layout, rows, backend === 'server' ? 'copy' : 'insert'));
  } finally {
    await db.close();
  }
}

if (runs('history')) await benchHistoryQueries(layout); // prints each backend's figures as it goes
