// determinism-guard: real-time — the harness measures wall-clock latency of real runs; simulated runs
// use a virtual LoadClock instead.
import type { LoadClock } from "./loadgen.ts"

/** Wall-clock time in ms (sub-millisecond resolution). */
export function wallMs(): number {
  return performance.now()
}

/** Epoch ms, for run ids and report timestamps. */
export function epochMs(): number {
  return Date.now()
}

/** Sleeps longer than this use a timer (minus a margin); shorter waits yield to the event loop. */
const TIMER_MARGIN_MS = 2

/**
 * A LoadClock on real time. Timers are only accurate to about a millisecond, so the last stretch of
 * a wait yields to the event loop (setImmediate) until the due time: requests go out on time and the
 * generator's own lateness does not pollute the latencies it measures.
 */
export const realClock: LoadClock = {
  now: () => performance.now(),
  sleepUntil: (ms: number) => {
    // Never release early: a request sent before its intended start would report a latency
    // shorter than the truth (clamped to 1 µs by the recorder).
    if (ms - performance.now() <= 0) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const poll = () => {
        const wait = ms - performance.now()
        if (wait <= 0) resolve()
        else if (wait > TIMER_MARGIN_MS) setTimeout(poll, wait - TIMER_MARGIN_MS)
        else setImmediate(poll)
      }
      poll()
    })
  },
}

/** Resolves after `ms` of real time. */
export function sleepMs(ms: number): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, ms))
}
