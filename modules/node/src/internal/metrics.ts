/**
 * Observability: per-table counters (requests by operation, errors, throttles, consumed capacity)
 * and latency histograms with logarithmic buckets (no allocation per observation).
 */

/** Latency histogram: buckets of 2^(1/4) growth from 1 µs, in ms. */
export class Histogram {
  private static readonly BUCKETS = 128
  private readonly counts = new Float64Array(Histogram.BUCKETS)
  count = 0
  sum = 0
  max = 0

  /** Records one value (ms). */
  record(ms: number): void {
    const us = Math.max(1, ms * 1000)
    const b = Math.min(Histogram.BUCKETS - 1, Math.floor(Math.log2(us) * 4))
    this.counts[b]!++
    this.count++
    this.sum += ms
    if (ms > this.max) this.max = ms
  }

  /** The value at quantile q (0..1), ms (upper edge of its bucket). */
  quantile(q: number): number {
    if (this.count === 0) return 0
    const rank = Math.ceil(q * this.count)
    let acc = 0
    for (let b = 0; b < Histogram.BUCKETS; b++) {
      acc += this.counts[b]!
      if (acc >= rank) return Math.min(this.max, 2 ** ((b + 1) / 4) / 1000)
    }
    return this.max
  }

  /** Summary for reports. */
  summary(): { count: number; mean: number; p50: number; p99: number; p999: number; max: number } {
    return {
      count: this.count,
      mean: this.count === 0 ? 0 : this.sum / this.count,
      p50: this.quantile(0.5),
      p99: this.quantile(0.99),
      p999: this.quantile(0.999),
      max: this.max,
    }
  }
}

/** Counters of one table at one router. */
export interface TableMetrics {
  requests: Record<string, number>
  errors: Record<string, number>
  latency: Record<string, Histogram>
  throttledTable: number
  throttledPartition: number
  consumedReadMilli: number
  consumedWriteMilli: number
}

/** Metrics of a router (per table). */
export class Metrics {
  readonly tables = new Map<string, TableMetrics>()

  private of(table: string): TableMetrics {
    let t = this.tables.get(table)
    if (t === undefined) {
      t = {
        requests: {},
        errors: {},
        latency: {},
        throttledTable: 0,
        throttledPartition: 0,
        consumedReadMilli: 0,
        consumedWriteMilli: 0,
      }
      this.tables.set(table, t)
    }
    return t
  }

  /** One finished request. */
  request(table: string, op: string, ms: number, ok: boolean): void {
    const t = this.of(table)
    t.requests[op] = (t.requests[op] ?? 0) + 1
    if (!ok) t.errors[op] = (t.errors[op] ?? 0) + 1
    let h = t.latency[op]
    if (h === undefined) {
      h = new Histogram()
      t.latency[op] = h
    }
    h.record(ms)
  }

  /** One throttled request. */
  throttle(table: string, where: "table" | "partition"): void {
    const t = this.of(table)
    if (where === "table") t.throttledTable++
    else t.throttledPartition++
  }

  /** Capacity consumed. */
  consumed(table: string, kind: "r" | "w", milli: number): void {
    const t = this.of(table)
    if (kind === "r") t.consumedReadMilli += milli
    else t.consumedWriteMilli += milli
  }
}
