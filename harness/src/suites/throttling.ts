/**
 * `throttling` — "adapt partitioning to traffic" (paper §4): the same skewed read load, at 50–100 %
 * of a table's provisioned capacity, replayed against each admission stage DynamoDB went through:
 * static per-partition allocation, + bursting, + adaptive capacity, GAC, and GAC + split for
 * consumption. Then the throughput dilution that size splits caused under the `even` policy.
 *
 * Everything runs in virtual time over the admission stages' pure cores and the partitioner's
 * map; a request's latency is the modelled service time (floor + exponential tail) plus the
 * client's retry backoff after throttles (AWS SDK standard mode: 3 attempts, full jitter).
 */
import {
  type AdmissionStage,
  GacStage,
  isAdmitted,
  makeStage,
  MILLI_PER_UNIT,
  PARTITION_MAX_RCU,
  READ,
  StaticStage,
  THROTTLED_TABLE,
  type Topology,
  WRITE,
} from "@partita/admission"
import {
  AccessStats,
  type AllocationPolicy,
  PartitionMap,
  splitForConsumption,
  splitForSize,
} from "@partita/partitioner"
import { type KeyChooser, keyName, ScrambledZipfianKeys, SingleHotKey } from "@partita/workloads"
import { Either } from "effect"
import { latencyTable, percentileChart } from "../charts.ts"
import { Recorder } from "../measure.ts"
import type { Chart, Table } from "../report.ts"
import type { Suite, SuiteContext, SuiteOutput } from "../suite.ts"
import {
  backoffMs,
  CLIENT_ATTEMPTS_MAX,
  type Check,
  check,
  EventHeap,
  lineChart,
  pct,
  Prng,
  ServiceLatency,
  sig,
  table,
} from "./common.ts"

/** The admission stages compared, in historical order. */
export const THROTTLING_STAGES = ["static", "burst", "adaptive", "gac", "gac+split"] as const
export type ThrottlingStage = (typeof THROTTLING_STAGES)[number]
/** The key distributions: YCSB's scrambled Zipfian (θ 0.99) and one hot key. */
export type SkewKind = "zipfian" | "hot-key"

/** Table provisioned read capacity (RCU/s). */
export const TABLE_RCU = 16_000
/** Partitions the table starts with (as if size splits had made them): 2,000 RCU each under `even`. */
export const TABLE_PARTITIONS = 8
/** Item size read: 16 KB, strongly consistent → 4 RCU per read. */
export const ITEM_BYTES = 16 * 1024
const READ_COST_RCU = 4
/** Share of requests on the single hot key (key 0) in the hot-key workload. */
export const HOT_KEY_SHARE = 0.2
const ROUTERS = 4
const NODES = 6
/** Node physical read capacity (RCU/s): room for bursting above the allocations it hosts. */
const NODE_RCU = 6000
/** Background work cadence of the stages in virtual time. */
const TICK_MS = 10
/** Banked burst credit at the start (seconds of each partition's allocation), as after a quiet spell. */
const INITIAL_BURST_S = 5
/** A throttle answer costs the client one round trip before it backs off. */
const THROTTLE_RTT_MS = 1

/** Parameters of one throttling run. */
export interface ThrottlingRun {
  readonly skew: SkewKind
  readonly loadPct: number
  readonly stage: ThrottlingStage
  readonly durationMs: number
  readonly keyCount: number
  readonly seed: number
  /** Split-for-consumption statistics window; a split takes effect `splitDelayMs` after it. */
  readonly splitWindowMs: number
  readonly splitDelayMs: number
}

/** What one run measured. */
export interface ThrottlingResult {
  readonly run: ThrottlingRun
  readonly attempts: number
  readonly throttledAttempts: number
  /** Of which: refused by the table-level bucket (GAC: the table above its provisioned rate). */
  readonly tableThrottles: number
  readonly requests: number
  readonly failedRequests: number
  readonly consumedRcuPerSec: number
  readonly recorder: Recorder
  /** Consumed RCU/s per partition id and second. */
  readonly heat: Map<string, number[]>
  /** Split decisions: taken or refused, with the reason. */
  readonly splits: string[]
  /** Throttled attempts per second. */
  readonly throttledPerSec: number[]
  /** Attempts per second. */
  readonly attemptsPerSec: number[]
  /** Table-level throttles per second. */
  readonly tableThrottledPerSec: number[]
}

