/** A source of uniform numbers in [0, 1). Planning takes one so tests can seed it. */
export type RandomSource = () => number;

/** A small seeded generator (mulberry32): the same seed gives the same sequence. For tests and reproducible draws. */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The gateway's own draws: not security-sensitive, just spread. */
export const defaultRandom: RandomSource = Math.random;
