/**
 * Small pieces the experiment suites share: a virtual-time event heap, a seeded service-latency
 * model, the client's retry policy, and helpers that turn measurements into report tables/charts.
 * Everything here is deterministic: time and randomness are inputs.
 */
import type { Chart, Table } from "../report.ts"
import { Prng } from "@partita/sim"

export { Prng }

/** A min-heap of timed events (ties broken by insertion order), for virtual-time simulations. */
export class EventHeap<T> {
  private readonly at: number[] = []
  private readonly seq: number[] = []
  private readonly items: T[] = []
  private n = 0

  get size(): number {
    return this.items.length
  }

  /** Schedules `item` at virtual time `atMs`. */
  push(atMs: number, item: T): void {
    this.at.push(atMs)
    this.seq.push(this.n++)
    this.items.push(item)
    let i = this.items.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.less(i, p)) break
      this.swap(i, p)
      i = p
    }
  }

  /** Time of the earliest event (Infinity when empty). */
  peekTime(): number {
    return this.items.length > 0 ? this.at[0]! : Number.POSITIVE_INFINITY
  }

  /** Removes and returns the earliest event. */
  pop(): { atMs: number; item: T } | undefined {
    if (this.items.length === 0) return undefined
    const atMs = this.at[0]!
    const item = this.items[0]!
    const last = this.items.length - 1
    this.swap(0, last)
    this.at.pop()
    this.seq.pop()
    this.items.pop()
    let i = 0
    const len = this.items.length
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < len && this.less(l, m)) m = l
      if (r < len && this.less(r, m)) m = r
      if (m === i) break
      this.swap(i, m)
      i = m
    }
    return { atMs, item }
  }

  private less(a: number, b: number): boolean {
    const x = this.at[a]!
    const y = this.at[b]!
    return x < y || (x === y && this.seq[a]! < this.seq[b]!)
  }

  private swap(a: number, b: number): void {
    const t = this.at[a]!
    this.at[a] = this.at[b]!
    this.at[b] = t
    const s = this.seq[a]!
    this.seq[a] = this.seq[b]!
    this.seq[b] = s
    const it = this.items[a]!
    this.items[a] = this.items[b]!
    this.items[b] = it
  }
}

/**
 * Modelled service latency of one admitted request (µs): a fixed floor plus an exponential tail —
 * a storage node answering from memory over a same-region network. Used where a suite measures
 * admission or replication in virtual time, not a real server; reports say so.
 */
export class ServiceLatency {
  constructor(
    private readonly rng: Prng,
    readonly floorUs = 800,
    readonly meanTailUs = 400,
  ) {}
  drawUs(): number {
    return this.floorUs - this.meanTailUs * Math.log(1 - this.rng.next())
  }
}

/**
 * The client's retry policy on a throttle, as the AWS SDK v3 "standard" mode: at most
 * `CLIENT_ATTEMPTS_MAX` attempts, full-jitter exponential backoff from `CLIENT_BACKOFF_BASE_MS`.
 */
export const CLIENT_ATTEMPTS_MAX = 3
export const CLIENT_BACKOFF_BASE_MS = 100
export const CLIENT_BACKOFF_MAX_MS = 20_000

/** Backoff before attempt `attempt + 1` (attempt counts from 1), full jitter. */
export function backoffMs(attempt: number, rng: Prng): number {
  return rng.next() * Math.min(CLIENT_BACKOFF_MAX_MS, CLIENT_BACKOFF_BASE_MS * 2 ** (attempt - 1))
}

/** Rounds to `digits` significant digits (report cells stay readable). */
export function sig(v: number, digits = 4): number {
  if (!Number.isFinite(v) || v === 0) return v
  return Number(v.toPrecision(digits))
}

/** Percent with two decimals. */
export function pct(v: number): number {
  return Math.round(v * 10_000) / 100
}

/** A line chart from named point lists. */
export function lineChart(
  title: string,
  xLabel: string,
  yLabel: string,
  series: ReadonlyArray<readonly [string, ReadonlyArray<readonly [number, number]>]>,
  opts: { logY?: boolean; markers?: ReadonlyArray<{ x: number; label: string }> } = {},
): Chart {
  return {
    kind: "line",
    title,
    xLabel,
    yLabel,
    ...(opts.logY ? { logY: true } : {}),
    series: series.map(([name, pts]) => ({ name, points: pts.map(([x, y]) => [x, y] as [number, number]) })),
    ...(opts.markers ? { markers: [...opts.markers] } : {}),
  }
}

/** A table from columns and rows. */
export function table(
  title: string,
  columns: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string | number>>,
  note?: string,
): Table {
  return { title, columns: [...columns], rows: rows.map((r) => [...r]), ...(note ? { note } : {}) }
}

/** A pass/fail check with its evidence. */
export interface Check {
  name: string
  pass: boolean
  detail: string
}

/** Builds a check. */
export function check(name: string, pass: boolean, detail: string): Check {
  return { name, pass, detail }
}
