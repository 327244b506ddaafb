/**
 * The scrubber over a set of partitions: visits them in rotation, one bounded slice per tick,
 * under the byte-rate limit, and keeps events and metrics. Plain TypeScript state; a tick is one
 * Effect over the ObjectStore (the `Scrubber` service wraps it with the Clock).
 */
import type { ObjectStore } from "@partita/paxos"
import { Effect } from "effect"
import { EVENTS_RETAINED_MAX } from "./constants.ts"
import type { ScrubEvent } from "./events.ts"
import type { PartitionPort } from "./ports.ts"
import {
  RATE_LIMIT_DEFAULT,
  type RateLimit,
  type SchedulerState,
  charge,
  decide,
  initialScheduler,
} from "./scheduler.ts"
import { PartitionVisit, type ReferenceCache, type VisitOptions } from "./visit.ts"

/** Options of a scrubber. */
export interface ScrubberOptions extends VisitOptions {
  readonly rateLimit?: RateLimit
}

/** Counters and rates. */
export interface ScrubMetrics {
  /** Bytes verified in total (payload covered by equal checksums, WAL and archive bytes checked). */
  readonly bytesVerified: number
  /** Bytes read or exchanged to do so (the rate-limited cost). */
  readonly bytesRead: number
  /** Average read rate since the first tick (bounded by the rate limit). */
  readonly bytesReadPerSec: number
  /** Of which: archive bytes read to build references. */
  readonly referenceBytes: number
  /** Average verification rate since the first tick (bytes per second of the caller's clock). */
  readonly bytesVerifiedPerSec: number
  /** Full cycles completed (every partition visited once). */
  readonly cycles: number
  /** Partitions visited in each cycle (the number of partitions of the node). */
  readonly partitionsPerCycle: number
  /** Duration of the last completed cycle in ms. */
  readonly lastCycleMs: number
  readonly visits: number
  readonly detections: number
  readonly repairs: number
  readonly unrecoverable: number
  readonly checksumsExchanged: number
  readonly bytesExchanged: number
  /** Differing keys found by narrowing. */
  readonly differences: number
  /**
   * Time to detect, bounded from the scrubber's side: detection time minus the start of the
   * previous completed visit of the same partition (a fault that appeared after that visit began
   * is found within this time). Last and worst; NaN before any such detection.
   */
  readonly timeToDetectMsLast: number
  readonly timeToDetectMsMax: number
  /** Ticks spent yielding to foreground work / waiting for tokens. */
  readonly yields: number
  readonly throttles: number
}

/** What one tick did. */
export type TickOutcome = "ran" | "yielded" | "throttled" | "waiting" | "idle"

/** The scrubber core (see module comment). */
export class ScrubberCore<V> {
  private readonly partitions: PartitionPort<V>[]
  private cursor = 0
  private visit: PartitionVisit<V> | undefined
  private sched: SchedulerState | undefined
  private readonly limit: RateLimit
  private readonly eventLog: ScrubEvent[] = []
  private listeners: Array<(e: ScrubEvent) => void> = []
  private m = {
    bytesVerified: 0,
    bytesRead: 0,
    referenceBytes: 0,
    cycles: 0,
    visits: 0,
    detections: 0,
    repairs: 0,
    unrecoverable: 0,
    checksumsExchanged: 0,
    bytesExchanged: 0,
    differences: 0,
    yields: 0,
    throttles: 0,
    firstMs: Number.NaN,
    lastMs: 0,
    cycleStartMs: Number.NaN,
    lastCycleMs: 0,
    ttdLast: Number.NaN,
    ttdMax: Number.NaN,
  }
  /** Start time of the last completed visit of each partition, and of the current visit. */
  private readonly visitedAtMs: number[] = []
  private visitStartMs = 0
  /** Per partition, the reference kept between visits (only archive segments after it are applied). */
  private readonly caches: ReferenceCache<V>[] = []

  constructor(
    partitions: ReadonlyArray<PartitionPort<V>>,
    private readonly options: ScrubberOptions = {},
  ) {
    this.partitions = [...partitions]
    this.limit = options.rateLimit ?? RATE_LIMIT_DEFAULT
  }

  /** Adds a partition to the rotation. */
  addPartition(p: PartitionPort<V>): void {
    this.partitions.push(p)
  }

  /** Subscribes to events; returns the unsubscribe function. */
  onEvent(f: (e: ScrubEvent) => void): () => void {
    this.listeners.push(f)
    return () => {
      this.listeners = this.listeners.filter((g) => g !== f)
    }
  }

  /** Events so far (bounded to the most recent `EVENTS_RETAINED_MAX`). */
  events(): ReadonlyArray<ScrubEvent> {
    return this.eventLog
  }

