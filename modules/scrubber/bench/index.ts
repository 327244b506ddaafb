/**
 * Scrubber benchmark (bun): replicas and archive built by `SimPartition` (three replicas per
 * partition, archived WAL segments in a memory object store).
 *
 * 1. Scrub throughput, MB/s verified: replica comparison (local WAL check + checksums at a common
 *    position) and the full visit with the reference rebuilt from the archive (checkpoint +
 *    segments, every segment verified), interleaved rounds, median.
 * 2. Bytes exchanged per detected difference while narrowing (1, 10, 100 differences).
 * 3. Time to detect 1 and 100 corruptions (bit flips in stored values, spread over partitions and
 *    replicas) in 256 MB of items over 64 partitions: wall time with the scrubber unthrottled, and
 *    virtual time at a fixed scrub rate (the token bucket on a virtual clock).
 * 4. Foreground p99 (open-loop puts: commit + apply on three replicas) with and without the
 *    scrubber running between requests, rate-limited and yielding to pending requests.
 *
 * Run: node_modules/.bin/bun modules/scrubber/bench/index.ts [--quick]
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { BTree, Scalar } from "@partita/btree"
import { MemoryObjectStore, ObjectStore, type ObjectStoreService } from "@partita/paxos"
import { Prng } from "@partita/sim"
import { Effect } from "effect"
import {
  type ScrubEvent,
  ScrubberCore,
  SimPartition,
  flipValueBit,
  narrow,
  viewSource,
} from "../src/index.ts"

const MB = 1024 * 1024

/** Everything measured. */
export interface ScrubberBenchReport {
  readonly suite: "scrubber"
  readonly quick: boolean
  readonly runtime: string
  readonly dataset: {
    readonly partitions: number
    readonly itemBytes: number
    readonly items: number
    readonly payloadMB: number
    readonly archiveMB: number
    readonly buildS: number
  }
  readonly rounds: number
  readonly throughput: {
    /** Replica comparison: replica payload + local WAL bytes verified per second. */
    readonly replicaCompareMBs: number
    /** Node-side checks plus the deep pass (every stored item re-hashed): MB read per second. */
    readonly deepPassMBs: number
    /** Full visit: archive read, verified and applied into the reference, per second. */
    readonly referenceRebuildMBs: number
    /** Warm cycle (reference kept from the previous cycle): MB read and verified per second. */
    readonly warmCycleReadMBs: number
    /** Wall time of one full cycle over every partition, cold (rebuild) and warm. */
    readonly coldCycleS: number
    readonly warmCycleS: number
  }
  readonly narrowing: ReadonlyArray<{
    readonly differences: number
    readonly checksumsExchanged: number
    readonly bytesExchanged: number
    readonly bytesPerDifference: number
    readonly exact: boolean
  }>
  readonly detection: ReadonlyArray<{
    readonly corruptions: number
    readonly detected: number
    readonly wallMs: number
    readonly virtualRateMBs: number
    readonly virtualS: number
    readonly cycleVirtualS: number
  }>
  readonly foreground: {
    /** Measured cost of one request alone, and the open-loop interval between requests. */
    readonly requestCostUs: number
    readonly intervalUs: number
    readonly requests: number
    /** Paired rounds (one without, one with the node-side scrubber), interleaved. */
    readonly rounds: number
    readonly scrubRateMBs: number
    /** Medians over rounds. */
    readonly p50UsWithout: number
    /** p99 of all rounds' requests together. */
    readonly p99UsWithout: number
    readonly p50UsWith: number
    readonly p99UsWith: number
    /** p99 with / without, all rounds pooled. */
    readonly p99Ratio: number
    /** 95 % interval of `p99Ratio`, resampling the paired rounds (1,000 resamples). */
    readonly p99RatioCi95: readonly [number, number]
    /**
     * The direct effect: the p99 with the scrubber over the p99 of the same requests (same service
     * times) replayed with no slice between them. Pooled, and the largest of one round.
     */
    readonly p99RatioDirect: number
    readonly p99RatioDirectMax: number
    readonly scrubMBsAchieved: number
    /** With the archive verification and reference rebuild on the same thread too. */
    readonly p99UsWithAll: number
    readonly p99RatioAll: number
    readonly scrubMBsAchievedAll: number
    /**
     * Share of requests that arrived while a scrub slice ran and waited for it (median over
     * rounds). Only these can be slowed by the scrubber: with q below 1 %, the p99 with the
     * scrubber is at most the p(99 + 100q) of the same requests without it.
     */
    readonly delayedShareNode: number
    /** The node-side / none p99 ratio of each round (the two runs of a round are adjacent), sorted. */
    readonly p99RatioRounds: ReadonlyArray<number>
    readonly delayedShareAll: number
    /** Node-side slice durations, µs: median, p99, max (the most a request can wait for one). */
    readonly sliceUsNode: { readonly p50: number; readonly p99: number; readonly max: number }
  }
}

