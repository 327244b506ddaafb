/**
 * `durability` — "continuous verification" (paper §5.2–5.3): bit rot and lost writes injected into
 * replicas, their local WAL and the archive while writes continue and the @partita/scrubber runs
 * at its rate limit, all in virtual time. Measured: how many faults are detected, how long after
 * injection (against the length of a scrub cycle), and whether they are repaired from healthy
 * copies. The expected shape: 100 % detected within one scrub cycle, repaired, replicas identical.
 */
import type { EncodedKey } from "@partita/core"
import { listSegments, MemoryObjectStore, MemoryObjectStoreLayer, type ObjectStore } from "@partita/paxos"
import {
  flipArchivedSegmentBit,
  flipValueBit,
  flipWalRecordBit,
  type InjectedFault,
  loseNextWrite,
  type ScrubEvent,
  ScrubberCore,
  SimPartition,
} from "@partita/scrubber"
import { Effect } from "effect"
import type { Chart, Table } from "../report.ts"
import type { Suite, SuiteContext, SuiteOutput } from "../suite.ts"
import { type Check, check, lineChart, pct, Prng, sig, table } from "./common.ts"

/** Fault kinds injected, in rotation. */
export const DURABILITY_FAULTS = [
  "value-bit-flip",
  "lost-write",
  "wal-record-bit-flip",
  "archive-segment-bit-flip",
] as const

/**
 * Sealed WAL segments each replica keeps after archiving: DynamoDB keeps the unarchived tail and
 * more ("a few hundred megabytes"); enough here that a damaged archive segment still has healthy
 * copies on the replicas when the scrubber reaches it.
 */
export const WAL_RETAIN_SEGMENTS = 64

/** Most scrubber slices per simulation step (bounds the work of one step). */
const SCRUB_TICKS_PER_STEP_MAX = 256

/** Sizes of a durability run. */
export interface DurabilityConfig {
  readonly partitions: number
  /** Keys written once at the start and never again (fault targets: rot there cannot be overwritten). */
  readonly coldKeys: number
  /** Keys the steady write load goes to. */
  readonly hotKeys: number
  readonly writesPerSec: number
  readonly durationMs: number
  readonly stepMs: number
  readonly archiveEveryMs: number
  readonly faults: number
  /** Scrubber rate limit (bytes verified per second) — sets the cycle length. */
  readonly scrubBytesPerSec: number
  /** Faults are injected between these times (ms); the run continues after for detection. */
  readonly injectFromMs: number
  readonly injectUntilMs: number
}

/** One injected fault and what became of it. */
export interface FaultOutcome {
  readonly fault: InjectedFault
  readonly detectedAtMs: number | undefined
  readonly repairedAtMs: number | undefined
  readonly unrecoverable: boolean
  readonly cause: string | undefined
}

/** What a run measured. */
export interface DurabilityResult {
  readonly outcomes: FaultOutcome[]
  /** Times (ms) at which the scrubber finished a full pass over every partition. */
  readonly cycleEndsMs: number[]
  readonly events: ReadonlyArray<ScrubEvent>
  readonly replicasIdentical: boolean
  readonly bytesVerified: number
  readonly writes: number
  readonly falseAlarms: number
}

const run = <A, E>(store: MemoryObjectStore, e: Effect.Effect<A, E, ObjectStore>): A =>
  Effect.runSync(Effect.provide(e, MemoryObjectStoreLayer(store)))

const cold = (k: number): EncodedKey => `c${String(k).padStart(6, "0")}` as EncodedKey
const hot = (k: number): EncodedKey => `h${String(k).padStart(6, "0")}` as EncodedKey

function matches(f: InjectedFault, e: ScrubEvent): boolean {
  if (e.partition !== f.partition || e.replica !== f.replica || e.atMs < f.atMs) return false
  switch (f.kind) {
    case "value-bit-flip":
    case "lost-write":
      return (
        (e.cause === "replica-divergence" || e.cause === "reference-divergence") &&
        (f.key === undefined || e.keys === undefined || e.keys.includes(f.key))
      )
    case "wal-record-bit-flip":
      return e.cause === "wal-record-corrupt"
    case "archive-segment-bit-flip":
      return e.cause === "archive-segment-corrupt"
    default:
      return true
  }
}