function keyChooserFor(skew: SkewKind, keyCount: number): KeyChooser {
  return skew === "zipfian"
    ? new ScrambledZipfianKeys(keyCount, 0.99)
    : new SingleHotKey(keyCount, HOT_KEY_SHARE)
}

/** Six nodes in three AZs; partition i's replicas on nodes i, i+2, i+4 (leader first). */
function topologyOf(map: PartitionMap, policy: "map" | "max"): Topology {
  const nodes = Array.from({ length: NODES }, (_, i) => ({
    id: `n${i}`,
    readCapacityUnits: NODE_RCU,
    writeCapacityUnits: NODE_RCU / 3,
  }))
  return {
    nodes,
    routers: Array.from({ length: ROUTERS }, (_, i) => `r${i}`),
    tables: [
      {
        id: map.table,
        mode: "provisioned",
        readCapacityUnits: map.provisioned.rcu,
        writeCapacityUnits: map.provisioned.wcu,
        partitions: map.partitions.map((p, i) => ({
          id: p.id,
          replicas: [`n${i % NODES}`, `n${(i + 2) % NODES}`, `n${(i + 4) % NODES}`],
          readCapacityUnits: policy === "map" ? p.allocation.rcu : PARTITION_MAX_RCU,
          writeCapacityUnits: p.allocation.wcu,
        })),
      },
    ],
  }
}

/** Hashes every key once; `locateAll` then maps keys to partition indexes of a map. */
function hashKeys(map: PartitionMap, keyCount: number): Uint32Array {
  const words = new Uint32Array(keyCount * 4)
  for (let k = 0; k < keyCount; k++) map.hashInto(keyName(k), words, k * 4)
  return words
}

function locateAll(map: PartitionMap, words: Uint32Array, out: Int32Array): void {
  for (let k = 0; k < out.length; k++)
    out[k] = map.locate(words[k * 4]!, words[k * 4 + 1]!, words[k * 4 + 2]!, words[k * 4 + 3]!)
}

function stageFor(name: ThrottlingStage, topology: Topology, nowMs: number): AdmissionStage {
  if (name === "gac+split") return new GacStage(topology, nowMs)
  return makeStage(name, topology, nowMs, { initialBurstSeconds: INITIAL_BURST_S })
}