  /** Metrics at `nowMs`. */
  metrics(): ScrubMetrics {
    const m = this.m
    const spanMs = m.lastMs - m.firstMs
    return {
      bytesVerified: m.bytesVerified,
      bytesRead: m.bytesRead,
      bytesReadPerSec: spanMs > 0 ? (m.bytesRead * 1000) / spanMs : 0,
      referenceBytes: m.referenceBytes,
      bytesVerifiedPerSec: spanMs > 0 ? (m.bytesVerified * 1000) / spanMs : 0,
      cycles: m.cycles,
      partitionsPerCycle: this.partitions.length,
      lastCycleMs: m.lastCycleMs,
      visits: m.visits,
      detections: m.detections,
      repairs: m.repairs,
      unrecoverable: m.unrecoverable,
      checksumsExchanged: m.checksumsExchanged,
      bytesExchanged: m.bytesExchanged,
      differences: m.differences,
      timeToDetectMsLast: m.ttdLast,
      timeToDetectMsMax: m.ttdMax,
      yields: m.yields,
      throttles: m.throttles,
    }
  }

  private emit = (e: ScrubEvent): void => {
    if (e.type === "detected") {
      this.m.detections++
      const prev = this.visitedAtMs[this.cursor]
      if (prev !== undefined) {
        const ttd = e.atMs - prev
        this.m.ttdLast = ttd
        if (!(ttd <= this.m.ttdMax)) this.m.ttdMax = ttd
      }
    } else if (e.type === "repaired") this.m.repairs++
    else if (e.type === "unrecoverable") this.m.unrecoverable++
    this.eventLog.push(e)
    if (this.eventLog.length > EVENTS_RETAINED_MAX) this.eventLog.shift()
    for (const f of this.listeners) f(e)
  }

  /**
   * One scheduling tick at `nowMs` with `foregroundPending` foreground operations waiting: yields
   * to them, waits for tokens, or runs one slice of the current visit.
   */
  tick(nowMs: number, foregroundPending = 0): Effect.Effect<TickOutcome, never, ObjectStore> {
    return Effect.suspend(() => {
      if (this.partitions.length === 0) return Effect.succeed("idle" as const)
      if (Number.isNaN(this.m.firstMs)) this.m.firstMs = nowMs
      this.m.lastMs = Math.max(this.m.lastMs, nowMs)
      const d = decide(
        this.sched ?? initialScheduler(this.limit, nowMs),
        this.limit,
        nowMs,
        foregroundPending,
      )
      this.sched = d.state
      if (d.decision === "yield") {
        this.m.yields++
        return Effect.succeed("yielded" as const)
      }
      if (d.decision === "throttle") {
        this.m.throttles++
        return Effect.succeed("throttled" as const)
      }
      return Effect.map(this.slice(nowMs), (r) => {
        this.sched = charge(this.sched!, r.bytes)
        return r.waiting ? ("waiting" as const) : ("ran" as const)
      })
    })
  }

  /** Runs one slice without the rate limit. */
  private slice(nowMs: number): Effect.Effect<{ bytes: number; waiting: boolean }, never, ObjectStore> {
    return Effect.suspend(() => {
      if (this.visit === undefined) {
        if (this.cursor === 0) this.m.cycleStartMs = nowMs
        this.visitStartMs = nowMs
        let cache = this.caches[this.cursor]
        if (cache === undefined) {
          cache = {}
          this.caches[this.cursor] = cache
        }
        this.visit = new PartitionVisit(this.partitions[this.cursor]!, this.emit, this.options, cache)
      }
      const v = this.visit
      const before = { ...v.stats }
      return Effect.map(v.step(nowMs), (o) => {
        const s = v.stats
        this.m.bytesVerified += o.verified
        this.m.bytesRead += o.bytes
        this.m.referenceBytes += s.referenceBytes - before.referenceBytes
        this.m.checksumsExchanged += s.checksumsExchanged - before.checksumsExchanged
        this.m.bytesExchanged += s.bytesExchanged - before.bytesExchanged
        this.m.differences += s.differences - before.differences
        if (o.state === "done") {
          this.visit = undefined
          this.visitedAtMs[this.cursor] = this.visitStartMs
          this.m.visits++
          this.cursor = (this.cursor + 1) % this.partitions.length
          if (this.cursor === 0) {
            this.m.cycles++
            this.m.lastCycleMs = nowMs - this.m.cycleStartMs
          }
        }
        return { bytes: o.bytes, waiting: o.state === "waiting" }
      })
    })
  }

  /** Index of the partition being (or next to be) visited. */
  get position(): { readonly partition: number; readonly inVisit: boolean } {
    return { partition: this.cursor, inVisit: this.visit !== undefined }
  }

  /**
   * Runs slices without the rate limit until the current cycle completes (every partition visited
   * once). `between` runs between slices (e.g. to let replicas catch up while a visit waits).
   */
  runCycle(nowMs: number, between?: () => void): Effect.Effect<ScrubMetrics, never, ObjectStore> {
    return Effect.gen(this, function* () {
      if (this.partitions.length === 0) return this.metrics()
      const target = this.m.cycles + 1
      if (Number.isNaN(this.m.firstMs)) this.m.firstMs = nowMs
      while (this.m.cycles < target) {
        yield* this.slice(nowMs)
        between?.()
      }
      this.m.lastMs = Math.max(this.m.lastMs, nowMs)
      return this.metrics()
    })
  }
}