/** Process CPU time in microseconds (user + system). */
const wallUs = (): number => performance.now() * 1000

const cpuUs = (): number => {
  const u = process.cpuUsage()
  return u.user + u.system
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(s.length * p))]!
}

/** Latencies in log-spaced bins 0.5 % wide from 0.1 µs to ~10 s: pooled and resampled cheaply. */
type Hist = Float64Array
const HIST_STEP = Math.log(1.005)
const HIST_MIN = 0.1
const HIST_BINS = Math.ceil(Math.log(1e7 / HIST_MIN) / HIST_STEP) + 1
const histOf = (xs: ArrayLike<number>): Hist => {
  const h = new Float64Array(HIST_BINS)
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!
    const b = x <= HIST_MIN ? 0 : Math.min(HIST_BINS - 1, Math.ceil(Math.log(x / HIST_MIN) / HIST_STEP))
    h[b]!++
  }
  return h
}
const histSum = (hs: ReadonlyArray<Hist>): Hist => {
  const out = new Float64Array(HIST_BINS)
  for (const h of hs) for (let b = 0; b < HIST_BINS; b++) out[b]! += h[b]!
  return out
}
/** The p-quantile of a histogram (the upper edge of its bin: within 0.5 %). */
const histPct = (h: Hist, p: number): number => {
  let n = 0
  for (let b = 0; b < HIST_BINS; b++) n += h[b]!
  const want = Math.ceil(p * n)
  let seen = 0
  for (let b = 0; b < HIST_BINS; b++) {
    seen += h[b]!
    if (seen >= want) return HIST_MIN * Math.exp(b * HIST_STEP)
  }
  return HIST_MIN * Math.exp((HIST_BINS - 1) * HIST_STEP)
}
/**
 * 95 % interval of pooled-quantile(a) / pooled-quantile(b), resampling the paired rounds with
 * replacement (a round's two runs stay together).
 */
const bootstrapRatioCi = (
  a: ReadonlyArray<Hist>,
  b: ReadonlyArray<Hist>,
  p: number,
  resamples: number,
  prng: Prng,
): [number, number] => {
  const ratios: number[] = []
  const sa = new Float64Array(HIST_BINS)
  const sb = new Float64Array(HIST_BINS)
  for (let r = 0; r < resamples; r++) {
    sa.fill(0)
    sb.fill(0)
    for (let k = 0; k < a.length; k++) {
      const i = prng.int(a.length)
      const ha = a[i]!
      const hb = b[i]!
      for (let bin = 0; bin < HIST_BINS; bin++) {
        sa[bin]! += ha[bin]!
        sb[bin]! += hb[bin]!
      }
    }
    ratios.push(histPct(sa, p) / histPct(sb, p))
  }
  ratios.sort((x, y) => x - y)
  return [
    ratios[Math.floor(0.025 * resamples)]!,
    ratios[Math.min(resamples - 1, Math.floor(0.975 * resamples))]!,
  ]
}

