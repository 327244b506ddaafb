/**
 * The simulation context: one seed, one virtual clock and event queue, one trace hash, one buggify
 * context. Components (networks, disks, models) take the `Sim` and fork their own PRNG substreams
 * from it, so adding a component does not perturb the randomness seen by the others.
 */
import { Buggify } from "./Buggify.ts"
import { Prng, type Seed } from "./Prng.ts"
import { Scheduler, type TimerId } from "./Scheduler.ts"
import type { TraceHash } from "./TraceHash.ts"

/** Options for `new Sim`. */
export interface SimOptions {
  /** Seed of the whole run. */
  readonly seed: Seed
  /** Enable buggify sites (default true: a simulation run is where faults belong). */
  readonly buggify?: boolean
  /** Virtual start time in ms (default 0). */
  readonly startMs?: number
}

/** One deterministic simulation run. */
export class Sim {
  /** The run's seed. */
  readonly seed: Seed
  /** Root PRNG; prefer `fork(label)` for components. */
  readonly prng: Prng
  /** Event queue and virtual clock. */
  readonly scheduler: Scheduler
  /** Buggify context of this run. */
  readonly buggify: Buggify

  /** Create a run from a seed (number, string or options). */
  constructor(opts: SimOptions | Seed) {
    const o: SimOptions = typeof opts === "object" ? opts : { seed: opts }
    this.seed = o.seed
    this.prng = new Prng(o.seed)
    this.scheduler = new Scheduler({ startMs: o.startMs ?? 0 })
    this.buggify = new Buggify(this.prng, o.buggify ?? true)
  }

  /** Current virtual time (ms). */
  get now(): number {
    return this.scheduler.now
  }

  /** The run's trace hash. */
  get trace(): TraceHash {
    return this.scheduler.trace
  }

  /** Independent PRNG substream for a component. */
  fork(label: string | number): Prng {
    return this.prng.fork(label)
  }

  /** Shorthand for `scheduler.schedule`. */
  schedule(delayMs: number, fn: () => void, label = ""): TimerId {
    return this.scheduler.schedule(delayMs, fn, label)
  }

  /** Shorthand for the `buggify` function with this run's context. */
  buggifySite(site: string): boolean {
    return this.buggify.fire(site)
  }
}