/** Runs one (skew, load, stage) configuration in virtual time. Pure: same parameters, same result. */
export function runThrottling(run: ThrottlingRun): ThrottlingResult {
  const rng = new Prng(run.seed)
  const keyRng = new Prng(run.seed ^ 0x5bd1e995)
  const svc = new ServiceLatency(new Prng(run.seed ^ 0x27d4eb2f))
  let map = PartitionMap.make(
    { table: "skewed", hash: "murmur3", policy: "even", provisioned: { rcu: TABLE_RCU, wcu: 1000 } },
    TABLE_PARTITIONS,
  )
  const words = hashKeys(map, run.keyCount)
  const keyPart = new Int32Array(run.keyCount)
  locateAll(map, words, keyPart)
  let stage = stageFor(run.stage, topologyOf(map, "map"), 0)
  const chooser = keyChooserFor(run.skew, run.keyCount)
  const recorder = new Recorder(1000)
  const seconds = Math.ceil(run.durationMs / 1000)
  const heat = new Map<string, number[]>()
  const heatRow = (id: string): number[] => {
    let row = heat.get(id)
    if (!row) heat.set(id, (row = new Array<number>(seconds).fill(0)))
    return row
  }
  let heatRows = map.partitions.map((p) => heatRow(p.id))
  const throttledPerSec = new Array<number>(seconds).fill(0)
  const attemptsPerSec = new Array<number>(seconds).fill(0)
  const tableThrottledPerSec = new Array<number>(seconds).fill(0)
  const splitting = run.stage === "gac+split"
  let stats = splitting ? map.partitions.map(() => new AccessStats()) : []
  const splits: string[] = []
  let pendingSplit: { atMs: number; map: PartitionMap } | undefined
  let nextSplitCheckMs = run.splitWindowMs

  const rateRps = (run.loadPct / 100) * (TABLE_RCU / READ_COST_RCU)
  const gapMs = 1000 / rateRps
  const costMilli = READ_COST_RCU * MILLI_PER_UNIT
  // Retries wait in the heap: [request start, key, router, attempt].
  const retries = new EventHeap<{ start: number; key: number; router: number; attempt: number }>()
  let attempts = 0
  let throttledAttempts = 0
  let tableThrottles = 0
  let requests = 0
  let failed = 0
  let consumedMilli = 0
  let nextTickMs = TICK_MS
  let arrival = 0

  const attempt = (t: number, start: number, key: number, router: number, n: number): void => {
    attempts++
    const sec0 = Math.floor(t / 1000)
    if (sec0 < seconds) attemptsPerSec[sec0]!++
    const p = keyPart[key]!
    if (splitting) stats[p]!.record(words, key * 4, undefined, READ_COST_RCU, 0)
    const d = stage.admit(router, p, READ, costMilli, t)
    if (isAdmitted(d)) {
      consumedMilli += costMilli
      const sec = Math.floor(t / 1000)
      if (sec < seconds) heatRows[p]![sec]! += READ_COST_RCU
      recorder.record("read", start, (t - start) * 1000 + svc.drawUs(), "ok")
      return
    }
    throttledAttempts++
    const sec = Math.floor(t / 1000)
    if (d === THROTTLED_TABLE) {
      tableThrottles++
      if (sec < seconds) tableThrottledPerSec[sec]!++
    }
    if (sec < seconds) throttledPerSec[sec]!++
    if (n >= CLIENT_ATTEMPTS_MAX) {
      failed++
      recorder.record("read", start, (t - start + THROTTLE_RTT_MS) * 1000, "throttled")
      return
    }
    retries.push(t + THROTTLE_RTT_MS + backoffMs(n, rng), { start, key, router, attempt: n + 1 })
  }

  const applySplits = (t: number): void => {
    if (pendingSplit && t >= pendingSplit.atMs) {
      map = pendingSplit.map
      pendingSplit = undefined
      locateAll(map, words, keyPart)
      heatRows = map.partitions.map((p) => heatRow(p.id))
      // The new map is a new topology: the stage restarts with fresh buckets (GAC warm, no debt).
      stage = stageFor(run.stage, topologyOf(map, "map"), t)
      stats = map.partitions.map(() => new AccessStats())
    }
    if (!splitting || t < nextSplitCheckMs) return
    nextSplitCheckMs += run.splitWindowMs
    if (pendingSplit) return
    let next = map
    map.partitions.forEach((p, i) => {
      const r = splitForConsumption(next, p.id, stats[i]!, { windowMs: run.splitWindowMs })
      if (Either.isRight(r)) {
        next = r.right.map
        const share = r.right.change.leftShare
        splits.push(`${sig(t / 1000, 3)} s: split ${p.id} (left child ${pct(share ?? 0)} % of traffic)`)
      } else if (r.left._tag !== "BelowThreshold") {
        splits.push(`${sig(t / 1000, 3)} s: ${p.id} not split (${r.left._tag})`)
      }
    })
    for (const s of stats) s.reset()
    if (next !== map) pendingSplit = { atMs: t + run.splitDelayMs, map: next }
  }

  for (;;) {
    const tArrival = arrival * gapMs
    const arrivalsLeft = tArrival < run.durationMs
    const t = Math.min(arrivalsLeft ? tArrival : Number.POSITIVE_INFINITY, retries.peekTime())
    if (!Number.isFinite(t)) break
    while (nextTickMs <= t) {
      stage.tick(nextTickMs)
      applySplits(nextTickMs)
      nextTickMs += TICK_MS
    }
    if (arrivalsLeft && tArrival <= retries.peekTime()) {
      arrival++
      requests++
      attempt(t, t, chooser.next(keyRng), Math.floor(rng.next() * ROUTERS), 1)
    } else {
      const r = retries.pop()!
      attempt(t, r.item.start, r.item.key, r.item.router, r.item.attempt)
    }
  }
  return {
    run,
    attempts,
    throttledAttempts,
    tableThrottles,
    requests,
    failedRequests: failed,
    consumedRcuPerSec: consumedMilli / MILLI_PER_UNIT / (run.durationMs / 1000),
    recorder,
    heat,
    splits,
    throttledPerSec,
    attemptsPerSec,
    tableThrottledPerSec,
  }
}

