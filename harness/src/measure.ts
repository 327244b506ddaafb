import * as hdr from "hdr-histogram-js"

/** Latency percentiles of one operation kind, in microseconds. */
export interface LatencySummary {
  readonly count: number
  readonly meanUs: number
  readonly p50Us: number
  readonly p90Us: number
  readonly p99Us: number
  readonly p999Us: number
  readonly maxUs: number
}

/** Highest latency recorded without clamping: 60 s, in microseconds. */
export const LATENCY_US_MAX = 60_000_000

function newHistogram(): hdr.Histogram {
  return hdr.build({
    bitBucketSize: 64,
    autoResize: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: LATENCY_US_MAX,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  })
}

function summarize(h: hdr.Histogram): LatencySummary {
  if (h.totalCount === 0) return { count: 0, meanUs: 0, p50Us: 0, p90Us: 0, p99Us: 0, p999Us: 0, maxUs: 0 }
  return {
    count: h.totalCount,
    meanUs: Math.round(h.mean * 10) / 10,
    p50Us: h.getValueAtPercentile(50),
    p90Us: h.getValueAtPercentile(90),
    p99Us: h.getValueAtPercentile(99),
    p999Us: h.getValueAtPercentile(99.9),
    maxUs: h.maxValue,
  }
}

/** One interval of a time series: counts and latency percentiles within [startMs, startMs + intervalMs). */
export interface IntervalSample {
  readonly startMs: number
  readonly ok: number
  readonly errors: number
  readonly throttled: number
  readonly p50Us: number
  readonly p99Us: number
  readonly extra: Readonly<Record<string, number>>
}

/** Outcome of one request, as the recorder counts it. */
export type Outcome = "ok" | "error" | "throttled"

/**
 * Records request latencies per operation kind (HdrHistogram, 3 significant digits) and per time
 * interval, plus throttles, errors and arbitrary named counters (consumed capacity, MemDS lookups…).
 */
export class Recorder {
  private readonly byOp = new Map<string, hdr.Histogram>()
  private readonly all = newHistogram()
  private readonly intervals: Array<{
    h: hdr.Histogram
    ok: number
    errors: number
    throttled: number
    extra: Record<string, number>
  }> = []
  readonly counters: Record<string, number> = {}
  ok = 0
  errors = 0
  throttled = 0

  constructor(readonly intervalMs = 1000) {}

  private interval(atMs: number) {
    const idx = Math.max(0, Math.floor(atMs / this.intervalMs))
    while (this.intervals.length <= idx) {
      this.intervals.push({ h: newHistogram(), ok: 0, errors: 0, throttled: 0, extra: {} })
    }
    return this.intervals[idx]!
  }

  /** Records one request that started (was intended to start) at `startMs` and took `latencyUs`. */
  record(op: string, startMs: number, latencyUs: number, outcome: Outcome = "ok"): void {
    const us = Math.max(1, Math.min(LATENCY_US_MAX, Math.round(latencyUs)))
    const iv = this.interval(startMs)
    if (outcome === "ok") {
      let h = this.byOp.get(op)
      if (!h) this.byOp.set(op, (h = newHistogram()))
      h.recordValue(us)
      this.all.recordValue(us)
      iv.h.recordValue(us)
      iv.ok++
      this.ok++
    } else if (outcome === "throttled") {
      iv.throttled++
      this.throttled++
    } else {
      iv.errors++
      this.errors++
    }
  }

  /** Adds to a named counter, overall and in the interval of `atMs`. */
  count(name: string, atMs: number, by = 1): void {
    this.counters[name] = (this.counters[name] ?? 0) + by
    const iv = this.interval(atMs)
    iv.extra[name] = (iv.extra[name] ?? 0) + by
  }

  /** Latency summary of successful requests of one kind ("*" for all). */
  summary(op = "*"): LatencySummary {
    const h = op === "*" ? this.all : this.byOp.get(op)
    return h ? summarize(h) : summarize(newHistogram())
  }

  /** Operation kinds seen. */
  ops(): string[] {
    return [...this.byOp.keys()].sort()
  }

  /** The per-interval time series. */
  series(): IntervalSample[] {
    return this.intervals.map((iv, i) => ({
      startMs: i * this.intervalMs,
      ok: iv.ok,
      errors: iv.errors,
      throttled: iv.throttled,
      p50Us: iv.h.totalCount ? iv.h.getValueAtPercentile(50) : 0,
      p99Us: iv.h.totalCount ? iv.h.getValueAtPercentile(99) : 0,
      extra: { ...iv.extra },
    }))
  }

  /** Latency percentile curve (percentile → µs) for a log-scale chart. */
  percentileCurve(op = "*"): Array<[number, number]> {
    const h = op === "*" ? this.all : this.byOp.get(op)
    if (!h || h.totalCount === 0) return []
    const pts: Array<[number, number]> = []
    for (const p of [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100]) {
      pts.push([p, h.getValueAtPercentile(p)])
    }
    return pts
  }
}
