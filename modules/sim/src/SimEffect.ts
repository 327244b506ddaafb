/**
 * Effect integration: a `Clock` whose time and `sleep` are the simulation's virtual time, a `Random`
 * backed by the seeded `Prng`, a fiber scheduler that runs only when the simulation says so, and
 * `runSim`, which drives an Effect program to completion by alternating "run every ready fiber" with
 * "advance to the next simulated event". A program that sleeps an hour finishes at once in wall time,
 * with `now` one hour later. Nothing here waits on the real clock (unlike `TestClock.adjust`).
 */
import {
  Cause,
  Chunk,
  Clock,
  Context,
  Duration,
  Effect,
  type Exit,
  type Fiber,
  Layer,
  Random,
  type Scheduler as EffectScheduler,
} from "effect"
import { SimDeadlockError, SimStepLimitError } from "./Errors.ts"
import type { Prng } from "./Prng.ts"
import type { Scheduler } from "./Scheduler.ts"
import { Sim, type SimOptions } from "./Sim.ts"
import type { Seed } from "./Prng.ts"

/** Effect service giving programs access to the running `Sim` (network, disks, scheduler). */
export class SimService extends Context.Tag("@partita/sim/Sim")<SimService, Sim>() {}

/** A `Clock` reading and sleeping on the scheduler's virtual time. */
export const makeSimClock = (scheduler: Scheduler): Clock.Clock => {
  const millis = (): number => scheduler.now
  const nanos = (): bigint => BigInt(Math.round(scheduler.now * 1_000_000))
  return {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: millis,
    unsafeCurrentTimeNanos: nanos,
    currentTimeMillis: Effect.sync(millis),
    currentTimeNanos: Effect.sync(nanos),
    sleep: (d: Duration.Duration): Effect.Effect<void> => {
      const ms = Duration.toMillis(d)
      if (!Number.isFinite(ms)) return Effect.never
      return Effect.async<void>((resume) => {
        const id = scheduler.schedule(Math.max(0, ms), () => resume(Effect.void), "sleep")
        return Effect.sync(() => {
          scheduler.cancel(id)
        })
      })
    },
  }
}

/** A `Random` drawing from the seeded `Prng` (same seed, same values). */
export const makeSimRandom = (prng: Prng): Random.Random => {
  const intBetween = (min: number, max: number): number => min + prng.int(Math.max(1, max - min))
  return {
    [Random.RandomTypeId]: Random.RandomTypeId,
    next: Effect.sync(() => prng.next()),
    nextBoolean: Effect.sync(() => prng.bool()),
    nextInt: Effect.sync(() => prng.int(Number.MAX_SAFE_INTEGER)),
    nextRange: (min: number, max: number) => Effect.sync(() => min + (max - min) * prng.next()),
    nextIntBetween: (min: number, max: number) => Effect.sync(() => intBetween(min, max)),
    shuffle: <A>(elements: Iterable<A>) => Effect.sync(() => Chunk.fromIterable(prng.shuffle([...elements]))),
  } as Random.Random
}

/** One Effect `Random` stream per simulation, so successive `runSim` calls continue it, not repeat it. */
const effectRandoms = new WeakMap<Sim, Random.Random>()
const effectRandomOf = (sim: Sim): Random.Random => {
  let r = effectRandoms.get(sim)
  if (r === undefined) {
    r = makeSimRandom(sim.fork("effect-random"))
    effectRandoms.set(sim, r)
  }
  return r
}

/** Layer installing the simulation's `Clock`, `Random` (substream "effect-random") and `SimService`. */
export const simLayer = (sim: Sim): Layer.Layer<SimService> =>
  Layer.mergeAll(
    Layer.setClock(makeSimClock(sim.scheduler)),
    Layer.setRandom(effectRandomOf(sim)),
    Layer.succeed(SimService, sim),
  )

/**
 * Effect fiber scheduler whose tasks run only inside `flush()`: fibers make progress exactly when the
 * simulation driver lets them, in FIFO order, never on a real timer.
 */
export class SimFiberScheduler implements EffectScheduler.Scheduler {
  private tasks: Array<() => void> = []
  /** Tasks run so far. */
  ran = 0