/** Result of the dilution experiment: admitted WCU/s per second, before and after a size split. */
export interface DilutionResult {
  readonly policy: AllocationPolicy
  readonly admittedPerSec: number[]
  readonly beforeWcu: number
  readonly afterWcu: number
  readonly allocationBefore: number
  readonly allocationAfter: number
}

/**
 * Throughput dilution (paper §4): a table of 3,200 WCU in 4 partitions (800 each). A hot key range
 * in the first quarter of p0's hash range writes 700 WCU/s, within p0's share. At `splitAtMs` p0
 * grows past the size threshold and splits at its median key by bytes: under `even` each child
 * gets half of p0's allocation, so the hot range (all in one child) is cut to 400 WCU/s even
 * though the table is at 22 % of its capacity.
 */
export function runDilution(
  policy: AllocationPolicy,
  opts: { durationMs: number; splitAtMs: number; seed: number },
): DilutionResult {
  const map0 = PartitionMap.make(
    { table: "diluted", hash: "murmur3", policy, provisioned: { rcu: 3200, wcu: 3200 } },
    4,
  )
  // Keys of p0: all sampled for the size split; the hot ones sit in the low quarter of its range.
  const w = new Uint32Array(4)
  const p0Keys: Array<{ name: string; hash: string; words: Uint32Array }> = []
  for (let k = 0; p0Keys.length < 2000 && k < 100_000; k++) {
    const name = keyName(k)
    map0.hashInto(name, w, 0)
    if (map0.locate(w[0]!, w[1]!, w[2]!, w[3]!) !== 0) continue
    const hex = Array.from(w, (x) => x.toString(16).padStart(8, "0")).join("")
    p0Keys.push({ name, hash: hex, words: Uint32Array.from(w) })
  }
  const hot = p0Keys.filter((k) => k.words[0]! < 0x10000000)
  const samples = p0Keys.map((k) => ({ hash: k.hash, bytes: 5 * 1024 * 1024 }))
  const split = splitForSize(map0, map0.partitions[0]!.id, samples, { thresholdBytes: 1024 * 1024 * 1024 })
  if (Either.isLeft(split)) throw new Error(`dilution: size split refused (${split.left._tag})`)
  const map1 = split.right.map
  const rng = new Prng(opts.seed)
  const topo = (m: PartitionMap): Topology => ({
    ...topologyOf(m, "map"),
    nodes: Array.from({ length: NODES }, (_, i) => ({
      id: `n${i}`,
      readCapacityUnits: 9000,
      writeCapacityUnits: 3000,
    })),
  })
  let stage: AdmissionStage = new StaticStage(topo(map0), 0)
  let map = map0
  const seconds = Math.ceil(opts.durationMs / 1000)
  const admittedPerSec = new Array<number>(seconds).fill(0)
  const rate = 700
  let switched = false
  for (let i = 0; ; i++) {
    const t = (i * 1000) / rate
    if (t >= opts.durationMs) break
    if (!switched && t >= opts.splitAtMs) {
      switched = true
      map = map1
      stage = new StaticStage(topo(map1), t)
    }
    const k = hot[Math.floor(rng.next() * hot.length)]!
    const p = map.locate(k.words[0]!, k.words[1]!, k.words[2]!, k.words[3]!)
    if (isAdmitted(stage.admit(0, p, WRITE, MILLI_PER_UNIT, t))) admittedPerSec[Math.floor(t / 1000)]!++
  }
  const splitSec = Math.floor(opts.splitAtMs / 1000)
  const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / Math.max(1, a.length)
  // Skip the first second of each phase (buckets start full).
  const before = mean(admittedPerSec.slice(1, splitSec))
  const after = mean(admittedPerSec.slice(splitSec + 1))
  const hotChild =
    map1.partitions[map1.locate(hot[0]!.words[0]!, hot[0]!.words[1]!, hot[0]!.words[2]!, hot[0]!.words[3]!)]!
  return {
    policy,
    admittedPerSec,
    beforeWcu: before,
    afterWcu: after,
    allocationBefore: map0.partitions[0]!.allocation.wcu,
    allocationAfter: hotChild.allocation.wcu,
  }
}

