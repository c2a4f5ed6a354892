/**
 * The order updates are sent in. A pipeline: each of `slots` runs `generations`
 * families back to back, slot s starting at round s mod `updates`. Once every
 * slot is busy, each round holds every step in equal share (shuffled, no family
 * touched twice in a row), so drift over the run — Redis growing, GC, a busy
 * neighbour on the machine — falls on all steps alike. Only those full rounds
 * are to be recorded; the ramp-up and ramp-down warm up and finish the families.
 */
export interface Visit {
  /** 0 … slots × generations − 1 */
  family: number;
  /** The family's update index, 0 … updates − 1. */
  u: number;
  /** True in a round where every slot is busy. */
  record: boolean;
}

export function* schedule(slots: number, generations: number, updates: number, rng: () => number): Generator<Visit> {
  const rounds = updates - 1 + updates * generations;
  for (let r = 0; r < rounds; r++) {
    const record = r >= updates - 1 && r < updates * generations;
    const round: Visit[] = [];
    for (let slot = 0; slot < slots; slot++) {
      const i = r - (slot % updates);
      if (i >= 0 && i < updates * generations) round.push({ family: Math.floor(i / updates) * slots + slot, u: i % updates, record });
    }
    shuffle(round, rng);
    yield* round;
  }
}

export { mulberry32 } from '../tests/helpers/prng.js';

function shuffle<X>(items: X[], rng: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}
