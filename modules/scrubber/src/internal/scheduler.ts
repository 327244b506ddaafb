/**
 * Background scheduling, pure: a token bucket on bytes (refilled from the caller's clock) and a
 * rotation over partitions. The scrubber runs a slice only when the foreground has nothing
 * pending and the bucket holds tokens; a slice's bytes are charged afterwards (the bucket may go
 * into debt, which later ticks repay), so the long-run rate never exceeds `bytesPerSec`.
 */
import { SCRUB_BURST_BYTES_DEFAULT, SCRUB_BYTES_PER_SEC_DEFAULT } from "./constants.ts"

/** Rate limit of the background scrubber. */
export interface RateLimit {
  readonly bytesPerSec: number
  readonly burstBytes: number
}

/** Default rate limit. */
export const RATE_LIMIT_DEFAULT: RateLimit = {
  bytesPerSec: SCRUB_BYTES_PER_SEC_DEFAULT,
  burstBytes: SCRUB_BURST_BYTES_DEFAULT,
}

/** Scheduler state (plain data). */
export interface SchedulerState {
  readonly tokens: number
  readonly lastMs: number
}

/** What the scheduler says for this tick. */
export type SchedulerDecision = "run" | "yield" | "throttle"

/** A full bucket at time `nowMs`. */
export const initialScheduler = (limit: RateLimit, nowMs: number): SchedulerState => ({
  tokens: limit.burstBytes,
  lastMs: nowMs,
})

/** Refills for the time elapsed and decides: yield to foreground work, wait for tokens, or run a slice. */
export const decide = (
  s: SchedulerState,
  limit: RateLimit,
  nowMs: number,
  foregroundPending: number,
): { state: SchedulerState; decision: SchedulerDecision } => {
  if (!(limit.bytesPerSec > 0) || !(limit.burstBytes > 0)) throw new RangeError("rate limit must be positive")
  const elapsed = Math.max(0, nowMs - s.lastMs)
  const tokens = Math.min(limit.burstBytes, s.tokens + (elapsed * limit.bytesPerSec) / 1000)
  const state = { tokens, lastMs: Math.max(s.lastMs, nowMs) }
  if (foregroundPending > 0) return { state, decision: "yield" }
  return { state, decision: tokens > 0 ? "run" : "throttle" }
}

/** Charges the bytes a slice verified. */
export const charge = (s: SchedulerState, bytes: number): SchedulerState => ({
  tokens: s.tokens - bytes,
  lastMs: s.lastMs,
})