/** Runs the experiment. Deterministic for a seed. */
export function runDurability(cfg: DurabilityConfig, seed: number): DurabilityResult {
  const rng = new Prng(seed)
  const int = (n: number) => Math.floor(rng.next() * n)
  const store = new MemoryObjectStore()
  const parts = Array.from(
    { length: cfg.partitions },
    (_, i) =>
      new SimPartition({
        table: "orders",
        partition: `p${i}`,
        entriesPerSegment: 64,
        walRetainSegments: WAL_RETAIN_SEGMENTS,
      }),
  )
  for (const p of parts) {
    for (let k = 0; k < cfg.coldKeys; k++)
      p.commit({ op: "put", key: cold(k), value: `cold-${k}-${int(1e9)}` })
    p.deliverAll()
    run(store, p.archivePending())
  }
  const scrubber = new ScrubberCore(parts, {
    rateLimit: { bytesPerSec: cfg.scrubBytesPerSec, burstBytes: Math.max(4096, cfg.scrubBytesPerSec / 10) },
  })
  // Fault schedule: evenly spread with jitter, kinds in rotation, targets drawn from the seed.
  const span = cfg.injectUntilMs - cfg.injectFromMs
  const schedule = Array.from({ length: cfg.faults }, (_, i) => ({
    atMs: Math.round(cfg.injectFromMs + ((i + rng.next()) / cfg.faults) * span),
    kind: DURABILITY_FAULTS[i % DURABILITY_FAULTS.length]!,
  }))
  const usedCold = new Set<string>()
  const freshCold = (p: number): EncodedKey => {
    for (;;) {
      const k = cold(int(cfg.coldKeys))
      if (!usedCold.has(`${p}/${k}`)) {
        usedCold.add(`${p}/${k}`)
        return k
      }
    }
  }
  const injected: InjectedFault[] = []
  const cycleEndsMs: number[] = []
  let lastCursor = scrubber.position.partition
  let writes = 0
  let nextArchive = cfg.archiveEveryMs
  let si = 0
  const writesPerStep = (cfg.writesPerSec * cfg.stepMs) / 1000
  let writeCredit = 0
  for (let now = 0; now <= cfg.durationMs; now += cfg.stepMs) {
    while (si < schedule.length && schedule[si]!.atMs <= now) {
      const { kind } = schedule[si++]!
      const pi = int(parts.length)
      const p = parts[pi]!
      const r = int(3)
      switch (kind) {
        case "value-bit-flip":
          injected.push(flipValueBit(p, r, freshCold(pi), int(64), now))
          break
        case "lost-write": {
          const key = freshCold(pi)
          const f = loseNextWrite(p, r, now)
          p.commit({ op: "put", key, value: `rewritten-${now}` })
          injected.push({ ...f, key })
          break
        }
        case "wal-record-bit-flip": {
          const segs = p.replicas[r]!.localSegments()
          const m = segs[segs.length - 1]
          if (m) injected.push(flipWalRecordBit(p, r, m.firstPosition, int(m.bytes), int(8), now))
          break
        }
        case "archive-segment-bit-flip": {
          const segs = run(store, listSegments(p.identity))
          const m = segs[segs.length - 1]
          if (m)
            injected.push(
              flipArchivedSegmentBit(store, p.identity, m.firstPosition, int(m.bytes), int(8), now),
            )
          break
        }
      }
    }
    writeCredit += writesPerStep
    for (; writeCredit >= 1; writeCredit--) {
      writes++
      parts[int(parts.length)]!.commit({ op: "put", key: hot(int(cfg.hotKeys)), value: `v${writes}` })
    }
    for (const p of parts) p.deliverAll()
    if (now >= nextArchive) {
      nextArchive += cfg.archiveEveryMs
      for (const p of parts) run(store, p.archivePending())
    }
    // The scrubber does a slice of work per tick; it runs until its rate limit (or lack of work)
    // stops it, so the byte rate, not the step length, sets the cycle.
    for (let i = 0; i < SCRUB_TICKS_PER_STEP_MAX; i++) {
      const outcome = run(store, scrubber.tick(now))
      const cursor = scrubber.position.partition
      if (cursor < lastCursor) cycleEndsMs.push(now)
      lastCursor = cursor
      if (outcome !== "ran") break
    }
  }
  const events = scrubber.events()
  const outcomes: FaultOutcome[] = injected.map((f) => {
    const d = events.find((e) => e.type === "detected" && matches(f, e))
    const rep = events.find((e) => e.type === "repaired" && matches(f, e))
    const lost = events.some((e) => e.type === "unrecoverable" && matches(f, e))
    return { fault: f, detectedAtMs: d?.atMs, repairedAtMs: rep?.atMs, unrecoverable: lost, cause: d?.cause }
  })
  const detections = events.filter((e) => e.type === "detected")
  const falseAlarms = detections.filter((e) => !injected.some((f) => matches(f, e))).length
  const replicasIdentical = parts.every((p) => new Set(p.replicas.map((r) => r.tree.checksum())).size === 1)
  return {
    outcomes,
    cycleEndsMs,
    events,
    replicasIdentical,
    bytesVerified: scrubber.metrics().bytesVerified,
    writes,
    falseAlarms,
  }
}

