/**
 * The `Scrubber` Effect service: the pure scheduling and comparison core inside, the Clock for
 * time and the ObjectStore for the archive supplied by the layer.
 */
import type { Scalar } from "@partita/btree"
import { ObjectStore } from "@partita/paxos"
import { Clock, Context, Duration, Effect, Layer } from "effect"
import type { ScrubEvent } from "./events.ts"
import type { PartitionPort } from "./ports.ts"
import { ScrubberCore, type ScrubMetrics, type ScrubberOptions, type TickOutcome } from "./scrubber.ts"

/** What the service offers. */
export interface ScrubberService<V = Scalar> {
  /** One scheduling tick at the Clock's time; `foregroundPending` > 0 makes it yield. */
  readonly tick: (foregroundPending?: number) => Effect.Effect<TickOutcome>
  /** A whole cycle now, ignoring the rate limit (every partition visited once). */
  readonly runCycle: Effect.Effect<ScrubMetrics>
  /** Ticks forever every `tickMs` (Clock sleeps); fork it. `foreground` reports pending work. */
  readonly runInBackground: (tickMs: number, foreground?: () => number) => Effect.Effect<never>
  readonly addPartition: (p: PartitionPort<V>) => Effect.Effect<void>
  readonly events: Effect.Effect<ReadonlyArray<ScrubEvent>>
  readonly metrics: Effect.Effect<ScrubMetrics>
  /** The core, for callers on a plain-TypeScript hot path. */
  readonly core: ScrubberCore<V>
}

/** The Scrubber service tag (scalar-valued partitions). */
export class Scrubber extends Context.Tag("@partita/scrubber/Scrubber")<
  Scrubber,
  ScrubberService<Scalar>
>() {}

/** Builds a scrubber service over `partitions`, reading the archive through the current ObjectStore. */
export const makeScrubber = <V>(
  partitions: ReadonlyArray<PartitionPort<V>>,
  options: ScrubberOptions = {},
): Effect.Effect<ScrubberService<V>, never, ObjectStore> =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const core = new ScrubberCore<V>(partitions, options)
    const withStore = <A>(e: Effect.Effect<A, never, ObjectStore>) =>
      Effect.provideService(e, ObjectStore, store)
    const tick = (foregroundPending = 0) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => withStore(core.tick(now, foregroundPending)))
    return {
      core,
      tick,
      runCycle: Effect.flatMap(Clock.currentTimeMillis, (now) => withStore(core.runCycle(now))),
      runInBackground: (tickMs, foreground) =>
        Effect.forever(Effect.zipRight(tick(foreground?.() ?? 0), Effect.sleep(Duration.millis(tickMs)))),
      addPartition: (p) => Effect.sync(() => core.addPartition(p)),
      events: Effect.sync(() => core.events()),
      metrics: Effect.sync(() => core.metrics()),
    }
  })

/** Layer: the Scrubber over scalar-valued partitions. */
export const ScrubberLive = (
  partitions: ReadonlyArray<PartitionPort<Scalar>>,
  options: ScrubberOptions = {},
): Layer.Layer<Scrubber, never, ObjectStore> => Layer.effect(Scrubber, makeScrubber(partitions, options))