const services = new WeakMap<MemoryObjectStore, ObjectStoreService>()
/** Runs an archive effect against `store` (the service is built once per store, not per call). */
const run = <A>(store: MemoryObjectStore, e: Effect.Effect<A, never, ObjectStore>): A => {
  let svc = services.get(store)
  if (svc === undefined) {
    svc = store.service()
    services.set(store, svc)
  }
  return Effect.runSync(Effect.provideService(e, ObjectStore, svc))
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"

/** Builds `partitions` partitions holding `itemsPer` items of ~`itemBytes` each, archived. */
const build = (
  store: MemoryObjectStore,
  partitions: number,
  itemsPer: number,
  itemBytes: number,
  seg: number,
) => {
  const prng = new Prng(2022)
  let pool = ""
  for (let i = 0; i < 65536 + itemBytes; i++) pool += ALPHABET[prng.int(ALPHABET.length)]
  const parts: SimPartition<Scalar>[] = []
  for (let pi = 0; pi < partitions; pi++) {
    const p = new SimPartition({ partition: `p${String(pi).padStart(3, "0")}`, entriesPerSegment: seg })
    for (let i = 0; i < itemsPer; i++) {
      const off = prng.int(65536)
      p.commit({
        op: "put",
        key: `item#${String(i).padStart(8, "0")}`,
        value: pool.slice(off, off + itemBytes),
      })
      if (i % 256 === 255) {
        p.deliverAll()
        run(store, p.archivePending())
      }
    }
    while (p.committed % seg !== 0) p.commit({ op: "put", key: "pad", value: String(p.committed) })
    p.deliverAll()
    run(store, p.archivePending())
    parts.push(p)
  }
  return parts
}

const storeBytes = (store: MemoryObjectStore): number => {
  let n = 0
  for (const [k, v] of store.objects) if (k.endsWith(".seg")) n += v.length
  return n
}

/**
 * Foreground p99 with and without the scrubber, on its own data set (`FOREGROUND_MB` over
 * `FOREGROUND_PARTITIONS`), measured before the large one is built: the collector's pauses grow
 * with the heap, and with 256 MB of items and 320 MB of archive alive a single full collection
 * moved one round's p99 by up to 20x, which no number of rounds averaged out.
 */
const foregroundPhase = (
  quick: boolean,
  parts: SimPartition<Scalar>[],
  store: MemoryObjectStore,
  seg: number,
) => {
  const requests = quick ? 10000 : 20000
  // Offered load: about 25 % of one core, from the measured cost of one request.
  const costUs = (() => {
    const p = parts[0]!
    const t = cpuUs()
    for (let i = 0; i < 2000; i++) {
      p.commit({ op: "put", key: `fg#${i % 1000}`, value: `w${i}` })
      p.deliverAll()
      if (p.committed % seg === 0) run(store, p.archivePending())
    }
    return (cpuUs() - t) / 2000
  })()
  const intervalUs = Math.max(50, Math.round(costUs * 4))
  const scrubRate = 1 * MB
  let achieved = 0
  let achievedAll = 0
  /** Share of requests that arrived during a scrub slice and waited for it, per round. */
  const delayedNode: number[] = []
  const delayedAll: number[] = []
  /** Durations of the node-side scrubber's slices (all rounds), µs. */
  const sliceUsNode: number[] = []
  const prng = new Prng(5)
  /**
   * One thread serves both: a request is served as soon as it is due; the scrubber gets a slice
   * only when no request is pending. Time advances by the wall-clock duration of each request and
   * slice (idle gaps are skipped); arrivals are open-loop every `intervalUs`. An earlier version advanced it by
   * the process CPU time instead, which counts the collector's and the JIT's helper threads: the
   * garbage a slice left was then charged to whichever request ran while those threads worked,
   * and the with/without ratio swung from 0.1 to 3.2 between runs. Thread CPU time would be the
   * right clock but has a 4 ms resolution here. Run on a quiet machine.
   *
   * Returns each request's latency, and its latency had the same requests (same service times)
   * been served with no slice in between: the scrubber's direct effect is the difference, known
   * exactly for the same run.
   */
  const foreground = (mode: "none" | "node" | "all") => {
    const scrub = mode !== "none"
    const s = new ScrubberCore(parts, {
      checkpointEverySegments: CKPT_EVERY,
      replicasOnly: mode === "node",
      rateLimit: { bytesPerSec: scrubRate, burstBytes: 256 * 1024 },
    })
    if (scrub) run(store, s.runCycle(0)) // warm: references built, as in steady state
    const read0 = s.metrics().bytesRead
    // Earlier phases leave large garbage (whole references); collect it before measuring.
    if (typeof Bun !== "undefined") Bun.gc(true)
    const lat = new Float64Array(requests)
    const noSlices = new Float64Array(requests)
    let vnow = 0
    let bare = 0
    let next = 0
    let served = 0
    let lastSliceEnd = -1
    let delayed = 0
    while (served < requests) {
      if (vnow >= next) {
        // Slices run only when no request is pending, so a request due before the last slice
        // ended arrived while it ran and waited for it.
        if (next < lastSliceEnd) delayed++
        const t = wallUs()
        const p = parts[prng.int(parts.length)]!
        p.commit({ op: "put", key: `fg#${prng.int(1000)}`, value: `v${served}` })
        p.deliverAll()
        if (p.committed % seg === 0) run(store, p.archivePending())
        const svc = wallUs() - t
        vnow += svc
        lat[served] = vnow - next
        bare = Math.max(bare, next) + svc
        noSlices[served] = bare - next
        next += intervalUs
        served++
        continue
      }
      if (!scrub) {
        vnow = next
        continue
      }
      const t = wallUs()
      const o = run(store, s.tick(vnow / 1000, 0))
      if (o === "ran") {
        const d = wallUs() - t
        vnow += d
        lastSliceEnd = vnow
        if (mode === "node") sliceUsNode.push(d)
      } else vnow = next
    }
    if (mode === "node") delayedNode.push(delayed / requests)
    if (mode === "all") delayedAll.push(delayed / requests)
    if (mode === "node") achieved = (s.metrics().bytesRead - read0) / MB / (vnow / 1e6)
    if (mode === "all") achievedAll = (s.metrics().bytesRead - read0) / MB / (vnow / 1e6)
    return { lat, noSlices }
  }
  foreground("none") // warm-up
  // Many short paired rounds, pooled: the p99 of one round moves by tens of percent on its own
  // (a collector pause holds up ~100 consecutive requests), the p99 of all rounds together much
  // less, and rounds resampled give a confidence interval on the ratio.
  const fgRounds = quick ? 4 : 120
  const none: Hist[] = []
  const node: Hist[] = []
  const nodeNoSlices: Hist[] = []
  const directRounds: number[] = []
  const p50Without: number[] = []
  const p50With: number[] = []
  for (let r = 0; r < fgRounds; r++) {
    // Interleaved, alternating which goes first.
    for (const mode of r % 2 === 0 ? (["none", "node"] as const) : (["node", "none"] as const)) {
      const { lat, noSlices } = foreground(mode)
      const h = histOf(lat)
      if (mode === "none") {
        none.push(h)
        p50Without.push(histPct(h, 0.5))
      } else {
        node.push(h)
        p50With.push(histPct(h, 0.5))
        const hb = histOf(noSlices)
        nodeNoSlices.push(hb)
        directRounds.push(histPct(h, 0.99) / histPct(hb, 0.99))
      }
    }
  }
  // The outlier case (archive verification and the reference rebuild on the foreground's thread
  // too): a few rounds, indicative only.
  const all: Hist[] = []
  for (let r = 0; r < Math.min(3, fgRounds); r++) all.push(histOf(foreground("all").lat))
  const p99None = histPct(histSum(none), 0.99)
  const p99Node = histPct(histSum(node), 0.99)
  const ci = bootstrapRatioCi(node, none, 0.99, 1000, new Prng(17))
  const fg = {
    requestCostUs: Math.round(costUs),
    intervalUs,
    requests,
    rounds: fgRounds,
    scrubRateMBs: scrubRate / MB,
    p50UsWithout: Math.round(median(p50Without)),
    p99UsWithout: Math.round(p99None),
    p50UsWith: Math.round(median(p50With)),
    p99UsWith: Math.round(p99Node),
    p99Ratio: p99Node / p99None,
    p99RatioCi95: ci,
    p99RatioDirect: p99Node / histPct(histSum(nodeNoSlices), 0.99),
    p99RatioDirectMax: directRounds.reduce((a, b) => Math.max(a, b), 0),
    p99RatioRounds: node.map((h, i) => histPct(h, 0.99) / histPct(none[i]!, 0.99)).sort((a, b) => a - b),
    scrubMBsAchieved: achieved,
    p99UsWithAll: Math.round(histPct(histSum(all), 0.99)),
    p99RatioAll: histPct(histSum(all), 0.99) / p99None,
    scrubMBsAchievedAll: achievedAll,
    delayedShareNode: median(delayedNode),
    delayedShareAll: median(delayedAll),
    sliceUsNode: {
      p50: pct(sliceUsNode, 0.5),
      p99: pct(sliceUsNode, 0.99),
      max: sliceUsNode.reduce((a, b) => Math.max(a, b), 0),
    },
  }
  log(
    `foreground p99 ${fg.p99UsWithout} us without, ${fg.p99UsWith} us with the scrubber (x${fg.p99Ratio.toFixed(2)})`,
  )
  return fg
}

/** Checkpoint every this many archived segments. */
const CKPT_EVERY = 16

/** The foreground phase's data set: partitions and MB of items per replica. */
const FOREGROUND_PARTITIONS = 16
const FOREGROUND_MB = 16

/** Runs the whole benchmark and writes results/scrubber/. */
export const runScrubberBench = async (opts: { quick: boolean }): Promise<ScrubberBenchReport> => {
  const quick = opts.quick
  const partitions = quick ? 8 : 64
  const itemBytes = 1024
  const totalBytes = quick ? 4 * MB : 256 * MB
  const itemsPer = Math.floor(totalBytes / partitions / itemBytes)
  const seg = 64
  const rounds = 3
  // 4 (first). Foreground p99 with and without the scrubber, on a small data set of its own.
  const fg = (() => {
    const fgStore = new MemoryObjectStore()
    const fgParts = build(
      fgStore,
      FOREGROUND_PARTITIONS,
      Math.floor((FOREGROUND_MB * MB) / FOREGROUND_PARTITIONS / itemBytes),
      itemBytes,
      seg,
    )
    return foregroundPhase(quick, fgParts, fgStore, seg)
  })()
  if (typeof Bun !== "undefined") Bun.gc(true)
  const store = new MemoryObjectStore()
  const t0 = performance.now()
  const parts = build(store, partitions, itemsPer, itemBytes, seg)
  const buildS = (performance.now() - t0) / 1000
  const payload = parts.reduce((a, p) => a + p.replicas[0]!.tree.bytes, 0)
  log(`built ${partitions} partitions, ${(payload / MB).toFixed(1)} MB payload in ${buildS.toFixed(1)} s`)

  // 1. Throughput, interleaved rounds: replica comparison only; a cold full cycle (reference
  // rebuilt from the checkpoint + later segments); a warm cycle (reference kept, every segment
  // and the newest checkpoints' pages still verified).

  const rc: number[] = []
  const deep: number[] = []
  const rr: number[] = []
  const warm: number[] = []
  const coldS: number[] = []
  const warmS: number[] = []
  // The first full cycle writes the checkpoints; measure from the second on.
  run(store, new ScrubberCore(parts, { checkpointEverySegments: CKPT_EVERY }).runCycle(0))
  for (let r = 0; r < rounds; r++) {
    const a = new ScrubberCore(parts, { replicasOnly: true })
    let t = performance.now()
    run(store, a.runCycle(0))
    rc.push(a.metrics().bytesVerified / MB / ((performance.now() - t) / 1000))
    const dp = new ScrubberCore(parts, { replicasOnly: true, deepVerify: true })
    t = performance.now()
    run(store, dp.runCycle(0))
    deep.push(dp.metrics().bytesRead / MB / ((performance.now() - t) / 1000))
    const b = new ScrubberCore(parts, { checkpointEverySegments: CKPT_EVERY })
    t = performance.now()
    run(store, b.runCycle(0))
    const s1 = (performance.now() - t) / 1000
    coldS.push(s1)
    rr.push(b.metrics().referenceBytes / MB / s1)
    const before = b.metrics().bytesRead
    t = performance.now()
    run(store, b.runCycle(1))
    const s2 = (performance.now() - t) / 1000
    warmS.push(s2)
    warm.push((b.metrics().bytesRead - before) / MB / s2)
    if (b.metrics().detections !== 0) throw new Error("false positive in the benchmark data")
  }
  log(
    `replica compare ${median(rc).toFixed(0)} MB/s, deep pass ${median(deep).toFixed(1)} MB/s, reference rebuild ${median(rr).toFixed(1)} MB/s, warm cycle ${median(warm).toFixed(1)} MB/s read`,
  )

  // 2. Narrowing cost per difference (on clones of one partition's replicas).
  const narrowing: ScrubberBenchReport["narrowing"][number][] = []
  {
    const p = parts[0]!
    const keys = [...p.replicas[0]!.tree.range()].map(([k]) => k)
    const prng = new Prng(7)
    for (const d of [1, 10, 100]) {
      const trees = p.replicas.map((r) => r.tree.clone()) as BTree<Scalar>[]
      const bad = new Set<string>()
      while (bad.size < d) bad.add(keys[prng.int(keys.length)]!)
      for (const k of bad) trees[1]!.set(k, `rot-${k}`)
      const res = narrow(trees.map((t) => viewSource(t)))
      const exact = res.differences.map((x) => x.key).join() === [...bad].sort().join()
      narrowing.push({
        differences: d,
        checksumsExchanged: res.checksumsExchanged,
        bytesExchanged: res.bytesExchanged,
        bytesPerDifference: Math.round(res.bytesExchanged / d),
        exact,
      })
    }
  }
  log(`narrowing: ${narrowing.map((n) => `${n.differences}: ${n.bytesPerDifference} B/diff`).join(", ")}`)

  // 3. Time to detect.
  const virtualRate = 64 * MB
  const detection: ScrubberBenchReport["detection"][number][] = []
  for (const n of [1, 100]) {
    const prng = new Prng(100 + n)
    const used = new Set<string>()
    const inject = () => {
      for (let i = 0; i < n; i++) {
        for (;;) {
          const pi = prng.int(parts.length)
          const k = `item#${String(prng.int(itemsPer)).padStart(8, "0")}`
          if (used.has(`${pi}/${k}`)) continue
          used.add(`${pi}/${k}`)
          flipValueBit(parts[pi]!, prng.int(3), k, prng.int(64))
          break
        }
      }
    }
    // Wall clock, unthrottled, on a warmed scrubber: from injection to the last detection.
    const s1 = new ScrubberCore(parts, {
      checkpointEverySegments: CKPT_EVERY,
      rateLimit: { bytesPerSec: 1e15, burstBytes: 1e15 },
    })
    run(store, s1.runCycle(0))
    const found1: ScrubEvent[] = []
    s1.onEvent((e) => {
      if (e.type === "detected") found1.push(e)
    })
    inject()
    const t = performance.now()
    let wallMs = Number.NaN
    const cycles1 = s1.metrics().cycles
    while (s1.metrics().cycles < cycles1 + 1) {
      run(store, s1.tick(performance.now() - t, 0))
      const got = found1.reduce((a, e) => a + (e.keys?.length ?? 0), 0)
      if (got >= n && Number.isNaN(wallMs)) wallMs = performance.now() - t
    }
    const detectedKeys = found1.reduce((a, e) => a + (e.keys?.length ?? 0), 0)
    // Virtual clock at a fixed rate (ticks of 1 ms), warmed scrubber, fresh corruptions.
    const s2 = new ScrubberCore(parts, {
      checkpointEverySegments: CKPT_EVERY,
      rateLimit: { bytesPerSec: virtualRate, burstBytes: 1 * MB },
    })
    run(store, s2.runCycle(0))
    let got2 = 0
    s2.onEvent((e) => {
      if (e.type === "detected") got2 += e.keys?.length ?? 0
    })
    used.clear()
    inject()
    let now = 0
    let virtualMs = Number.NaN
    const cycles2 = s2.metrics().cycles
    while (s2.metrics().cycles < cycles2 + 1) {
      // Each virtual millisecond: slices until the bucket is empty (or the cycle ends).
      for (let i = 0; i < 1000 && s2.metrics().cycles < cycles2 + 1; i++)
        if (run(store, s2.tick(now, 0)) !== "ran") break
      if (got2 >= n && Number.isNaN(virtualMs)) virtualMs = now
      now += 1
    }
    detection.push({
      corruptions: n,
      detected: detectedKeys,
      wallMs: Math.round(wallMs),
      virtualRateMBs: virtualRate / MB,
      virtualS: virtualMs / 1000,
      cycleVirtualS: now / 1000,
    })
    log(
      `detect ${n}: ${detectedKeys} found, wall ${wallMs.toFixed(0)} ms; at 64 MB/s ${virtualMs / 1000} s (cycle ${now / 1000} s)`,
    )
  }

  const report: ScrubberBenchReport = {
    suite: "scrubber",
    quick,
    runtime: typeof Bun !== "undefined" ? `bun ${Bun.version}` : "node",
    dataset: {
      partitions,
      itemBytes,
      items: itemsPer * partitions,
      payloadMB: payload / MB,
      archiveMB: storeBytes(store) / MB,
      buildS,
    },
    rounds,
    throughput: {
      replicaCompareMBs: median(rc),
      deepPassMBs: median(deep),
      referenceRebuildMBs: median(rr),
      warmCycleReadMBs: median(warm),
      coldCycleS: median(coldS),
      warmCycleS: median(warmS),
    },
    narrowing,
    detection,
    foreground: fg,
  }
  writeResults(report)
  return report
}

const log = (s: string): void => {
  console.error(`[scrubber bench] ${s}`)
}

const writeResults = (r: ScrubberBenchReport): void => {
  const out = join(import.meta.dirname ?? ".", "../../../results/scrubber")
  mkdirSync(out, { recursive: true })
  const suffix = r.quick ? "-quick" : ""
  writeFileSync(join(out, `bench${suffix}.json`), JSON.stringify(r, null, 2))
  writeFileSync(join(out, `bench${suffix}.md`), renderMarkdown(r))
}

/** The Markdown table of a report. */
export const renderMarkdown = (r: ScrubberBenchReport): string => {
  const d = r.dataset
  const lines = [
    `# Scrubber benchmark${r.quick ? " (quick)" : ""}`,
    "",
    `${r.runtime}; ${d.partitions} partitions x 3 replicas, ${d.items} items of ${d.itemBytes} B ` +
      `(${d.payloadMB.toFixed(1)} MB payload per replica, ${d.archiveMB.toFixed(1)} MB archived WAL); median of ${r.rounds} interleaved rounds.`,
    "",
    "| measure | value |",
    "|---|---|",
    `| replica comparison (WAL check + checksums + snapshots), MB/s verified | ${r.throughput.replicaCompareMBs.toFixed(0)} |`,
    `| deep pass (node-side checks + every stored item of the 3 replicas re-hashed), MB/s read | ${r.throughput.deepPassMBs.toFixed(1)} |`,
    `| reference rebuild from the archive (read + verify + apply), MB/s | ${r.throughput.referenceRebuildMBs.toFixed(1)} |`,
    `| warm cycle (reference kept; all segments and newest checkpoints re-verified), MB/s read | ${r.throughput.warmCycleReadMBs.toFixed(1)} |`,
    `| one full cycle over all partitions, unthrottled, cold / warm, s | ${r.throughput.coldCycleS.toFixed(2)} / ${r.throughput.warmCycleS.toFixed(2)} |`,
    ...r.narrowing.map(
      (n) =>
        `| narrowing ${n.differences} difference(s): checksums / bytes exchanged / bytes per difference | ${n.checksumsExchanged} / ${n.bytesExchanged} / ${n.bytesPerDifference}${n.exact ? "" : " (NOT exact)"} |`,
    ),
    ...r.detection.map(
      (x) =>
        `| time to detect ${x.corruptions} corruption(s): unthrottled wall / at ${x.virtualRateMBs} MB/s (cycle) | ${x.wallMs} ms / ${x.virtualS.toFixed(2)} s (${x.cycleVirtualS.toFixed(2)} s); ${x.detected} found |`,
    ),
    `| foreground: one request costs / arrives every, us (open loop) | ${r.foreground.requestCostUs} / ${r.foreground.intervalUs} |`,
    `| foreground p50 (median of rounds) / p99 (all rounds pooled) without scrubber, us | ${r.foreground.p50UsWithout} / ${r.foreground.p99UsWithout} |`,
    `| foreground p50 / p99 with the node-side scrubber (WAL check + replica comparison) at ${r.foreground.scrubRateMBs} MB/s, us | ${r.foreground.p50UsWith} / ${r.foreground.p99UsWith} |`,
    `| p99 ratio node-side scrubber / none, ${r.foreground.rounds} paired rounds pooled (95 % interval, rounds resampled) | ${r.foreground.p99Ratio.toFixed(3)} (${r.foreground.p99RatioCi95[0].toFixed(3)}–${r.foreground.p99RatioCi95[1].toFixed(3)}) |`,
    `| direct effect: p99 with slices / the same requests replayed without them, pooled (largest round) | ${r.foreground.p99RatioDirect.toFixed(4)} (${r.foreground.p99RatioDirectMax.toFixed(4)}) |`,
    `| p99 ratio of single rounds: min / p10 / median / p90 / max | ${[0, 0.1, 0.5, 0.9, 1].map((q) => r.foreground.p99RatioRounds[Math.min(r.foreground.p99RatioRounds.length - 1, Math.floor(q * r.foreground.p99RatioRounds.length))]!.toFixed(2)).join(" / ")} |`,
    `| scrub read rate achieved while serving foreground (node-side), MB/s | ${r.foreground.scrubMBsAchieved.toFixed(2)} |`,
    `| foreground p99 with archive verification + reference rebuild on the same thread too, us (ratio) | ${r.foreground.p99UsWithAll} (${r.foreground.p99RatioAll.toFixed(2)}) |`,
    `| scrub read rate achieved (everything on one thread), MB/s | ${r.foreground.scrubMBsAchievedAll.toFixed(2)} |`,
    `| requests that waited behind a scrub slice: node-side / everything on one thread, % | ${(100 * r.foreground.delayedShareNode).toFixed(3)} / ${(100 * r.foreground.delayedShareAll).toFixed(3)} |`,
    `| node-side slice duration p50 / p99 / max, us | ${r.foreground.sliceUsNode.p50.toFixed(1)} / ${r.foreground.sliceUsNode.p99.toFixed(1)} / ${r.foreground.sliceUsNode.max.toFixed(0)} |`,
    "",
  ]
  return lines.join("\n")
}

if (import.meta.main) {
  const quick = process.argv.includes("--quick")
  const r = await runScrubberBench({ quick })
  console.log(renderMarkdown(r))
}
