import type { Outcome, Recorder } from "./measure.ts"
import type { Progress } from "./progress.ts"

/** A clock for load generation: real time (realtime.ts) or virtual time (a simulation). In ms. */
export interface LoadClock {
  now(): number
  sleepUntil(ms: number): Promise<void>
}

/** Bounds on every load loop: it always stops by itself. */
export interface LoadBounds {
  /** Stop issuing after this many requests. */
  readonly maxOps: number
  /** Stop issuing after this much time (ms) from the start. */
  readonly maxDurationMs: number
}

/** Issues request `i`; resolves with its outcome. `op` names the operation kind for the histograms. */
export type Issue = (i: number) => { readonly op: string; readonly result: Promise<Outcome> | Outcome }

/** Most requests in flight at once in open loop; past it the generator waits (and the wait shows in latency). */
export const OPEN_LOOP_IN_FLIGHT_MAX = 10_000

/**
 * Open-loop load: request i is due at `starts[i]` ms after the start, whatever happened to earlier
 * requests, and its latency is measured from that intended start — so a stalled server shows its
 * stall in the percentiles instead of silently slowing the generator (no coordinated omission).
 */
export async function openLoop(opts: {
  readonly clock: LoadClock
  readonly starts: Iterable<number>
  readonly issue: Issue
  readonly recorder: Recorder
  readonly bounds: LoadBounds
  readonly progress?: Progress
  readonly inFlightMax?: number
}): Promise<{ issued: number; elapsedMs: number }> {
  const { clock, recorder, bounds } = opts
  const inFlightMax = opts.inFlightMax ?? OPEN_LOOP_IN_FLIGHT_MAX
  const t0 = clock.now()
  let issued = 0
  let inFlight = 0
  let drained: (() => void) | undefined
  const pending = new Set<Promise<void>>()
  for (const start of opts.starts) {
    if (issued >= bounds.maxOps || start >= bounds.maxDurationMs) break
    const intended = t0 + start
    await clock.sleepUntil(intended)
    while (inFlight >= inFlightMax) await new Promise<void>((r) => (drained = r))
    const i = issued++
    const { op, result } = opts.issue(i)
    const finish = (outcome: Outcome) => {
      recorder.record(op, start, (clock.now() - intended) * 1000, outcome)
      opts.progress?.tick()
    }
    if (typeof result === "string") {
      finish(result)
      continue
    }
    inFlight++
    const p: Promise<void> = result
      .then(finish, () => finish("error"))
      .finally(() => {
        inFlight--
        pending.delete(p)
        const d = drained
        drained = undefined
        d?.()
      })
    pending.add(p)
  }
  await Promise.all(pending)
  return { issued, elapsedMs: clock.now() - t0 }
}

/**
 * Closed-loop load: `clients` concurrent clients, each issuing its next request when the previous one
 * completes; latency is measured from the actual send. Throughput is whatever the target sustains.
 */
export async function closedLoop(opts: {
  readonly clock: LoadClock
  readonly clients: number
  readonly issue: Issue
  readonly recorder: Recorder
  readonly bounds: LoadBounds
  readonly progress?: Progress
}): Promise<{ issued: number; elapsedMs: number }> {
  const { clock, recorder, bounds } = opts
  const t0 = clock.now()
  let issued = 0
  const client = async () => {
    while (issued < bounds.maxOps && clock.now() - t0 < bounds.maxDurationMs) {
      const i = issued++
      const sent = clock.now()
      const { op, result } = opts.issue(i)
      let outcome: Outcome
      try {
        outcome = typeof result === "string" ? result : await result
      } catch {
        outcome = "error"
      }
      recorder.record(op, sent - t0, (clock.now() - sent) * 1000, outcome)
      opts.progress?.tick()
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, opts.clients) }, client))
  return { issued, elapsedMs: clock.now() - t0 }
}
