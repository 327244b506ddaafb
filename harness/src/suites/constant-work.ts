/**
 * `constant-work` — "predictability over efficiency" (paper §6.6): request routers in front of a
 * MemDS fleet, with @partita/memds's routing cache in its two modes. A constant-work cache sends
 * one MemDS lookup per request whatever its hit rate; a conventional cache only on a miss, so
 * MemDS load follows the miss rate — ~400x from DynamoDB's 0.25 % misses to a cold cache.
 *
 * Two experiments, in virtual time (MemDS answers after a fixed latency):
 * 1. hit rate swept 0–100 %: MemDS lookups per request and per second for both modes;
 * 2. a full flush of every router's cache under steady load: MemDS lookups/s per interval.
 */
import {
  hashFromBigInt,
  MemDSNode,
  type Outbound,
  type CacheOutput,
  RoutingCacheCore,
  routingKey,
  type UpdateOp,
} from "@partita/memds"
import type { Chart, Table } from "../report.ts"
import type { Suite, SuiteContext, SuiteOutput } from "../suite.ts"
import { type Check, check, lineChart, pct, Prng, sig, table } from "./common.ts"

/** The two cache disciplines compared. */
export const CACHE_MODES = ["constant-work", "conventional"] as const
export type CacheModeName = (typeof CACHE_MODES)[number]

const TABLE_ID = "orders"
/** MemDS reply latency in virtual ms. */
const MEMDS_LATENCY_MS = 1
/** Cache housekeeping (lookup timeouts) cadence. */
const CACHE_TICK_MS = 100
/** Ops per MemDS publish batch while loading the fleet. */
const PUBLISH_BATCH_OPS = 1000

/** A MemDS fleet holding one table's routing entries, and a request key inside each partition. */
export interface Fleet {
  readonly nodes: ReadonlyArray<MemDSNode>
  readonly ids: ReadonlyArray<string>
  readonly keys: ReadonlyArray<Uint8Array>
}

/** Builds a fleet of `n` MemDS nodes (the first sequences updates) holding `partitions` routing entries. */
export function buildFleet(n: number, partitions: number): Fleet {
  const ids = Array.from({ length: n }, (_, i) => `memds-${i}`)
  const nodes = ids.map(
    (id, i) => new MemDSNode({ id, peers: ids.filter((x) => x !== id), sequencer: i === 0 }),
  )
  const byId = new Map(nodes.map((m) => [m.id, m]))
  const width = (1n << 128n) / BigInt(partitions)
  const keys: Uint8Array[] = []
  const deliver = (outs: Outbound[], from: string): void => {
    const queue = outs.map((o) => ({ from, o }))
    for (let i = 0; i < queue.length; i++) {
      const { from: f, o } = queue[i]!
      const target = byId.get(o.to)
      if (!target) continue
      for (const next of target.step(0, f, o.msg)) queue.push({ from: target.id, o: next })
    }
  }
  for (let start = 0; start < partitions; start += PUBLISH_BATCH_OPS) {
    const ops: UpdateOp[] = []
    for (let i = start; i < Math.min(partitions, start + PUBLISH_BATCH_OPS); i++) {
      const at = BigInt(i) * width
      ops.push({
        kind: "put",
        key: routingKey(TABLE_ID, hashFromBigInt(at)),
        entry: {
          partitionId: `p${i}`,
          epoch: 1,
          replicas: [
            { nodeId: `sn-${i % 7}`, az: "az0" },
            { nodeId: `sn-${(i + 1) % 7}`, az: "az1" },
            { nodeId: `sn-${(i + 2) % 7}`, az: "az2" },
          ],
          leaderHint: `sn-${i % 7}`,
        },
      })
      keys.push(routingKey(TABLE_ID, hashFromBigInt(at + width / 2n)))
    }
    deliver(nodes[0]!.publish(ops), nodes[0]!.id)
  }
  return { nodes, ids, keys }
}

/** One cache run: routers with caches, a request stream, MemDS replies after a latency. */
export interface CacheRun {
  readonly mode: CacheModeName
  /** Share of requests to partitions already cached ("hot"); the rest go to never-seen ones. */
  readonly hitRate: number
  readonly hotPartitions: number
  readonly requests: number
  readonly requestsPerMs: number
  readonly routers: number
  /** Flush every router's cache at this virtual time (ms), if set. */
  readonly flushAtMs?: number
  readonly intervalMs: number
  readonly seed: number
}

