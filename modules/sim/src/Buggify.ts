/**
 * FoundationDB-style BUGGIFY: code marks places where a rare-but-legal behaviour can be forced
 * (`if (buggify(ctx, "wal.slow-fsync")) …`). In a simulation run each site is *active* with
 * probability 1/4 (decided from the seed and the site name, so independent of call order) and an
 * active site *fires* with probability 1/4 on each pass. Outside simulation (`ctx` undefined or a
 * disabled context) it always returns false. No hidden global state: the context is passed in.
 */
import { Prng } from "./Prng.ts"

/** Probability that a site is active in a given seed. */
export const BUGGIFY_SITE_ACTIVE_PROBABILITY = 0.25
/** Probability that an active site fires on one pass. */
export const BUGGIFY_FIRE_PROBABILITY = 0.25

/** Per-run buggify state: which sites are active and the stream that decides firings. */
export class Buggify {
  private readonly active = new Map<string, boolean>()
  private readonly root: Prng
  private readonly stream: Prng
  /** How many times each site has fired. */
  readonly fired = new Map<string, number>()

  /** A context; when `enabled` is false every call returns false. */
  constructor(
    prng: Prng,
    readonly enabled: boolean,
  ) {
    this.root = prng.fork("buggify")
    this.stream = prng.fork("buggify-fire")
  }

  /** A context that never fires (production and plain unit tests). */
  static readonly off: Buggify = new Buggify(new Prng(0), false)

  /** Whether `site` is active in this run (stable for the whole run). */
  isActive(site: string): boolean {
    if (!this.enabled) return false
    let a = this.active.get(site)
    if (a === undefined) {
      a = this.root.fork(site).next() < BUGGIFY_SITE_ACTIVE_PROBABILITY
      this.active.set(site, a)
    }
    return a
  }

  /** One pass through `site`: true when the fault should be injected now. */
  fire(site: string): boolean {
    if (!this.isActive(site)) return false
    const f = this.stream.next() < BUGGIFY_FIRE_PROBABILITY
    if (f) this.fired.set(site, (this.fired.get(site) ?? 0) + 1)
    return f
  }

  /** Sites seen so far that are active in this run (sorted), for reports. */
  activeSites(): string[] {
    return [...this.active]
      .filter(([, a]) => a)
      .map(([s]) => s)
      .sort()
  }
}

/** Anything that carries a buggify context (a `Sim`, or a `Buggify` itself). */
export type BuggifyContext = { readonly buggify: Buggify } | Buggify

/** `buggify(ctx, site)`: true when the simulation wants the rare path at `site` taken now. */
export const buggify = (ctx: BuggifyContext | undefined, site: string): boolean => {
  if (ctx === undefined) return false
  const b = ctx instanceof Buggify ? ctx : ctx.buggify
  return b.fire(site)
}
