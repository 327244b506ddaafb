/**
 * A small deterministic driver for the memds tests: a seeded PRNG and a virtual-time message
 * network with delay, loss, duplication, reordering and isolation. (The full sim kit lives in
 * @partita/sim; this keeps the pure cores testable on their own.)
 */

/** mulberry32: a seeded PRNG. */
export class Prng {
  private s: number
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) | 0
    let t = this.s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  int(n: number): number {
    return Math.floor(this.next() * n)
  }
  chance(p: number): boolean {
    return this.next() < p
  }
}

export interface NetFaults {
  delayMsMin: number
  delayMsMax: number
  dropRate: number
  dupRate: number
}

interface Envelope<M> {
  at: number
  seq: number
  from: string
  to: string
  msg: M
}

/** Virtual-time network: messages are delivered in (time, seq) order. */
export class Net<M> {
  now = 0
  private seq = 0
  private queue: Envelope<M>[] = []
  readonly isolated = new Set<string>()
  delivered = 0
  dropped = 0
  constructor(
    readonly prng: Prng,
    public faults: NetFaults,
  ) {}

  send(from: string, to: string, msg: M): void {
    if (this.isolated.has(from) || this.isolated.has(to) || this.prng.chance(this.faults.dropRate)) {
      this.dropped++
      return
    }
    const copies = this.prng.chance(this.faults.dupRate) ? 2 : 1
    for (let i = 0; i < copies; i++) {
      const d = this.faults.delayMsMin + this.prng.next() * (this.faults.delayMsMax - this.faults.delayMsMin)
      this.push({ at: this.now + d, seq: this.seq++, from, to, msg })
    }
  }

  private push(e: Envelope<M>): void {
    // binary insertion keeps the queue ordered by (at, seq)
    let lo = 0
    let hi = this.queue.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const q = this.queue[mid]!
      if (q.at < e.at || (q.at === e.at && q.seq < e.seq)) lo = mid + 1
      else hi = mid
    }
    this.queue.splice(lo, 0, e)
  }

  /** Delivers every message due up to time t (messages sent meanwhile included). */
  runUntil(t: number, deliver: (from: string, to: string, msg: M) => void): void {
    while (this.queue.length > 0 && this.queue[0]!.at <= t) {
      const e = this.queue.shift()!
      this.now = e.at
      if (this.isolated.has(e.to) || this.isolated.has(e.from)) {
        this.dropped++
        continue
      }
      this.delivered++
      deliver(e.from, e.to, e.msg)
    }
    this.now = t
  }

  get pending(): number {
    return this.queue.length
  }
}