/** What a cache run measured. */
export interface CacheRunResult {
  readonly run: CacheRun
  readonly requests: number
  readonly lookups: number
  readonly lookupsPerRequest: number
  readonly hits: number
  readonly misses: number
  readonly durationMs: number
  /** MemDS lookups per interval, overall and per MemDS node. */
  readonly lookupsPerInterval: number[]
  readonly requestsPerInterval: number[]
  readonly lookupsByNode: Record<string, number>
  readonly failed: number
}

/** Runs one cache experiment against `fleet` (fresh routers; the fleet is read-only here). */
export function runCache(fleet: Fleet, run: CacheRun): CacheRunResult {
  if (run.hotPartitions + run.requests > fleet.keys.length)
    throw new RangeError("fleet too small for this run's fresh partitions")
  const rng = new Prng(run.seed)
  const byId = new Map(fleet.nodes.map((m) => [m.id, m]))
  const caches = Array.from(
    { length: run.routers },
    () => new RoutingCacheCore({ mode: run.mode, memdsNodes: fleet.ids, inFlightMax: 100_000 }),
  )
  // Replies in flight, in due order (fixed latency → FIFO): [due, router, reply].
  const replies: Array<{ due: number; router: number; msg: ReturnType<MemDSNode["lookup"]> }> = []
  let head = 0
  let now = 0
  let measuring = false
  const lookupsPerInterval: number[] = []
  const requestsPerInterval: number[] = []
  const lookupsByNode: Record<string, number> = Object.fromEntries(fleet.ids.map((id) => [id, 0]))
  let failed = 0
  const bump = (arr: number[]) => {
    const i = Math.floor(now / run.intervalMs)
    while (arr.length <= i) arr.push(0)
    arr[i]!++
  }
  const handle = (router: number, outs: ReadonlyArray<CacheOutput>): void => {
    for (const o of outs) {
      if (o.type === "fail") failed++
      else if (o.type === "send") {
        const node = byId.get(o.to)!
        if (measuring) {
          bump(lookupsPerInterval)
          lookupsByNode[o.to]!++
        }
        replies.push({
          due: now + MEMDS_LATENCY_MS,
          router,
          msg: node.lookup(o.msg.id, o.msg.key, o.msg.minVersion),
        })
      }
    }
  }
  const deliver = (): void => {
    while (head < replies.length && replies[head]!.due <= now) {
      const r = replies[head++]!
      handle(r.router, caches[r.router]!.reply(now, r.msg))
    }
    if (head > 4096) {
      replies.splice(0, head)
      head = 0
    }
  }
  // Warm every router with the hot set, then measure from zero.
  for (let p = 0; p < run.hotPartitions; p++)
    caches.forEach((c, ri) => {
      handle(ri, c.request(now, -1, TABLE_ID, fleet.keys[p]!))
    })
  now += MEMDS_LATENCY_MS
  deliver()
  for (const c of caches) c.resetMetrics()
  const t0 = now
  now = 0
  for (const r of replies) r.due -= t0
  measuring = true
  let fresh = run.hotPartitions
  let flushed = false
  const perMs = run.requestsPerMs
  let issued = 0
  let router = 0
  let nextTick = CACHE_TICK_MS
  while (issued < run.requests) {
    if (!flushed && run.flushAtMs !== undefined && now >= run.flushAtMs) {
      flushed = true
      for (const c of caches) c.flush()
    }
    // Spread this millisecond's requests across it (whole-ms steps; replies due this ms first).
    deliver()
    for (let j = 0; j < perMs && issued < run.requests; j++) {
      const target = rng.next() < run.hitRate ? Math.floor(rng.next() * run.hotPartitions) : fresh++
      bump(requestsPerInterval)
      handle(router, caches[router]!.request(now, issued++, TABLE_ID, fleet.keys[target]!))
      router = (router + 1) % run.routers
    }
    now += 1
    if (now >= nextTick) {
      nextTick += CACHE_TICK_MS
      caches.forEach((c, ri) => {
        handle(ri, c.tick(now))
      })
    }
  }
  now += MEMDS_LATENCY_MS
  deliver()
  let requests = 0
  let lookups = 0
  let hits = 0
  let misses = 0
  for (const c of caches) {
    const m = c.metrics()
    requests += m.requests
    lookups += m.memdsLookups
    hits += m.hits
    misses += m.misses
  }
  return {
    run,
    requests,
    lookups,
    lookupsPerRequest: lookups / Math.max(1, requests),
    hits,
    misses,
    durationMs: now,
    lookupsPerInterval,
    requestsPerInterval,
    lookupsByNode,
    failed,
  }
}

