import {
  BURST_WINDOW_MS,
  MILLI_PER_UNIT,
  PARTITION_BUCKET_CAPACITY_MS,
  RATE_MAX_MILLI_PER_SEC,
} from "./constants.ts"

/**
 * A partition's allocated bucket and its burst bucket, refilled together.
 *
 * Tokens arrive at the allocated rate into the allocated bucket (which holds
 * `PARTITION_BUCKET_CAPACITY_MS` of rate); whatever does not fit — capacity the partition left
 * unused — spills into the burst bucket, which holds at most `BURST_WINDOW_MS` (300 s) of rate.
 * Units as in TokenBucket: milli-units, milli-units per second, integer ms.
 *
 * `probe(now)` computes the refilled state into scratch fields without changing the bucket;
 * `commit()` adopts it. A refused request only probes, so it never changes state.
 */
export class BurstBucket {
  allocMilli: number
  burstMilli: number
  carry = 0
  lastMs: number
  rateMilliPerSec = 0
  allocCapMilli = 0
  burstCapMilli = 0
  /** Scratch results of the last probe. */
  pAlloc = 0
  pBurst = 0
  pCarry = 0
  pMs = 0

  constructor(rateMilliPerSec: number, nowMs: number, initialBurstMilli = 0) {
    this.lastMs = nowMs
    this.setCaps(rateMilliPerSec)
    this.allocMilli = this.allocCapMilli
    this.burstMilli = Math.min(initialBurstMilli, this.burstCapMilli)
  }

  /** Computes the state at `now` into pAlloc/pBurst without changing the bucket. */
  probe(nowMs: number): void {
    const dt = nowMs - this.lastMs
    if (dt <= 0) {
      this.pAlloc = this.allocMilli
      this.pBurst = this.burstMilli
      this.pCarry = this.carry
      this.pMs = this.lastMs
      return
    }
    const acc = this.rateMilliPerSec * dt + this.carry
    const add = Math.floor(acc / MILLI_PER_UNIT)
    let a = this.allocMilli + add
    let b = this.burstMilli
    let carry = acc - add * MILLI_PER_UNIT
    if (a > this.allocCapMilli) {
      b += a - this.allocCapMilli
      a = this.allocCapMilli
      if (b >= this.burstCapMilli) {
        b = this.burstCapMilli
        carry = 0
      }
    }
    this.pAlloc = a
    this.pBurst = b
    this.pCarry = carry
    this.pMs = nowMs
  }

  /** Adopts the last probe. */
  commit(): void {
    this.allocMilli = this.pAlloc
    this.burstMilli = this.pBurst
    this.carry = this.pCarry
    this.lastMs = this.pMs
  }

  /** Changes the allocated rate from `now` (adaptive boosts); both caps follow the new rate. */
  setRate(rateMilliPerSec: number, nowMs: number): void {
    this.probe(nowMs)
    this.commit()
    this.setCaps(rateMilliPerSec)
    if (this.allocMilli > this.allocCapMilli) this.allocMilli = this.allocCapMilli
    if (this.burstMilli > this.burstCapMilli) this.burstMilli = this.burstCapMilli
  }

  private setCaps(rateMilliPerSec: number): void {
    if (
      !Number.isSafeInteger(rateMilliPerSec) ||
      rateMilliPerSec < 0 ||
      rateMilliPerSec > RATE_MAX_MILLI_PER_SEC
    )
      throw new RangeError(`BurstBucket: rate ${rateMilliPerSec} must be a non-negative integer`)
    this.rateMilliPerSec = rateMilliPerSec
    this.allocCapMilli = Math.floor((rateMilliPerSec * PARTITION_BUCKET_CAPACITY_MS) / MILLI_PER_UNIT)
    this.burstCapMilli = Math.floor((rateMilliPerSec * BURST_WINDOW_MS) / MILLI_PER_UNIT)
  }
}