/** Sizes of a throttling run. */
export interface ThrottlingConfig {
  readonly loads: ReadonlyArray<number>
  readonly durationMs: number
  readonly keyCount: number
  readonly splitWindowMs: number
  readonly splitDelayMs: number
  readonly dilutionMs: number
}

/** Quick (CI) and full sizes. */
export function throttlingConfig(quick: boolean): ThrottlingConfig {
  return quick
    ? {
        loads: [50, 75, 100],
        durationMs: 30_000,
        keyCount: 10_000,
        splitWindowMs: 5000,
        splitDelayMs: 3000,
        dilutionMs: 20_000,
      }
    : {
        loads: [50, 60, 70, 80, 90, 100],
        durationMs: 120_000,
        keyCount: 10_000,
        splitWindowMs: 10_000,
        splitDelayMs: 10_000,
        dilutionMs: 60_000,
      }
}

const rate = (r: ThrottlingResult) => r.throttledAttempts / Math.max(1, r.attempts)
/** Throttled share of attempts in the second half of the run (after splits and controllers settle). */
const steadyRate = (r: ThrottlingResult, partitionOnly = false) => {
  const h = Math.floor(r.attemptsPerSec.length / 2)
  const sum = (a: number[]) => a.slice(h).reduce((x, y) => x + y, 0)
  const throttled = sum(r.throttledPerSec) - (partitionOnly ? sum(r.tableThrottledPerSec) : 0)
  return throttled / Math.max(1, sum(r.attemptsPerSec))
}

/** Runs the whole suite: every skew × load × stage, then dilution; builds tables, charts, checks. */
export async function throttlingSuiteRun(
  ctx: SuiteContext,
  cfg = throttlingConfig(ctx.quick),
): Promise<SuiteOutput> {
  const runs: ThrottlingResult[] = []
  const total = 2 * cfg.loads.length * THROTTLING_STAGES.length
  const progress = ctx.progress("skew × load × stage", total)
  for (const skew of ["zipfian", "hot-key"] as const)
    for (const loadPct of cfg.loads)
      for (const stage of THROTTLING_STAGES) {
        runs.push(
          runThrottling({
            skew,
            loadPct,
            stage,
            durationMs: cfg.durationMs,
            keyCount: cfg.keyCount,
            seed: ctx.seed,
            splitWindowMs: cfg.splitWindowMs,
            splitDelayMs: cfg.splitDelayMs,
          }),
        )
        progress.tick()
        // Let the event loop breathe between runs (progress output, signals).
        await Promise.resolve()
      }
  progress.finish()
  const dilution = (["even", "per-partition-limit"] as const).map((policy) =>
    runDilution(policy, { durationMs: cfg.dilutionMs, splitAtMs: cfg.dilutionMs / 2, seed: ctx.seed }),
  )
  return buildThrottlingReport(cfg, runs, dilution)
}

function find(
  runs: ThrottlingResult[],
  skew: SkewKind,
  load: number,
  stage: ThrottlingStage,
): ThrottlingResult {
  const r = runs.find((x) => x.run.skew === skew && x.run.loadPct === load && x.run.stage === stage)
  if (!r) throw new Error(`missing run ${skew}/${load}/${stage}`)
  return r
}

function heatChart(title: string, r: ThrottlingResult): Chart {
  const ids = [...r.heat.keys()].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))
  const secs = r.heat.get(ids[0]!)!.length
  return {
    kind: "heatmap",
    title,
    xLabel: "time (s)",
    yLabel: "partition",
    rowLabels: ids,
    columnLabels: Array.from({ length: secs }, (_, i) => String(i)),
    values: ids.map((id) => r.heat.get(id)!),
  }
}

