/**
 * Seed sweeps for simulation tests: which seeds to run (from `PARTITA_SEEDS`, else a default count) and
 * a runner that names the failing seed, so any failure can be replayed alone
 * (`PARTITA_SEEDS=1234 bun test …`).
 */

/** Environment variable read by `seedsFromEnv`. */
export const SEEDS_ENV = "PARTITA_SEEDS"

const readEnv = (name: string): string | undefined => {
  try {
    return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name]
  } catch {
    return undefined
  }
}

/**
 * Seeds to run: `PARTITA_SEEDS` may be a count ("500" → 1..500), a range ("100-200"), or a list
 * ("7,42,1234"); otherwise seeds 1..`defaultCount`.
 */
export const seedsFromEnv = (
  defaultCount: number,
  env: string | undefined = readEnv(SEEDS_ENV),
): number[] => {
  const spec = env?.trim() ?? ""
  const range = (lo: number, hi: number) => Array.from({ length: Math.max(0, hi - lo + 1) }, (_, i) => lo + i)
  if (spec === "") return range(1, defaultCount)
  if (/^\d+$/.test(spec)) return range(1, Number(spec))
  const m = /^(\d+)\s*-\s*(\d+)$/.exec(spec)
  if (m !== null) return range(Number(m[1]), Number(m[2]))
  if (/^\d+(\s*,\s*\d+)*$/.test(spec)) return spec.split(",").map((s) => Number(s.trim()))
  throw new RangeError(`${SEEDS_ENV}: expected a count, a range lo-hi or a list a,b,c; got "${spec}"`)
}

/** Run `fn` for every seed; the first failure is rethrown with the seed in its message. */
export const forEachSeed = (seeds: Iterable<number>, fn: (seed: number) => void): void => {
  for (const seed of seeds) {
    try {
      fn(seed)
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e)
      const err = new Error(`seed ${seed} failed (replay: ${SEEDS_ENV}=${seed}): ${msg}`)
      ;(err as { cause?: unknown }).cause = e
      throw err
    }
  }
}