/** Sizes of a constant-work run. */
export interface ConstantWorkConfig {
  readonly hitRates: ReadonlyArray<number>
  readonly sweepRequests: number
  readonly sweepHot: number
  readonly flushRequests: number
  readonly flushHot: number
  readonly flushHitRate: number
  readonly requestsPerMs: number
  readonly routers: number
  readonly memdsNodes: number
  readonly intervalMs: number
}

/** Quick (CI) and full sizes. */
export function constantWorkConfig(quick: boolean): ConstantWorkConfig {
  const common = {
    hitRates: [0, 0.25, 0.5, 0.75, 0.9, 0.99, 0.9975, 1],
    flushHitRate: 0.9975,
    requestsPerMs: 20,
    routers: 4,
    memdsNodes: 3,
  }
  return quick
    ? {
        ...common,
        sweepRequests: 40_000,
        sweepHot: 1000,
        flushRequests: 80_000,
        flushHot: 5000,
        intervalMs: 100,
      }
    : {
        ...common,
        sweepRequests: 400_000,
        sweepHot: 2000,
        flushRequests: 600_000,
        flushHot: 20_000,
        intervalMs: 250,
      }
}

/** Runs the suite. */
export async function constantWorkSuiteRun(
  ctx: SuiteContext,
  cfg = constantWorkConfig(ctx.quick),
): Promise<SuiteOutput> {
  const fleetSize = Math.max(cfg.sweepHot + cfg.sweepRequests, cfg.flushHot + cfg.flushRequests) + 1
  ctx.log(`loading ${fleetSize.toLocaleString("en-US")} routing entries into ${cfg.memdsNodes} MemDS nodes`)
  const fleet = buildFleet(cfg.memdsNodes, fleetSize)
  const progress = ctx.progress("hit-rate sweep and flush", cfg.hitRates.length * 2 + 2)
  const sweep: CacheRunResult[] = []
  for (const mode of CACHE_MODES)
    for (const hitRate of cfg.hitRates) {
      sweep.push(
        runCache(fleet, {
          mode,
          hitRate,
          hotPartitions: cfg.sweepHot,
          requests: cfg.sweepRequests,
          requestsPerMs: cfg.requestsPerMs,
          routers: cfg.routers,
          intervalMs: cfg.intervalMs,
          seed: ctx.seed,
        }),
      )
      progress.tick()
      await Promise.resolve()
    }
  const flushAtMs = Math.floor(cfg.flushRequests / cfg.requestsPerMs / 3)
  const flush = CACHE_MODES.map((mode) => {
    const r = runCache(fleet, {
      mode,
      hitRate: cfg.flushHitRate,
      hotPartitions: cfg.flushHot,
      requests: cfg.flushRequests,
      requestsPerMs: cfg.requestsPerMs,
      routers: cfg.routers,
      flushAtMs,
      intervalMs: cfg.intervalMs,
      seed: ctx.seed + 1,
    })
    progress.tick()
    return r
  })
  progress.finish()
  return buildConstantWorkReport(cfg, sweep, flush, flushAtMs)
}

function findSweep(sweep: CacheRunResult[], mode: CacheModeName, hitRate: number): CacheRunResult {
  const r = sweep.find((x) => x.run.mode === mode && x.run.hitRate === hitRate)
  if (!r) throw new Error(`missing sweep point ${mode} ${hitRate}`)
  return r
}