/** Turns the runs into the report: tables, charts and the checks of the expected shape. */
export function buildThrottlingReport(
  cfg: ThrottlingConfig,
  runs: ThrottlingResult[],
  dilution: DilutionResult[],
): SuiteOutput {
  const tables: Table[] = []
  const charts: Chart[] = []
  const checks: Check[] = []
  const figures: Record<string, number> = {}
  const maxLoad = Math.max(...cfg.loads)
  for (const skew of ["zipfian", "hot-key"] as const) {
    const rows: Array<Array<string | number>> = []
    for (const load of cfg.loads)
      for (const stage of THROTTLING_STAGES) {
        const r = find(runs, skew, load, stage)
        const s = r.recorder.summary("read")
        rows.push([
          load,
          stage,
          r.requests,
          pct(rate(r)),
          pct(steadyRate(r)),
          pct(r.tableThrottles / Math.max(1, r.throttledAttempts)),
          pct(r.failedRequests / Math.max(1, r.requests)),
          Math.round(r.consumedRcuPerSec),
          pct(r.consumedRcuPerSec / TABLE_RCU),
          sig(s.p50Us / 1000, 3),
          sig(s.p99Us / 1000, 3),
        ])
        figures[`${skew}.${load}.${stage}.throttlePct`] = pct(rate(r))
        figures[`${skew}.${load}.${stage}.p99Ms`] = sig(s.p99Us / 1000, 3)
      }
    tables.push(
      table(
        `${skew === "zipfian" ? "Zipfian (θ 0.99)" : `Single hot key (${HOT_KEY_SHARE * 100} % of requests)`}: throttling by stage and load`,
        [
          "load %",
          "stage",
          "requests",
          "throttled attempts %",
          "throttled, 2nd half %",
          "of which table-level %",
          "failed after retries %",
          "consumed RCU/s",
          "consumed / provisioned %",
          "p50 ms",
          "p99 ms",
        ],
        rows,
        `Table ${TABLE_RCU.toLocaleString("en-US")} RCU in ${TABLE_PARTITIONS} partitions (${TABLE_RCU / TABLE_PARTITIONS} RCU each under \`even\`), 16 KB strong reads (4 RCU), ${ROUTERS} routers, ${cfg.durationMs / 1000} s of virtual time per run. Latency is modelled (0.8 ms + exp(0.4 ms) service time) plus the client's retry backoff after throttles; p50/p99 are over requests that succeeded.`,
      ),
    )
    const label = skew === "zipfian" ? "Zipfian θ 0.99" : "single hot key"
    charts.push(
      lineChart(
        `Throttled attempts vs load — ${label}`,
        "load (% of provisioned)",
        "throttled attempts (%)",
        THROTTLING_STAGES.map((st) => [
          st,
          cfg.loads.map((l) => [l, pct(rate(find(runs, skew, l, st)))] as const),
        ]),
      ),
      lineChart(
        `p99 latency vs load — ${label} (modelled service time + retries)`,
        "load (% of provisioned)",
        "p99 (ms)",
        THROTTLING_STAGES.map((st) => [
          st,
          cfg.loads.map((l) => [l, find(runs, skew, l, st).recorder.summary("read").p99Us / 1000] as const),
        ]),
        { logY: true },
      ),
    )
  }
  charts.push(
    lineChart(
      "Consumed vs provisioned — Zipfian θ 0.99",
      "offered load (% of provisioned)",
      "consumed RCU/s",
      [
        ["provisioned", cfg.loads.map((l) => [l, TABLE_RCU] as const)],
        ["offered", cfg.loads.map((l) => [l, (l / 100) * TABLE_RCU] as const)],
        ...THROTTLING_STAGES.map(
          (st) =>
            [st, cfg.loads.map((l) => [l, find(runs, "zipfian", l, st).consumedRcuPerSec] as const)] as const,
        ),
      ],
    ),
    lineChart(
      `Throttled attempts per second — Zipfian at ${maxLoad} %`,
      "time (s)",
      "throttled/s",
      THROTTLING_STAGES.map((st) => [
        st,
        find(runs, "zipfian", maxLoad, st).throttledPerSec.map((v, i) => [i, v] as const),
      ]),
    ),
    percentileChart(
      `Latency percentiles — Zipfian at ${maxLoad} % (modelled)`,
      THROTTLING_STAGES.map((st) => [st, find(runs, "zipfian", maxLoad, st).recorder, "read"] as const),
    ),
    heatChart(
      `Consumed RCU/s per partition — Zipfian ${maxLoad} %, static`,
      find(runs, "zipfian", maxLoad, "static"),
    ),
    heatChart(
      `Consumed RCU/s per partition — Zipfian ${maxLoad} %, GAC + split`,
      find(runs, "zipfian", maxLoad, "gac+split"),
    ),
    heatChart(
      `Consumed RCU/s per partition — hot key ${maxLoad} %, GAC + split`,
      find(runs, "hot-key", maxLoad, "gac+split"),
    ),
  )
  tables.push(
    latencyTable(
      find(runs, "zipfian", maxLoad, "gac+split").recorder,
      `Latency (µs) — Zipfian ${maxLoad} %, GAC + split`,
    ),
  )
  const splitRows: Array<[string, string]> = []
  for (const skew of ["zipfian", "hot-key"] as const)
    for (const load of cfg.loads)
      for (const s of find(runs, skew, load, "gac+split").splits) splitRows.push([`${skew} ${load} %`, s])
  tables.push(table("Split-for-consumption decisions (GAC + split)", ["run", "decision"], splitRows))

  // Dilution.
  const [even, perLimit] = dilution as [DilutionResult, DilutionResult]
  tables.push(
    table(
      "Throughput dilution after a size split (700 WCU/s on a hot range of p0; table 3,200 WCU, 4 partitions)",
      [
        "policy",
        "allocation before (WCU)",
        "admitted before (WCU/s)",
        "hot child's allocation after (WCU)",
        "admitted after (WCU/s)",
        "after / before",
      ],
      dilution.map((d) => [
        d.policy,
        d.allocationBefore,
        sig(d.beforeWcu, 4),
        d.allocationAfter,
        sig(d.afterWcu, 4),
        sig(d.afterWcu / d.beforeWcu, 3),
      ]),
    ),
  )
  charts.push(
    lineChart(
      "Throughput dilution: admitted writes on a hot range across a size split",
      "time (s)",
      "admitted WCU/s",
      [
        ["offered", even.admittedPerSec.map((_, i) => [i, 700] as const)],
        ...dilution.map((d) => [d.policy, d.admittedPerSec.map((v, i) => [i, v] as const)] as const),
      ],
      { markers: [{ x: cfg.dilutionMs / 2000, label: "size split" }] },
    ),
  )
  figures["dilution.even.afterOverBefore"] = sig(even.afterWcu / even.beforeWcu, 3)
  figures["dilution.perPartitionLimit.afterOverBefore"] = sig(perLimit.afterWcu / perLimit.beforeWcu, 3)

  // Checks: the expected shape.
  const tol = 0.002
  for (const load of cfg.loads) {
    const rs = THROTTLING_STAGES.map((st) => rate(find(runs, "zipfian", load, st)))
    const mono = rs.every((v, i) => i === 0 || v <= rs[i - 1]! + tol)
    checks.push(
      check(
        `zipfian ${load} %: throttling does not rise from one stage to the next`,
        mono,
        THROTTLING_STAGES.map((st, i) => `${st} ${pct(rs[i]!)} %`).join(", "),
      ),
    )
  }
  const zs = rate(find(runs, "zipfian", maxLoad, "static"))
  const zg = rate(find(runs, "zipfian", maxLoad, "gac+split"))
  const zgRun = find(runs, "zipfian", maxLoad, "gac+split")
  const zgSteady = steadyRate(zgRun)
  const zgPartition = steadyRate(zgRun, true)
  checks.push(
    check(
      `zipfian ${maxLoad} %: static throttles; once its splits are done, GAC + split leaves only table-level throttles (< 0.5 % partition-level)`,
      zs > 0.01 && zgPartition < 0.005,
      `static ${pct(zs)} %; gac+split ${pct(zg)} % over the run (${pct(zgSteady)} % in its second half), partition-level ${pct(zgPartition)} % of attempts in the second half — the rest is the table at its provisioned rate, with client retries on top`,
    ),
  )
  const below = cfg.loads.filter((l) => l < 100)
  const gacBelow = below.map((l) => rate(find(runs, "zipfian", l, "gac")))
  checks.push(
    check(
      "zipfian: GAC throttles ~only above table capacity (< 0.5 % below 100 % load)",
      gacBelow.every((v) => v < 0.005),
      below.map((l, i) => `${l} %: ${pct(gacBelow[i]!)} %`).join(", "),
    ),
  )
  const hk = find(runs, "hot-key", maxLoad, "gac+split")
  const refused = hk.splits.some((s) => s.includes("HotKey"))
  checks.push(
    check(
      "hot key: split for consumption refuses to split a single hot item",
      refused,
      hk.splits.join("; ") || "no decision",
    ),
  )
  const hotRow = [...hk.heat.values()].map((row) => Math.max(...row.slice(2)))
  const hotMax = Math.max(...hotRow)
  checks.push(
    check(
      "hot key: the hot partition is capped near the partition maximum (3,000 RCU/s) under GAC",
      hotMax <= PARTITION_MAX_RCU * 1.1 && hotMax >= PARTITION_MAX_RCU * 0.8,
      `hottest partition-second ${Math.round(hotMax)} RCU/s`,
    ),
  )
  checks.push(
    check(
      "dilution: under `even` the hot range is cut to ~half its share after a size split",
      Math.abs(even.afterWcu - even.allocationAfter) / even.allocationAfter < 0.1 &&
        even.afterWcu < even.beforeWcu * 0.7,
      `before ${sig(even.beforeWcu, 4)} WCU/s, after ${sig(even.afterWcu, 4)} WCU/s (child allocation ${even.allocationAfter})`,
    ),
  )
  checks.push(
    check(
      "dilution: `per-partition-limit` keeps the hot range's throughput",
      perLimit.afterWcu >= perLimit.beforeWcu * 0.95,
      `before ${sig(perLimit.beforeWcu, 4)} WCU/s, after ${sig(perLimit.afterWcu, 4)} WCU/s`,
    ),
  )
  const summary =
    `Skewed reads at ${cfg.loads.join("/")} % of a ${TABLE_RCU.toLocaleString("en-US")} RCU table against each admission stage, in virtual time over @partita/admission and @partita/partitioner (latency is modelled service time plus client retries). ` +
    `At ${maxLoad} % Zipfian load: static ${pct(zs)} % of attempts throttled, burst ${pct(rate(find(runs, "zipfian", maxLoad, "burst")))} %, adaptive ${pct(rate(find(runs, "zipfian", maxLoad, "adaptive")))} %, GAC ${pct(rate(find(runs, "zipfian", maxLoad, "gac")))} %, GAC + split ${pct(zg)} % (in its second half ${pct(steadyRate(zgRun, true))} % at partition level: once the hot partitions are split, what remains is table-level, the table at its provisioned rate with client retries on top). ` +
    `A single hot key stays capped at the partition maximum (a split cannot divide one item). A size split under \`even\` cut a hot range from ${Math.round(even.beforeWcu)} to ${Math.round(even.afterWcu)} WCU/s at 22 % table utilisation.`
  return {
    title: "Throttling: admission stages under skew, and throughput dilution",
    summary,
    config: {
      ...cfg,
      tableRcu: TABLE_RCU,
      partitions: TABLE_PARTITIONS,
      itemBytes: ITEM_BYTES,
      readCostRcu: READ_COST_RCU,
      hotKeyShare: HOT_KEY_SHARE,
      routers: ROUTERS,
      nodes: NODES,
      nodeRcu: NODE_RCU,
      initialBurstSeconds: INITIAL_BURST_S,
      clientAttemptsMax: CLIENT_ATTEMPTS_MAX,
      latency:
        "modelled: 0.8 ms + exp(0.4 ms) per admitted attempt, + 1 ms per throttled attempt + full-jitter backoff",
    },
    figures,
    checks,
    tables,
    charts,
  }
}

/** The suite. */
export const throttlingSuite: Suite = {
  name: "throttling",
  description:
    "Zipfian / hot-key load vs static, burst, adaptive, GAC, GAC+split; dilution after size splits",
  run: (ctx) => throttlingSuiteRun(ctx),
}
