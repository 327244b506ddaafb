/**
 * Discrete-event scheduler over virtual time: a binary heap of (time, sequence, action). Ties in time
 * run in scheduling order, so a run is a pure function of the seed and the code. Nothing here reads the
 * real clock; `now` only moves when an event runs or `runUntil` reaches its target.
 */
import { SimStepLimitError } from "./Errors.ts"
import { TraceHash } from "./TraceHash.ts"
import { hashString32 } from "./internal/hash.ts"

/** Opaque handle of a scheduled event, for `cancel`. */
export interface TimerId {
  readonly at: number
}

/** Default bound on events per `runUntil` / `runUntilIdle` call. */
export const DEFAULT_STEPS_MAX = 10_000_000

class Entry implements TimerId {
  constructor(
    readonly at: number,
    readonly seq: number,
    readonly fn: () => void,
    readonly labelHash: number,
  ) {}
  cancelled = false
  done = false
}

/** The event queue and virtual clock of one simulation. */
export class Scheduler {
  private heap: Entry[] = []
  private live = 0
  private seq = 0
  private nowMs: number
  /** Total events executed. */
  steps = 0
  /** Trace hash fed with (time, label) of every executed event. */
  readonly trace: TraceHash

  /** Create a scheduler starting at `startMs` virtual milliseconds. */
  constructor(opts: { startMs?: number; trace?: TraceHash } = {}) {
    this.nowMs = opts.startMs ?? 0
    this.trace = opts.trace ?? new TraceHash()
  }

  /** Current virtual time in milliseconds. */
  get now(): number {
    return this.nowMs
  }

  /** Number of live (not cancelled, not yet run) events. */
  get pending(): number {
    return this.live
  }

  /** Virtual time of the next live event, or `undefined` when idle. */
  nextTime(): number | undefined {
    this.dropCancelledTop()
    return this.heap[0]?.at
  }

  /** Run `fn` after `delayMs` (≥ 0) virtual milliseconds. `label` feeds the trace hash. */
  schedule(delayMs: number, fn: () => void, label = ""): TimerId {
    if (!(delayMs >= 0)) throw new RangeError(`Scheduler.schedule: bad delay ${delayMs}`)
    return this.scheduleAt(this.nowMs + delayMs, fn, label)
  }

  /** Run `fn` at virtual time `atMs` (times in the past run at `now`). */
  scheduleAt(atMs: number, fn: () => void, label = ""): TimerId {
    if (Number.isNaN(atMs) || atMs === Number.POSITIVE_INFINITY) {
      throw new RangeError(`Scheduler.scheduleAt: bad time ${atMs}`)
    }
    const e = new Entry(Math.max(atMs, this.nowMs), this.seq++, fn, label === "" ? 0 : hashString32(label))
    this.live++
    this.push(e)
    return e
  }

  /** Cancel a scheduled event; true if it had not run yet. */
  cancel(id: TimerId): boolean {
    const e = id as Entry
    if (e.cancelled || e.done) return false
    e.cancelled = true
    this.live--
    return true
  }

  /** Run the next event (advancing `now` to its time); false when there is none. */
  step(): boolean {
    this.dropCancelledTop()
    const e = this.pop()
    if (e === undefined) return false
    e.done = true
    this.live--
    this.nowMs = e.at
    this.steps++
    this.trace.number(e.at)
    this.trace.u32(e.labelHash)
    e.fn()
    return true
  }

  /** Run every event due at or before `tMs`, then set `now = tMs`. Returns events run. */
  runUntil(tMs: number, stepsMax = DEFAULT_STEPS_MAX): number {
    let n = 0
    for (;;) {
      const t = this.nextTime()
      if (t === undefined || t > tMs) break
      if (n >= stepsMax) throw new SimStepLimitError({ limit: stepsMax, nowMs: this.nowMs })
      this.step()
      n++
    }
    if (tMs > this.nowMs) this.nowMs = tMs
    return n
  }

  /** Run `forMs` more virtual milliseconds. */
  runFor(forMs: number, stepsMax = DEFAULT_STEPS_MAX): number {
    return this.runUntil(this.nowMs + forMs, stepsMax)
  }

  /** Run until no events remain. Throws `SimStepLimitError` after `stepsMax` events. */
  runUntilIdle(stepsMax = DEFAULT_STEPS_MAX): number {
    let n = 0
    while (this.pending > 0) {
      if (n >= stepsMax) throw new SimStepLimitError({ limit: stepsMax, nowMs: this.nowMs })
      this.step()
      n++
    }
    return n
  }

  /** Run events while `cond()` holds and events remain; returns events run. */
  runWhile(cond: () => boolean, stepsMax = DEFAULT_STEPS_MAX): number {
    let n = 0
    while (cond() && this.pending > 0) {
      if (n >= stepsMax) throw new SimStepLimitError({ limit: stepsMax, nowMs: this.nowMs })
      this.step()
      n++
    }
    return n
  }

  private dropCancelledTop(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop()
  }

  private push(e: Entry): void {
    const h = this.heap
    let i = h.length
    h.push(e)
    while (i > 0) {
      const p = (i - 1) >> 1
      const pe = h[p]!
      if (pe.at < e.at || (pe.at === e.at && pe.seq < e.seq)) break
      h[i] = pe
      i = p
    }
    h[i] = e
  }

  private pop(): Entry | undefined {
    const h = this.heap
    const top = h[0]
    if (top === undefined) return undefined
    const last = h.pop()!
    if (h.length > 0) {
      let i = 0
      const n = h.length
      for (;;) {
        const l = 2 * i + 1
        if (l >= n) break
        const r = l + 1
        let c = l
        if (r < n) {
          const le = h[l]!
          const re = h[r]!
          if (re.at < le.at || (re.at === le.at && re.seq < le.seq)) c = r
        }
        const ce = h[c]!
        if (last.at < ce.at || (last.at === ce.at && last.seq < ce.seq)) break
        h[i] = ce
        i = c
      }
      h[i] = last
    }
    return top
  }
}