/** Tables, charts and checks of the expected shape. */
export function buildConstantWorkReport(
  cfg: ConstantWorkConfig,
  sweep: CacheRunResult[],
  flush: CacheRunResult[],
  flushAtMs: number,
): SuiteOutput {
  const tables: Table[] = []
  const charts: Chart[] = []
  const checks: Check[] = []
  const figures: Record<string, number> = {}
  const perSec = (r: CacheRunResult) => (r.lookups / r.durationMs) * 1000
  const rows = cfg.hitRates.map((h) => {
    const cw = findSweep(sweep, "constant-work", h)
    const cv = findSweep(sweep, "conventional", h)
    figures[`sweep.${pct(h)}.constantWork.lookupsPerRequest`] = sig(cw.lookupsPerRequest, 5)
    figures[`sweep.${pct(h)}.conventional.lookupsPerRequest`] = sig(cv.lookupsPerRequest, 5)
    return [
      pct(h),
      pct(cv.misses / cv.requests),
      sig(cw.lookupsPerRequest, 5),
      Math.round(perSec(cw)),
      sig(cv.lookupsPerRequest, 5),
      Math.round(perSec(cv)),
    ]
  })
  tables.push(
    table(
      "MemDS lookups by router-cache hit rate",
      [
        "hit rate %",
        "measured miss %",
        "constant-work lookups/request",
        "constant-work lookups/s",
        "conventional lookups/request",
        "conventional lookups/s",
      ],
      rows,
      `${cfg.routers} routers, ${cfg.sweepRequests.toLocaleString("en-US")} requests per point at ${cfg.requestsPerMs * 1000} requests/s (virtual time), a fleet of ${cfg.memdsNodes} MemDS nodes answering after ${MEMDS_LATENCY_MS} ms. Hits go to ${cfg.sweepHot.toLocaleString("en-US")} partitions cached beforehand, misses to partitions never seen.`,
    ),
  )
  charts.push(
    lineChart(
      "MemDS lookups per request vs cache hit rate",
      "router cache hit rate (%)",
      "MemDS lookups per request",
      CACHE_MODES.map((m) => [
        m,
        cfg.hitRates.map((h) => [pct(h), findSweep(sweep, m, h).lookupsPerRequest] as const),
      ]),
    ),
    lineChart(
      "MemDS lookups/s vs cache hit rate (log scale)",
      "router cache hit rate (%)",
      "MemDS lookups/s",
      CACHE_MODES.map((m) => [
        m,
        cfg.hitRates.map((h) => [pct(h), perSec(findSweep(sweep, m, h))] as const).filter(([, v]) => v > 0),
      ]),
      { logY: true },
    ),
  )
  // Flush time series.
  const ivS = cfg.intervalMs / 1000
  const [cwF, cvF] = flush as [CacheRunResult, CacheRunResult]
  charts.push(
    lineChart(
      "MemDS lookups/s through a full cache flush (all routers)",
      "time (s)",
      "MemDS lookups/s",
      [
        ...flush.map(
          (r) => [r.run.mode, r.lookupsPerInterval.map((v, i) => [i * ivS, v / ivS] as const)] as const,
        ),
        ["requests/s", cwF.requestsPerInterval.map((v, i) => [i * ivS, v / ivS] as const)],
      ],
      { markers: [{ x: flushAtMs / 1000, label: "flush" }] },
    ),
    lineChart(
      "MemDS lookups/s through a full cache flush (log scale)",
      "time (s)",
      "MemDS lookups/s",
      flush.map(
        (r) =>
          [
            r.run.mode,
            r.lookupsPerInterval.map((v, i) => [i * ivS, Math.max(v, 0.5) / ivS] as const),
          ] as const,
      ),
      { logY: true, markers: [{ x: flushAtMs / 1000, label: "flush" }] },
    ),
  )
  const flushIdx = Math.floor(flushAtMs / cfg.intervalMs)
  const full = (r: CacheRunResult) => r.lookupsPerInterval.slice(0, -1) // last interval is partial
  const steady = (r: CacheRunResult) => {
    const before = full(r).slice(1, flushIdx)
    return before.reduce((s, x) => s + x, 0) / Math.max(1, before.length) / ivS
  }
  const peak = (r: CacheRunResult) => Math.max(...full(r).slice(flushIdx)) / ivS
  tables.push(
    table(
      "Full cache flush under load",
      [
        "cache",
        "lookups/s before flush",
        "peak lookups/s after flush",
        "peak / before",
        "lookups per request (whole run)",
        ...(cfg.memdsNodes > 0 ? fleetCols(cwF) : []),
      ],
      flush.map((r) => [
        r.run.mode,
        Math.round(steady(r)),
        Math.round(peak(r)),
        sig(peak(r) / Math.max(1e-9, steady(r)), 4),
        sig(r.lookupsPerRequest, 5),
        ...Object.values(r.lookupsByNode),
      ]),
      `Steady hit rate ${pct(cfg.flushHitRate)} % over ${cfg.flushHot.toLocaleString("en-US")} cached partitions; every router's cache flushed at ${flushAtMs / 1000} s; ${cfg.intervalMs} ms intervals. The last columns are lookups served by each MemDS node.`,
    ),
  )
  figures["flush.constantWork.peakOverSteady"] = sig(peak(cwF) / steady(cwF), 4)
  figures["flush.conventional.peakOverSteady"] = sig(peak(cvF) / Math.max(1e-9, steady(cvF)), 4)

  // Checks.
  const cwAll = cfg.hitRates.map((h) => findSweep(sweep, "constant-work", h).lookupsPerRequest)
  checks.push(
    check(
      "constant-work: 1.0 MemDS lookup per request at every hit rate (within 1 %)",
      cwAll.every((v) => Math.abs(v - 1) <= 0.01),
      cwAll.map((v, i) => `${pct(cfg.hitRates[i]!)} %: ${sig(v, 4)}`).join(", "),
    ),
  )
  const cvOk = cfg.hitRates.map((h) => {
    const r = findSweep(sweep, "conventional", h)
    const miss = r.misses / r.requests
    return {
      h,
      v: r.lookupsPerRequest,
      miss,
      ok: Math.abs(r.lookupsPerRequest - miss) <= Math.max(0.0005, miss * 0.05),
    }
  })
  checks.push(
    check(
      "conventional: lookups per request track the miss rate",
      cvOk.every((x) => x.ok),
      cvOk.map((x) => `${pct(x.h)} %: ${sig(x.v, 3)} (miss ${sig(x.miss, 3)})`).join(", "),
    ),
  )
  const lo = findSweep(sweep, "conventional", 0.9975).lookupsPerRequest
  const hi = findSweep(sweep, "conventional", 0).lookupsPerRequest
  const ratio = hi / Math.max(1e-9, lo)
  figures["conventional.coldOverWarm"] = sig(ratio, 4)
  checks.push(
    check(
      "conventional: ~400x more MemDS load from 99.75 % hits to a cold cache",
      ratio >= 250 && ratio <= 650,
      `${sig(hi, 4)} / ${sig(lo, 4)} lookups per request = ${sig(ratio, 4)}x`,
    ),
  )
  const cwSeries = full(cwF).slice(1)
  const cwMean = cwSeries.reduce((s, x) => s + x, 0) / cwSeries.length
  const cwDev = Math.max(...cwSeries.map((v) => Math.abs(v - cwMean) / cwMean))
  checks.push(
    check(
      "constant-work: MemDS load flat through the flush (every interval within 5 % of the mean)",
      cwDev <= 0.05,
      `mean ${Math.round(cwMean / ivS)} lookups/s, largest deviation ${pct(cwDev)} %`,
    ),
  )
  checks.push(
    check(
      "conventional: MemDS load surges after the flush (peak ≥ 50x steady)",
      peak(cvF) >= 50 * steady(cvF),
      `steady ${Math.round(steady(cvF))}/s, peak ${Math.round(peak(cvF))}/s`,
    ),
  )
  const summary =
    `Router caches from @partita/memds (RoutingCacheCore in both modes) in front of a ${cfg.memdsNodes}-node MemDS fleet (MemDSNode), in virtual time. ` +
    `Constant-work: ${Math.min(...cwAll).toFixed(4)}–${Math.max(...cwAll).toFixed(4)} lookups per request across hit rates 0–100 %. ` +
    `Conventional: ${sig(lo, 3)} at 99.75 % hits, ${sig(hi, 3)} cold — ${Math.round(ratio)}x. ` +
    `A full flush at ${pct(cfg.flushHitRate)} % steady hits: conventional MemDS load jumps ${Math.round(peak(cvF) / Math.max(1e-9, steady(cvF)))}x; constant-work stays within ${pct(cwDev)} % of its mean.`
  return {
    title: "Constant work: MemDS load of constant-work vs conventional router caches",
    summary,
    config: { ...cfg, memdsLatencyMs: MEMDS_LATENCY_MS, flushAtMs },
    figures,
    checks,
    tables,
    charts,
  }
}

function fleetCols(r: CacheRunResult): string[] {
  return Object.keys(r.lookupsByNode).map((id) => `${id} lookups`)
}

/** The suite. */
export const constantWorkSuite: Suite = {
  name: "constant-work",
  description: "router cache hit rate 0–100 % and a full flush: MemDS lookups, constant-work vs conventional",
  run: (ctx) => constantWorkSuiteRun(ctx),
}
