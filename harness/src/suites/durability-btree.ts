/**
 * `durability` without @partita/scrubber: the same experiment — bit rot and lost writes injected
 * into replicas while writes continue and a rate-limited scrubber cycles over the partitions — with
 * the scrubbing done here directly on @partita/btree's range checksums: replicas (three B-trees per
 * partition) are compared by whole-tree checksum, differing ranges are narrowed by bisection with
 * `rangeSummary` down to the exact keys, the majority value wins (2 of 3), and the odd replica is
 * repaired from a healthy copy. Used when the scrubber module is not available; the report says so.
 */
import { BTree } from "@partita/btree"
import type { EncodedKey } from "@partita/core"
import type { Chart, Table } from "../report.ts"
import type { Suite, SuiteContext, SuiteOutput } from "../suite.ts"
import { type Check, check, lineChart, pct, Prng, sig, table } from "./common.ts"

const REPLICAS = 3
/** Ranges with at most this many items are compared key by key. */
const NARROW_LEAF_ITEMS = 16
/** Deepest bisection of one partition's key space. */
const NARROW_DEPTH_MAX = 64

/** Fault kinds injected, in rotation. */
export const BTREE_FAULTS = ["value-bit-flip", "lost-write"] as const
export type BTreeFaultKind = (typeof BTREE_FAULTS)[number]

/** Sizes of a run. */
export interface BTreeDurabilityConfig {
  readonly partitions: number
  readonly coldKeys: number
  readonly hotKeys: number
  readonly writesPerSec: number
  readonly durationMs: number
  readonly stepMs: number
  readonly faults: number
  /** Bytes the scrubber may read per second (3 replicas' payload per partition visit). */
  readonly scrubBytesPerSec: number
  readonly injectFromMs: number
  readonly injectUntilMs: number
}

/** One fault and its fate. */
export interface BTreeFault {
  readonly kind: BTreeFaultKind
  readonly partition: number
  readonly replica: number
  readonly key: EncodedKey
  readonly atMs: number
  detectedAtMs?: number
  repairedAtMs?: number
}

/** What a run measured. */
export interface BTreeDurabilityResult {
  readonly faults: BTreeFault[]
  readonly cycleEndsMs: number[]
  readonly replicasIdentical: boolean
  readonly falseAlarms: number
  readonly rangeChecksums: number
}

const cold = (k: number): EncodedKey => `c${String(k).padStart(6, "0")}` as EncodedKey
const hot = (k: number): EncodedKey => `h${String(k).padStart(6, "0")}` as EncodedKey

/** Flips one bit of a string value's code units (what rot does to stored bytes). */
function flip(v: string, bit: number): string {
  const i = Math.floor(bit / 8) % Math.max(1, v.length)
  return v.slice(0, i) + String.fromCharCode(v.charCodeAt(i) ^ (1 << (bit % 8))) + v.slice(i + 1)
}

/** Keys whose values differ between replicas in [lo, hi), by bisection over range checksums. */
function narrow(
  trees: ReadonlyArray<BTree<string>>,
  lo: EncodedKey | undefined,
  hi: EncodedKey | undefined,
  depth: number,
  out: Set<EncodedKey>,
  stats: { rangeChecksums: number },
): void {
  const sums = trees.map((t) => t.rangeSummary(lo, hi))
  stats.rangeChecksums += sums.length
  if (sums.every((s) => s.checksum === sums[0]!.checksum)) return
  const biggest = trees[sums.reduce((b, s, i) => (s.count > sums[b]!.count ? i : b), 0)]!
  const count = Math.max(...sums.map((s) => s.count))
  if (count <= NARROW_LEAF_ITEMS || depth >= NARROW_DEPTH_MAX) {
    const keys = new Set<EncodedKey>()
    for (const t of trees)
      t.forRange({ ...(lo ? { gte: lo } : {}), ...(hi ? { lt: hi } : {}) }, (k) => keys.add(k))
    for (const k of keys) {
      const vs = trees.map((t) => t.get(k))
      if (!vs.every((v) => v === vs[0])) out.add(k)
    }
    return
  }
  const before = lo === undefined ? 0 : biggest.rangeSummary(undefined, lo).bytes
  const s = biggest.rangeSummary(lo, hi)
  const mid = biggest.keyAtByteOffset(before + Math.max(1, Math.floor(s.bytes / 2)))
  if (mid === undefined || mid === lo || (hi !== undefined && mid >= hi)) {
    narrow(trees, lo, hi, NARROW_DEPTH_MAX, out, stats)
    return
  }
  narrow(trees, lo, mid, depth + 1, out, stats)
  narrow(trees, mid, hi, depth + 1, out, stats)
}

