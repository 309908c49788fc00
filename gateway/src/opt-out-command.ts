import { createInterface } from 'node:readline';
import { normalizeMac, pseudonymize } from '../../core/src/privacy.ts';

// `mallflow gateway opt-out`: turns the MACs of people who opted out into the keyed pseudonyms the
// gateway's OPT_OUT_FILE holds, so the list a gateway keeps on disk never holds a raw MAC.

export interface CommandIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const HELP = [
  'Usage: SITE_SECRET=... mallflow gateway opt-out < macs.txt >> opt-out.txt',
  '',
  'Reads MAC addresses from stdin, one per line (aa:bb:cc:dd:ee:ff, AA-BB-..., or 12 hex digits),',
  "and prints each one's pseudonym under the site secret: the lines of the gateway's OPT_OUT_FILE.",
  'Blank lines and lines starting with # are skipped; a line that is not a MAC is reported by its',
  'number (without echoing it) and makes the command exit 2 after printing the rest.',
  '',
].join('\n');

export async function runOptOut(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: CommandIo,
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(HELP);
    return 0;
  }
  const flag = argv.findIndex((a) => a === '--site-secret' || a.startsWith('--site-secret='));
  const secret =
    flag < 0 ? env.SITE_SECRET : argv[flag]?.includes('=') ? argv[flag]?.split('=')[1] : argv[flag + 1];
  if (!secret || secret.length < 16) {
    io.stderr.write(
      "SITE_SECRET (--site-secret): is required, at least 16 characters: the gateway's own secret\n",
    );
    return 2;
  }
  const lines = createInterface({ input: io.stdin, crlfDelay: Number.POSITIVE_INFINITY, terminal: false });
  let lineNo = 0;
  let bad = 0;
  for await (const raw of lines) {
    lineNo++;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const bare = /^[0-9a-f]{12}$/i.test(line) ? line.match(/../g)?.join(':') : line;
    const mac = bare === undefined ? undefined : normalizeMac(bare);
    if (!mac) {
      bad++;
      io.stderr.write(`line ${lineNo}: not a MAC address\n`);
      continue;
    }
    io.stdout.write(`${pseudonymize(mac, secret)}\n`);
  }
  return bad > 0 ? 2 : 0;
}
