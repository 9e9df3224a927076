import { createHash } from 'node:crypto';

/** A small, fast seeded generator of numbers in [0, 1): the same seed gives the same sequence. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * A generator of its own for each part of a run (a function's nth execution environment, the DynamoDB proxy, the
 * pollers), derived from the run's seed: parts in different processes draw from sequences that do not overlap.
 */
export function seededRandom(seed: number, part: string): () => number {
  return mulberry32(createHash('sha256').update(`${seed}:${part}`).digest().readUInt32BE(0));
}