/** Runs the experiment. Deterministic for a seed. */
export function runBTreeDurability(cfg: BTreeDurabilityConfig, seed: number): BTreeDurabilityResult {
  const rng = new Prng(seed)
  const int = (n: number) => Math.floor(rng.next() * n)
  const parts = Array.from({ length: cfg.partitions }, () =>
    Array.from({ length: REPLICAS }, () => new BTree<string>()),
  )
  for (const trees of parts)
    for (let k = 0; k < cfg.coldKeys; k++) {
      const v = `cold-${k}-${int(1e9)}`
      for (const t of trees) t.set(cold(k), v)
    }
  const span = cfg.injectUntilMs - cfg.injectFromMs
  const schedule = Array.from({ length: cfg.faults }, (_, i) => ({
    atMs: Math.round(cfg.injectFromMs + ((i + rng.next()) / cfg.faults) * span),
    kind: BTREE_FAULTS[i % BTREE_FAULTS.length]!,
  }))
  const used = new Set<string>()
  const faults: BTreeFault[] = []
  const cycleEndsMs: number[] = []
  const stats = { rangeChecksums: 0 }
  let falseAlarms = 0
  let si = 0
  let cursor = 0
  let credit = 0
  let writeCredit = 0
  let writes = 0
  const visit = (p: number, now: number): void => {
    const trees = parts[p]!
    const diff = new Set<EncodedKey>()
    narrow(trees, undefined, undefined, 0, diff, stats)
    for (const k of diff) {
      const vs = trees.map((t) => t.get(k))
      const good = vs.find((v, i) => vs.filter((w, j) => j !== i && w === v).length >= 1)
      trees.forEach((t, r) => {
        if (vs[r] === good) return
        const f = faults.find(
          (x) => x.partition === p && x.replica === r && x.key === k && x.detectedAtMs === undefined,
        )
        if (f) {
          f.detectedAtMs = now
          f.repairedAtMs = now
        } else falseAlarms++
        if (good === undefined) t.delete(k)
        else t.set(k, good)
      })
    }
  }
  for (let now = 0; now <= cfg.durationMs; now += cfg.stepMs) {
    while (si < schedule.length && schedule[si]!.atMs <= now) {
      const { kind } = schedule[si++]!
      const p = int(parts.length)
      const r = int(REPLICAS)
      let key: EncodedKey
      do key = cold(int(cfg.coldKeys))
      while (used.has(`${p}/${key}`))
      used.add(`${p}/${key}`)
      const trees = parts[p]!
      if (kind === "value-bit-flip") trees[r]!.set(key, flip(trees[r]!.get(key)!, int(64)))
      else {
        // The write reaches two replicas; the third acknowledges and loses it.
        const v = `rewritten-${now}`
        trees.forEach((t, i) => {
          if (i !== r) t.set(key, v)
        })
      }
      faults.push({ kind, partition: p, replica: r, key, atMs: now })
    }
    writeCredit += (cfg.writesPerSec * cfg.stepMs) / 1000
    for (; writeCredit >= 1; writeCredit--) {
      writes++
      const trees = parts[int(parts.length)]!
      const k = hot(int(cfg.hotKeys))
      for (const t of trees) t.set(k, `v${writes}`)
    }
    // The scrubber visits partitions in rotation; a visit reads every replica's payload.
    credit += (cfg.scrubBytesPerSec * cfg.stepMs) / 1000
    for (let guard = 0; guard < parts.length; guard++) {
      const cost = parts[cursor]!.reduce((s, t) => s + t.bytes, 0)
      if (credit < cost) break
      credit -= cost
      visit(cursor, now)
      cursor = (cursor + 1) % parts.length
      if (cursor === 0) cycleEndsMs.push(now)
    }
  }
  const replicasIdentical = parts.every((trees) => new Set(trees.map((t) => t.checksum())).size === 1)
  return { faults, cycleEndsMs, replicasIdentical, falseAlarms, rangeChecksums: stats.rangeChecksums }
}

/** Quick (CI) and full sizes. */
export function btreeDurabilityConfig(quick: boolean): BTreeDurabilityConfig {
  return quick
    ? {
        partitions: 6,
        coldKeys: 2000,
        hotKeys: 200,
        writesPerSec: 300,
        durationMs: 60_000,
        stepMs: 50,
        faults: 24,
        scrubBytesPerSec: 64 * 1024,
        injectFromMs: 5000,
        injectUntilMs: 35_000,
      }
    : {
        partitions: 16,
        coldKeys: 8000,
        hotKeys: 1000,
        writesPerSec: 1000,
        durationMs: 300_000,
        stepMs: 50,
        faults: 96,
        scrubBytesPerSec: 256 * 1024,
        injectFromMs: 20_000,
        injectUntilMs: 200_000,
      }
}