/** Quick (CI) and full sizes. */
export function durabilityConfig(quick: boolean): DurabilityConfig {
  return quick
    ? {
        partitions: 6,
        coldKeys: 1000,
        hotKeys: 200,
        writesPerSec: 300,
        durationMs: 60_000,
        stepMs: 50,
        archiveEveryMs: 1000,
        faults: 24,
        scrubBytesPerSec: 512 * 1024,
        injectFromMs: 5000,
        injectUntilMs: 30_000,
      }
    : {
        partitions: 12,
        coldKeys: 2000,
        hotKeys: 500,
        writesPerSec: 500,
        durationMs: 240_000,
        stepMs: 50,
        archiveEveryMs: 2000,
        faults: 96,
        scrubBytesPerSec: 2 * 1024 * 1024,
        injectFromMs: 20_000,
        injectUntilMs: 150_000,
      }
}

/** Runs the suite. */
export async function durabilitySuiteRun(
  ctx: SuiteContext,
  cfg = durabilityConfig(ctx.quick),
): Promise<SuiteOutput> {
  ctx.log(
    `${cfg.partitions} partitions × 3 replicas, ${cfg.faults} faults, ${cfg.durationMs / 1000} s virtual`,
  )
  const r = runDurability(cfg, ctx.seed)
  return buildDurabilityReport(cfg, r)
}

