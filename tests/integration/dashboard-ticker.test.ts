import { pino } from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createLiveTicker } from '../../dashboard/src/live-ticker.ts';
import type { OccupancyFrame } from '../../dashboard/src/occupancy-frame.ts';
import { waitFor } from '../helpers/wait-for.ts';

const frameOf = (mallId: string): OccupancyFrame => ({ mallId, asOf: null, total: 0, zones: [] });
const silent = pino({ level: 'silent' });

describe('live ticker', () => {
  it('reads nothing while nobody watches', async () => {
    let reads = 0;
    const ticker = createLiveTicker({
      tickMs: 10,
      logger: silent,
      watchedMalls: () => [],
      readFrame: async (mallId) => {
        reads++;
        return frameOf(mallId);
      },
      publish: () => {},
    });
    onTestFinished(() => ticker.stop());
    await new Promise((r) => setTimeout(r, 100));
    expect(reads).toBe(0);
  });

  it('reads each watched mall once per tick and never overlaps ticks', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const reads: string[] = [];
    const published: string[] = [];
    let release: (() => void) | undefined;
    const ticker = createLiveTicker({
      tickMs: 5,
      logger: silent,
      watchedMalls: () => ['a', 'b'],
      readFrame: async (mallId) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        reads.push(mallId);
        // The first read hangs (a slow database) until released; later ticks must not pile up.
        if (reads.length === 1) await new Promise<void>((r) => (release = r));
        inFlight--;
        return frameOf(mallId);
      },
      publish: (mallId) => void published.push(mallId),
    });
    onTestFinished(() => ticker.stop());
    await waitFor(() => release, { what: 'the first read to start' });
    await new Promise((r) => setTimeout(r, 60));
    expect(reads).toEqual(['a']);
    release!();
    await waitFor(() => reads.length >= 6, { what: 'ticks to resume' });
    expect(maxInFlight).toBe(1);
    expect(reads.slice(0, 6)).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
    expect(published.slice(0, 4)).toEqual(['a', 'b', 'a', 'b']);
  });

  it('keeps ticking after a failed read, and stop() waits for the running tick', async () => {
    let calls = 0;
    const published: number[] = [];
    let release: (() => void) | undefined;
    const ticker = createLiveTicker({
      tickMs: 5,
      logger: silent,
      watchedMalls: () => ['a'],
      readFrame: async (mallId) => {
        calls++;
        if (calls === 1) throw new Error('connection terminated');
        if (calls === 3) await new Promise<void>((r) => (release = r));
        return frameOf(mallId);
      },
      publish: () => void published.push(calls),
    });
    await waitFor(() => release, { what: 'the third read to start' });
    expect(published).toEqual([2]);
    let stopped = false;
    const stopping = ticker.stop().then(() => {
      stopped = true;
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(stopped).toBe(false);
    release!();
    await stopping;
    // A frame read after stop() began is dropped, and no tick runs after it.
    expect(published).toEqual([2]);
    await new Promise((r) => setTimeout(r, 30));
    expect(calls).toBe(3);
  });
});
