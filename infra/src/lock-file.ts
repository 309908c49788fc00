import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';

// An exclusive lock file holding the owner's pid. A lock whose process is gone is stale and is
// taken over; a live owner makes `acquireLockFile` throw the error the caller describes.

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // ESRCH: no such process. EPERM means it exists but is not ours: still alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Locks this process holds: the pid in the file cannot tell them apart from a stale one.
const heldHere = new Set<string>();

/** Takes `lockPath` or throws `onHeld(pid)`; returns the release function. */
export function acquireLockFile(lockPath: string, onHeld: (pid: number) => Error): () => void {
  const key = resolve(lockPath);
  if (heldHere.has(key)) throw onHeld(process.pid);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      heldHere.add(key);
      return () => {
        heldHere.delete(key);
        rmSync(lockPath, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) throw onHeld(pid);
      rmSync(lockPath, { force: true }); // stale: its process is gone
    }
  }
  throw onHeld(Number.NaN);
}
