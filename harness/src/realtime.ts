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

/** A LoadClock on real time. */
export const realClock: LoadClock = {
  now: () => performance.now(),
  sleepUntil: (ms: number) => {
    const wait = ms - performance.now()
    if (wait <= 0.05) return Promise.resolve()
    return new Promise<void>((resolve) => setTimeout(resolve, wait >= 1 ? wait : 0))
  },
}

/** Resolves after `ms` of real time. */
export function sleepMs(ms: number): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, ms))
}
