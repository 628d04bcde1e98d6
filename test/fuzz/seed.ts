// One fixed seed for every fuzz suite, so a CI run is reproducible and a failure replays exactly:
// the seed is part of every test's name, and fast-check's report adds the counterexample's path.
import type { Parameters } from 'fast-check'

const DEFAULT_SEED = 42

function readSeed(): number {
  const raw = process.env.STANDIN_FUZZ_SEED
  if (raw === undefined || raw.trim() === '') return DEFAULT_SEED
  const seed = Number(raw)
  // fast-check seeds are 32-bit integers; refusing anything else beats silently fuzzing another seed.
  if (!Number.isInteger(seed) || seed < -(2 ** 31) || seed >= 2 ** 31) {
    throw new Error(`STANDIN_FUZZ_SEED must be a 32-bit integer, got '${raw}'`)
  }
  return seed
}

export const FUZZ_SEED = readSeed()

/** Appended to test names: what to run to replay a failure. */
export const SEED_LABEL = `seed ${FUZZ_SEED}; replay with STANDIN_FUZZ_SEED=${FUZZ_SEED} npx vitest run test/fuzz`

export function fuzzParameters<T>(numRuns: number): Parameters<T> {
  return { seed: FUZZ_SEED, numRuns }
}