  /** Queue a task (Effect calls this whenever a fiber becomes runnable or yields). */
  scheduleTask(task: () => void, _priority: number): void {
    this.tasks.push(task)
  }

  /** Yield every 2048 operations, like Effect's default, so long fibers interleave. */
  shouldYield(fiber: Fiber.RuntimeFiber<unknown, unknown>): number | false {
    return fiber.currentOpCount > 2048 ? 0 : false
  }

  /** Whether tasks are queued. */
  get idle(): boolean {
    return this.tasks.length === 0
  }

  /** Run queued tasks (and tasks they queue) until none remain or `tasksMax` ran; returns tasks run. */
  flush(tasksMax: number): number {
    let n = 0
    while (this.tasks.length > 0) {
      const batch = this.tasks
      this.tasks = []
      for (let i = 0; i < batch.length; i++) {
        if (n >= tasksMax) {
          this.tasks = batch.slice(i).concat(this.tasks)
          return n
        }
        batch[i]!()
        n++
      }
    }
    this.ran += n
    return n
  }
}

/** Options for `runSim`. */
export interface RunSimOptions {
  /** Bound on simulated events processed (default 10,000,000). */
  readonly stepsMax?: number
  /** Bound on fiber tasks run between two events (default 1,000,000; catches busy loops). */
  readonly fiberTasksMax?: number
}

/** Default bound on fiber tasks run between two simulated events. */
export const DEFAULT_FIBER_TASKS_MAX = 1_000_000

/**
 * Run `program` in simulation `sim` (or a new one from a seed) until it completes; returns its `Exit`.
 * The program sees virtual `Clock`, seeded `Random` and `SimService`. Throws `SimStepLimitError` when
 * the budget runs out and `SimDeadlockError` when the program waits with no simulated event pending;
 * in both cases the fiber is interrupted first.
 */
export const runSimExit = <A, E>(
  simOrSeed: Sim | Seed | SimOptions,
  program: Effect.Effect<A, E, SimService>,
  opts: RunSimOptions = {},
): Exit.Exit<A, E> => {
  const sim = simOrSeed instanceof Sim ? simOrSeed : new Sim(simOrSeed as SimOptions | Seed)
  const stepsMax = opts.stepsMax ?? 10_000_000
  const tasksMax = opts.fiberTasksMax ?? DEFAULT_FIBER_TASKS_MAX
  const fs = new SimFiberScheduler()
  const wrapped = program.pipe(
    Effect.provideService(SimService, sim),
    Effect.withClock(makeSimClock(sim.scheduler)),
    Effect.withRandom(effectRandomOf(sim)),
  )
  const fiber = Effect.runFork(wrapped, { scheduler: fs })
  let steps = 0
  for (;;) {
    if (fs.flush(tasksMax) >= tasksMax && !fs.idle) {
      abandon(fiber, fs)
      throw new SimStepLimitError({ limit: tasksMax, nowMs: sim.now })
    }
    const exit = fiber.unsafePoll()
    if (exit !== null) {
      // Let interrupted child fibers finish their finalizers (cancelling their pending sleeps).
      fs.flush(tasksMax)
      return exit
    }
    if (steps >= stepsMax) {
      abandon(fiber, fs)
      throw new SimStepLimitError({ limit: stepsMax, nowMs: sim.now })
    }
    if (!sim.scheduler.step()) {
      abandon(fiber, fs)
      throw new SimDeadlockError({ nowMs: sim.now })
    }
    steps++
  }
}

/** Like `runSimExit` but returns the value, throwing the failure (or defect) if the program failed. */
export const runSim = <A, E>(
  simOrSeed: Sim | Seed | SimOptions,
  program: Effect.Effect<A, E, SimService>,
  opts: RunSimOptions = {},
): A => {
  const exit = runSimExit(simOrSeed, program, opts)
  if (exit._tag === "Success") return exit.value
  throw Cause.squash(exit.cause)
}

const abandon = (fiber: Fiber.RuntimeFiber<unknown, unknown>, fs: SimFiberScheduler): void => {
  fiber.unsafeInterruptAsFork(fiber.id())
  fs.flush(DEFAULT_FIBER_TASKS_MAX)
}
