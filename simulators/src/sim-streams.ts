// The simulation's independent random streams, each seeded with deriveSeed(seed, STREAM_x) (rng.ts);
// persons get one each, deriveSeed(seed, STREAM_PERSON, person index). Why: see mall-sim.ts.

export const STREAM_ARRIVALS = 1;
export const STREAM_SENSORS = 2;
export const STREAM_PERSON = 3;
export const STREAM_CAST = 4;