/** Tables, charts and checks. */
export function buildDurabilityReport(cfg: DurabilityConfig, r: DurabilityResult): SuiteOutput {
  const tables: Table[] = []
  const charts: Chart[] = []
  const checks: Check[] = []
  const cycles = r.cycleEndsMs.map((t, i) => t - (i === 0 ? 0 : r.cycleEndsMs[i - 1]!))
  // The first cycle starts at 0 with every partition unvisited: a full cycle like the others.
  const cycleMaxMs = Math.max(0, ...cycles)
  const cycleMedMs = [...cycles].sort((a, b) => a - b)[Math.floor(cycles.length / 2)] ?? 0
  const rows = DURABILITY_FAULTS.map((kind) => {
    const os = r.outcomes.filter((o) => o.fault.kind === kind)
    const det = os.filter((o) => o.detectedAtMs !== undefined)
    const rep = os.filter((o) => o.repairedAtMs !== undefined)
    const lat = det.map((o) => o.detectedAtMs! - o.fault.atMs).sort((a, b) => a - b)
    const rlat = rep.map((o) => o.repairedAtMs! - o.fault.atMs).sort((a, b) => a - b)
    const med = (a: number[]) => (a.length ? a[Math.floor(a.length / 2)]! : 0)
    return [
      kind,
      os.length,
      det.length,
      pct(det.length / Math.max(1, os.length)),
      sig(med(lat) / 1000, 3),
      sig((lat.at(-1) ?? 0) / 1000, 3),
      rep.length,
      sig(med(rlat) / 1000, 3),
      [...new Set(det.map((o) => o.cause))].join(", "),
    ]
  })
  const all = r.outcomes
  const detected = all.filter((o) => o.detectedAtMs !== undefined)
  const repaired = all.filter((o) => o.repairedAtMs !== undefined)
  const lat = detected.map((o) => o.detectedAtMs! - o.fault.atMs)
  tables.push(
    table(
      "Faults injected, detected and repaired",
      [
        "fault",
        "injected",
        "detected",
        "detected %",
        "median detection (s)",
        "max detection (s)",
        "repaired",
        "median time to repair (s)",
        "cause reported",
      ],
      rows,
      `${cfg.partitions} partitions × 3 replicas (@partita/scrubber SimPartition: B-tree stores, local WAL, archive in a memory object store), ${cfg.writesPerSec} writes/s while faults are injected between ${cfg.injectFromMs / 1000} s and ${cfg.injectUntilMs / 1000} s; the scrubber is limited to ${Math.round(cfg.scrubBytesPerSec / 1024)} KiB/s, so a full cycle over all partitions takes ${sig(cycleMedMs / 1000, 3)} s (median; max ${sig(cycleMaxMs / 1000, 3)} s). Value flips and lost writes target keys not written again.`,
    ),
  )
  tables.push(
    table(
      "Every fault",
      [
        "kind",
        "partition",
        "replica",
        "key / position",
        "injected (s)",
        "detected (s)",
        "repaired (s)",
        "cause",
      ],
      all.map((o) => [
        o.fault.kind,
        o.fault.partition,
        String(o.fault.replica),
        o.fault.key ?? String(o.fault.position ?? ""),
        sig(o.fault.atMs / 1000, 4),
        o.detectedAtMs !== undefined ? sig(o.detectedAtMs / 1000, 4) : "-",
        o.repairedAtMs !== undefined ? sig(o.repairedAtMs / 1000, 4) : "-",
        o.cause ?? "-",
      ]),
    ),
  )
  charts.push(
    lineChart(
      "Detection latency of each fault (s after injection) vs scrub cycle length",
      "fault injected at (s)",
      "seconds",
      [
        ...DURABILITY_FAULTS.map(
          (kind) =>
            [
              kind,
              all
                .filter((o) => o.fault.kind === kind && o.detectedAtMs !== undefined)
                .map((o) => [o.fault.atMs / 1000, (o.detectedAtMs! - o.fault.atMs) / 1000] as const),
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
  )
  const rate = detected.length / Math.max(1, all.length)
  checks.push(
    check(
      "100 % of injected faults detected",
      rate === 1 && all.length > 0,
      `${detected.length} of ${all.length}`,
    ),
  )
  const within = lat.filter((l) => l <= cycleMaxMs * 1.1).length
  checks.push(
    check(
      "every detection within one scrub cycle of the injection",
      within === lat.length && lat.length > 0,
      `${within} of ${lat.length} within ${sig(cycleMaxMs / 1000, 3)} s (max detection ${sig(Math.max(0, ...lat) / 1000, 3)} s)`,
    ),
  )
  checks.push(
    check(
      "every detected fault repaired from healthy copies",
      repaired.length === detected.length,
      `${repaired.length} of ${detected.length} repaired`,
    ),
  )
  checks.push(
    check(
      "replicas identical at the end",
      r.replicasIdentical,
      r.replicasIdentical ? "all partitions agree" : "some partition differs",
    ),
  )
  checks.push(
    check("no false alarms", r.falseAlarms === 0, `${r.falseAlarms} detections without an injected fault`),
  )
  const summary =
    `${all.length} faults (value bit flips, lost writes, WAL record and archived segment bit flips) injected into ${cfg.partitions} three-replica partitions under ${cfg.writesPerSec} writes/s while @partita/scrubber ran at ${Math.round(cfg.scrubBytesPerSec / 1024)} KiB/s (virtual time). ` +
    `Detected ${pct(rate)} %, median ${sig((lat.sort((a, b) => a - b)[Math.floor(lat.length / 2)] ?? 0) / 1000, 3)} s after injection, all within one scrub cycle (≤ ${sig(cycleMaxMs / 1000, 3)} s); ${repaired.length} repaired; replicas ${r.replicasIdentical ? "identical" : "NOT identical"} at the end.`
  return {
    title: "Durability: bit rot and lost writes found and repaired by the scrubber",
    summary,
    config: { ...cfg },
    figures: {
      injected: all.length,
      detectedPct: pct(rate),
      repaired: repaired.length,
      cycleMedianMs: cycleMedMs,
      cycleMaxMs,
      bytesVerified: r.bytesVerified,
      writes: r.writes,
    },
    checks,
    tables,
    charts,
  }
}

/** The suite. */
export const durabilitySuite: Suite = {
  name: "durability",
  description: "bit rot and lost writes injected while the scrubber runs: detection and repair times",
  run: (ctx) => durabilitySuiteRun(ctx),
}