/** Tables, charts and checks. */
export function buildBTreeDurabilityReport(
  cfg: BTreeDurabilityConfig,
  r: BTreeDurabilityResult,
): SuiteOutput {
  const cycles = r.cycleEndsMs.map((t, i) => t - (i === 0 ? 0 : r.cycleEndsMs[i - 1]!))
  const cycleMaxMs = Math.max(0, ...cycles)
  const detected = r.faults.filter((f) => f.detectedAtMs !== undefined)
  const lat = detected.map((f) => f.detectedAtMs! - f.atMs).sort((a, b) => a - b)
  const med = lat[Math.floor(lat.length / 2)] ?? 0
  const tables: Table[] = [
    table(
      "Faults injected, detected and repaired (B-tree checksum scrubbing)",
      ["fault", "injected", "detected", "median detection (s)", "max detection (s)", "repaired"],
      BTREE_FAULTS.map((kind) => {
        const fs = r.faults.filter((f) => f.kind === kind)
        const d = fs.filter((f) => f.detectedAtMs !== undefined)
        const l = d.map((f) => f.detectedAtMs! - f.atMs).sort((a, b) => a - b)
        return [
          kind,
          fs.length,
          d.length,
          sig((l[Math.floor(l.length / 2)] ?? 0) / 1000, 3),
          sig((l.at(-1) ?? 0) / 1000, 3),
          fs.filter((f) => f.repairedAtMs !== undefined).length,
        ]
      }),
      `${cfg.partitions} partitions × ${REPLICAS} B-tree replicas, ${cfg.writesPerSec} writes/s; the scrubber reads ${Math.round(cfg.scrubBytesPerSec / 1024)} KiB/s, so a cycle takes up to ${sig(cycleMaxMs / 1000, 3)} s; ${r.rangeChecksums.toLocaleString("en-US")} range checksums compared in all.`,
    ),
  ]
  const charts: Chart[] = [
    lineChart(
      "Detection latency of each fault (s after injection) vs scrub cycle length",
      "fault injected at (s)",
      "seconds",
      [
        ...BTREE_FAULTS.map(
          (kind) =>
            [
              kind,
              r.faults
                .filter((f) => f.kind === kind && f.detectedAtMs !== undefined)
                .map((f) => [f.atMs / 1000, (f.detectedAtMs! - f.atMs) / 1000] as const),
            ] as const,
        ),
        [
          "longest scrub cycle",
          [
            [cfg.injectFromMs / 1000, cycleMaxMs / 1000],
            [cfg.injectUntilMs / 1000, cycleMaxMs / 1000],
          ],
        ],
      ],
    ),
  ]
  const checks: Check[] = [
    check(
      "100 % of injected faults detected",
      detected.length === r.faults.length && r.faults.length > 0,
      `${detected.length} of ${r.faults.length}`,
    ),
    check(
      "every detection within one scrub cycle of the injection",
      lat.every((l) => l <= cycleMaxMs * 1.1) && lat.length > 0,
      `max detection ${sig((lat.at(-1) ?? 0) / 1000, 3)} s, longest cycle ${sig(cycleMaxMs / 1000, 3)} s`,
    ),
    check(
      "every detected fault repaired from a healthy copy (2 of 3 agree)",
      r.faults.every((f) => f.repairedAtMs !== undefined),
      `${r.faults.filter((f) => f.repairedAtMs !== undefined).length} repaired`,
    ),
    check(
      "replicas identical at the end",
      r.replicasIdentical,
      r.replicasIdentical ? "all partitions agree" : "some partition differs",
    ),
    check("no false alarms", r.falseAlarms === 0, `${r.falseAlarms}`),
  ]
  return {
    title: "Durability: bit rot and lost writes found and repaired by checksum scrubbing (B-tree fallback)",
    summary: `@partita/scrubber was not available, so this run scrubs with @partita/btree range checksums directly (replica comparison and majority repair; no archive or reference replica). ${r.faults.length} faults injected into ${cfg.partitions} three-replica partitions under ${cfg.writesPerSec} writes/s: ${pct(detected.length / Math.max(1, r.faults.length))} % detected, median ${sig(med / 1000, 3)} s after injection, all within one scrub cycle (≤ ${sig(cycleMaxMs / 1000, 3)} s), repaired from the majority.`,
    config: { ...cfg, scrubber: "btree range checksums (fallback)" },
    figures: {
      injected: r.faults.length,
      detected: detected.length,
      cycleMaxMs,
      medianDetectionMs: med,
      rangeChecksums: r.rangeChecksums,
    },
    checks,
    tables,
    charts,
  }
}

/** The fallback suite (registered as `durability` when @partita/scrubber is absent). */
export const btreeDurabilitySuite: Suite = {
  name: "durability",
  description:
    "bit rot and lost writes injected while a B-tree checksum scrubber runs: detection and repair times",
  run: async (ctx: SuiteContext) => {
    const cfg = btreeDurabilityConfig(ctx.quick)
    return buildBTreeDurabilityReport(cfg, runBTreeDurability(cfg, ctx.seed))
  },
}
