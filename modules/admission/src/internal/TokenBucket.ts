import { CAPACITY_MAX_MILLI, MILLI_PER_UNIT, RATE_MAX_MILLI_PER_SEC } from "./constants.ts"

/**
 * An integer token bucket with lazy refill.
 *
 * Units: tokens in milli-units, rate in milli-units per second, time in integer milliseconds.
 * Refill is `rate × elapsed_ms / 1000` with the remainder carried to the next refill, so a bucket
 * never drifts however long it runs. The product is exact below 2^53; past that the refill exceeds
 * CAPACITY_MAX_MILLI, so the bucket is simply full (and the remainder reset). The bucket has no clock: every call gets `now`.
 *
 * A refused `tryTake` writes nothing at all (the refill it computed is thrown away), so a throttled
 * request leaves the bucket exactly as it was. `charge` takes tokens unconditionally and may leave
 * the bucket in debt (negative tokens); while in debt every `tryTake` is refused.
 */
export class TokenBucket {
  /** Tokens held at `lastMs`, in milli-units; negative while in debt. */
  tokens: number
  /** Refill remainder at `lastMs`, in milli-unit-milliseconds (always in [0, 1000)). */
  carry: number
  /** Time of the last state change, ms. */
  lastMs: number
  /** Refill rate, milli-units per second. */
  rateMilliPerSec: number
  /** Most tokens the bucket holds, milli-units. */
  capacityMilli: number

  constructor(rateMilliPerSec: number, capacityMilli: number, nowMs: number, initialMilli = capacityMilli) {
    assertRate(rateMilliPerSec, capacityMilli)
    this.rateMilliPerSec = rateMilliPerSec
    this.capacityMilli = capacityMilli
    this.tokens = Math.min(initialMilli, capacityMilli)
    this.carry = 0
    this.lastMs = nowMs
  }

  /** Tokens available at `now` (negative while in debt); does not change the bucket. */
  available(nowMs: number): number {
    const dt = nowMs - this.lastMs
    if (dt <= 0) return this.tokens
    const acc = this.rateMilliPerSec * dt + this.carry
    const t = this.tokens + Math.floor(acc / MILLI_PER_UNIT)
    return Math.min(t, this.capacityMilli)
  }

  /** Takes `n` milli-units if the bucket holds at least `n` at `now` and is not in debt; else changes nothing. */
  tryTake(n: number, nowMs: number): boolean {
    const dt = nowMs - this.lastMs
    if (dt <= 0) {
      const t = this.tokens
      if (t < n || t < 0) return false
      this.tokens = t - n
      return true
    }
    const acc = this.rateMilliPerSec * dt + this.carry
    const add = Math.floor(acc / MILLI_PER_UNIT)
    let t = this.tokens + add
    let carry = acc - add * MILLI_PER_UNIT
    if (t >= this.capacityMilli) {
      t = this.capacityMilli
      carry = 0
    }
    if (t < n || t < 0) return false
    this.tokens = t - n
    this.carry = carry
    this.lastMs = nowMs
    return true
  }

  /** Takes `n` milli-units unconditionally (charge-after for reads whose size is known only later). */
  charge(n: number, nowMs: number): void {
    this.refill(nowMs)
    this.tokens -= n
  }

  /** Gives back `n` milli-units (never above capacity). */
  refund(n: number, nowMs: number): void {
    this.refill(nowMs)
    this.tokens = Math.min(this.capacityMilli, this.tokens + n)
  }

  /** True while the bucket holds no tokens or is in debt at `now`. */
  inDebt(nowMs: number): boolean {
    return this.available(nowMs) < 0
  }

  /** Changes rate and capacity from `now` on (tokens earned so far are kept, capped at the new capacity). */
  setRate(rateMilliPerSec: number, capacityMilli: number, nowMs: number): void {
    assertRate(rateMilliPerSec, capacityMilli)
    this.refill(nowMs)
    this.rateMilliPerSec = rateMilliPerSec
    this.capacityMilli = capacityMilli
    if (this.tokens > capacityMilli) this.tokens = capacityMilli
  }

  /** Brings `tokens` up to date at `now` (no-op for times at or before `lastMs`). */
  refill(nowMs: number): void {
    const dt = nowMs - this.lastMs
    if (dt <= 0) return
    const acc = this.rateMilliPerSec * dt + this.carry
    const add = Math.floor(acc / MILLI_PER_UNIT)
    this.tokens += add
    this.carry = acc - add * MILLI_PER_UNIT
    if (this.tokens >= this.capacityMilli) {
      this.tokens = this.capacityMilli
      this.carry = 0
    }
    this.lastMs = nowMs
  }
}

function assertRate(rateMilliPerSec: number, capacityMilli: number): void {
  if (
    !Number.isSafeInteger(rateMilliPerSec) ||
    rateMilliPerSec < 0 ||
    rateMilliPerSec > RATE_MAX_MILLI_PER_SEC
  )
    throw new RangeError(`TokenBucket: rate ${rateMilliPerSec} milli/s out of [0, ${RATE_MAX_MILLI_PER_SEC}]`)
  if (!Number.isSafeInteger(capacityMilli) || capacityMilli < 0 || capacityMilli > CAPACITY_MAX_MILLI)
    throw new RangeError(`TokenBucket: capacity ${capacityMilli} milli out of [0, ${CAPACITY_MAX_MILLI}]`)
}
