/**
 * MemDS benchmarks: floor lookups at 1,000,000 entries (vs a sorted-btree of hex keys measured
 * in the same run, interleaved), memory per entry (vs a plain Map of JSON-like objects),
 * snapshot size and (de)compression time (vs JSON), and the constant-work vs conventional
 * MemDS lookup rate across a hit-rate sweep and through a full cache flush.
 *
 *   bun modules/memds/bench/index.ts            # 1,000,000 entries
 *   bun modules/memds/bench/index.ts --quick    # 100,000 entries
 *
 * Writes results/memds/bench[-quick].json and .md.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Either } from "effect"
import BTree from "sorted-btree"
import {
  encodeUpdates,
  PerkleStore,
  type Region,
  type RoutingEntry,
  routingKeyFromPrefix,
  runCacheExperiment,
  SYNC_ENTRIES_MAX_DEFAULT,
  SYNC_REGIONS_MAX_DEFAULT,
  tablePrefix,
  toHex,
} from "../src/index.ts"

/** Structurally a harness SuiteOutput (title, summary, config, figures, checks, tables, charts). */
export interface MemDSBenchReport {
  readonly title: string
  readonly summary: string
  readonly config: Record<string, unknown>
  readonly figures: Record<string, number>
  readonly checks: ReadonlyArray<{ name: string; pass: boolean; detail: string }>
  readonly tables: ReadonlyArray<{
    title: string
    columns: string[]
    rows: (string | number)[][]
    note?: string
  }>
  readonly charts: ReadonlyArray<{
    kind: "line"
    title: string
    xLabel: string
    yLabel: string
    logY?: boolean
    series: { name: string; points: [number, number][] }[]
  }>
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]!
}

const gc = (): void => {
  const g = globalThis as { Bun?: { gc(sync: boolean): void }; gc?: () => void }
  for (let i = 0; i < 3; i++) {
    if (g.Bun) g.Bun.gc(true)
    else g.gc?.()
  }
}
// RSS is not used: it keeps the high-water mark of garbage made while building
const heap = (): { heap: number } => {
  gc()
  const m = process.memoryUsage()
  return { heap: m.heapUsed + (m.arrayBuffers ?? 0) }
}

/** Seeded PRNG (mulberry32). */
const prng = (seed: number) => {
  let s = seed >>> 0
  return (): number => {
    s = (s + 0x6d2b79f5) | 0
    let t = Math.imul(s ^ (s >>> 15), s | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Row {
  table: string
  hash: Uint8Array
  entry: RoutingEntry
}

/**
 * A realistic routing map: `tables` tables; each created with evenly spaced partitions (as a
 * table with provisioned capacity is pre-split), then 10 % more boundaries from splits at
 * arbitrary key hashes. 3 replicas, one per AZ, from a fleet of 3,000 storage nodes.
 */
const makeMap = (entries: number, tables: number, seed: number): Row[] => {
  const rand = prng(seed)
  const rows: Row[] = []
  const per = Math.floor(entries / tables)
  const even = Math.round(per * 0.9)
  let pid = 0
  for (let t = 0; t < tables; t++) {
    const table = `table-${t.toString().padStart(4, "0")}`
    const stride = (1n << 128n) / BigInt(even)
    const hashes: Uint8Array[] = []
    for (let i = 0; i < even; i++) {
      const h = new Uint8Array(16)
      let n = BigInt(i) * stride
      for (let b = 15; b >= 0; b--) {
        h[b] = Number(n & 0xffn)
        n >>= 8n
      }
      hashes.push(h)
    }
    for (let i = even; i < per; i++) {
      const h = new Uint8Array(16)
      for (let b = 0; b < 16; b++) h[b] = Math.floor(rand() * 256)
      hashes.push(h)
    }
    for (const hash of hashes) {
      const az = Math.floor(rand() * 3)
      const replicas = [0, 1, 2].map((k) => {
        const a = (az + k) % 3
        return { nodeId: `sn-${a}-${Math.floor(rand() * 1000)}`, az: `us-east-1-az${a + 1}` }
      })
      rows.push({
        table,
        hash,
        entry: {
          partitionId: `p-${(pid++).toString(36)}`,
          epoch: 1 + Math.floor(rand() * 20),
          replicas,
          leaderHint: replicas[Math.floor(rand() * 3)]!.nodeId,
        },
      })
    }
  }
  return rows
}

const time = (fn: () => void): number => {
  const t0 = performance.now()
  fn()
  return performance.now() - t0
}

/** Runs the MemDS benchmark suite. */
export const runMemDSBench = async (opts: { quick: boolean }): Promise<MemDSBenchReport> => {
  const entries = opts.quick ? 100_000 : 1_000_000
  const tables = opts.quick ? 100 : 1000
  const rounds = opts.quick ? 3 : 5
  const log = (s: string) => process.stderr.write(`memds bench: ${s}\n`)
  const checks: { name: string; pass: boolean; detail: string }[] = []
  const MAP_SEED = 42
  const prefixes = new Map<string, Uint8Array>()
  const prefixOf = (t: string): Uint8Array => {
    let p = prefixes.get(t)
    if (p === undefined) prefixes.set(t, (p = tablePrefix(t)))
    return p
  }

  // ---- memory: Perkle store (the generated rows are dropped before measuring lookups, and
  // regenerated from the same seed for the baselines, so no big JS heap skews the timings) ----
  log(`building Perkle store with ${entries} entries`)
  const m0 = heap()
  const store = new PerkleStore()
  // a separate function, so no stack slot keeps the generated rows alive afterwards
  const load = (): number => {
    const rows = makeMap(entries, tables, MAP_SEED)
    const keys = rows.map((r) => routingKeyFromPrefix(prefixOf(r.table), r.hash))
    return time(() => {
      for (let i = 0; i < rows.length; i++) store.put(keys[i]!, rows[i]!.entry)
    })
  }
  const buildMs = load()
  const m1 = heap()
  const perkleAllocated = store.allocatedBytes() / entries
  const perkleHeapDelta = (m1.heap - m0.heap) / entries
  // what a replica restored from a snapshot holds: the same contents with no growth slack
  const perkleTrimmed = ((): number => {
    const t = PerkleStore.fromSnapshot(store.snapshot(0, 1))
    return Either.isRight(t) ? t.right.store.allocatedBytes() / entries : Number.NaN
  })()
  gc()

  // ---- floor lookups, Perkle alone (the MemDS node's situation: nothing else on the heap) ----
  log("floor lookups")
  const rand = prng(7)
  const Q = 1 << 16
  const tableNames = [...prefixes.keys()]
  const handles = tableNames.map((t) => store.tableHandle(t))
  const qKeys: Uint8Array[] = []
  const qStrs: string[] = []
  const qTables: number[] = []
  for (let i = 0; i < Q; i++) {
    const t = Math.floor(rand() * tables)
    const h = new Uint8Array(16)
    for (let b = 0; b < 16; b++) h[b] = Math.floor(rand() * 256)
    qKeys.push(routingKeyFromPrefix(prefixOf(tableNames[t]!), h))
    qStrs.push(`${tableNames[t]}/${toHex(h)}`)
    qTables.push(t)
  }
  const reps = opts.quick ? 4 : 8
  let sink = 0
  const s = store
  const perkleTasks: Record<string, () => void> = {
    "perkle floor (index, slot)": () => {
      for (let k = 0; k < reps; k++)
        for (let i = 0; i < Q; i++) sink += s.floorInTable(handles[qTables[i]!]!, qKeys[i]!)
    },
    "perkle floor + entry": () => {
      for (let k = 0; k < reps; k++)
        for (let i = 0; i < Q; i++) sink += s.entryAt(s.floorInTable(handles[qTables[i]!]!, qKeys[i]!)).epoch
    },
    "perkle route (range + entry)": () => {
      for (let k = 0; k < reps; k++)
        for (let i = 0; i < Q; i++) sink += s.route(qKeys[i]!, handles[qTables[i]!]!)!.entry.epoch
    },
    "perkle trie floor (slot)": () => {
      for (let k = 0; k < reps; k++) for (let i = 0; i < Q; i++) sink += s.floorSlot(qKeys[i]!)
    },
  }
  const rates: Record<string, number[]> = {}
  for (let r = 0; r < rounds; r++)
    for (const [name, fn] of Object.entries(perkleTasks))
      (rates[name] ??= []).push((reps * Q) / (time(fn) / 1000))
  const med: Record<string, number> = Object.fromEntries(
    Object.entries(rates).map(([k, v]) => [k, median(v)]),
  )
  checks.push({
    name: "floor lookups >= 2M/s per core at the bench size",
    pass: med["perkle floor (index, slot)"]! >= 2_000_000,
    detail: `${Math.round(med["perkle floor (index, slot)"]!)} /s`,
  })

  // ---- snapshots ----
  log("snapshot")
  const snapMs: number[] = []
  let snap: Uint8Array = new Uint8Array(0)
  for (let r = 0; r < Math.min(rounds, 3); r++) snapMs.push(time(() => (snap = store.snapshot(1))))
  // the same at deflate level 1: the speed/size trade-off for catch-up traffic
  let snapFast: Uint8Array = new Uint8Array(0)
  const snapFastMs = median(
    [0, 1, 2].slice(0, Math.min(rounds, 3)).map(() => time(() => (snapFast = store.snapshot(1, 1)))),
  )
  const restoreMs: number[] = []
  let restoredRoot = ""
  for (let r = 0; r < Math.min(rounds, 3); r++)
    restoreMs.push(
      time(() => {
        const back = PerkleStore.fromSnapshot(snap)
        if (Either.isRight(back)) restoredRoot = back.right.store.root
      }),
    )
  const rootAtSnapshot = store.root
  checks.push({
    name: "snapshot restores to the same Merkle root",
    pass: restoredRoot === rootAtSnapshot,
    detail: rootAtSnapshot,
  })

  // ---- Merkle repair of a lagging replica vs shipping a snapshot ----
  log("Merkle repair")
  const lagging = PerkleStore.fromSnapshot(snap)
  const repair = { changedUpdates: 0, rounds: 0, regions: 0, entries: 0, bytes: 0, ms: 0, rootsMatch: false }
  if (Either.isRight(lagging)) {
    const replica = lagging.right.store
    const lr = prng(99)
    const changes = Math.max(10, Math.round(entries / 1000))
    for (let i = 0; i < changes; i++) {
      // no deletes happened, so slots 0..entries-1 are all live
      const j = Math.floor(lr() * entries)
      const e = store.entryAt(j)
      store.put(store.keyAt(j), { ...e, epoch: e.epoch + 1, leaderHint: e.replicas[i % 3]?.nodeId ?? null })
    }
    repair.changedUpdates = changes
    const regionsPerRound = SYNC_REGIONS_MAX_DEFAULT
    const entriesMax = SYNC_ENTRIES_MAX_DEFAULT
    repair.ms = time(() => {
      let queue: Region[] = [{ rep: new Uint8Array(0), pos: 0 }]
      while (queue.length > 0) {
        repair.rounds++
        const batch = queue.slice(0, regionsPerRound)
        queue = queue.slice(regionsPerRound)
        for (const r of batch) {
          const item = store.regionSummary(r.rep, r.pos, entriesMax)
          repair.regions++
          // request (rep + bit length) and reply header (rep + bit length + 8-byte hash)
          repair.bytes += 2 * (r.rep.length + 4) + 8
          const [a, b] = replica.regionHash(r.rep, r.pos)
          if (a === item.hashA && b === item.hashB) continue
          if (item.entries) {
            repair.entries += replica.replaceRegion(r.rep, r.pos, item.entries)
            repair.bytes += encodeUpdates([
              {
                version: 0,
                root: "",
                ops: item.entries.map((x) => ({ kind: "put" as const, key: x.key, entry: x.entry })),
              },
            ]).length
          } else queue.push(...item.children!)
        }
      }
    })
    repair.rootsMatch = replica.root === store.root
  }
  checks.push({
    name: "Merkle repair reaches the same root",
    pass: repair.rootsMatch,
    detail: `${repair.entries} entries rewritten in ${repair.rounds} round trips`,
  })

  // ---- memory and size baselines: JSON, and a plain Map of JSON-like objects ----
  log("naive Map and JSON baselines")
  const makeJson = (): string =>
    JSON.stringify(
      makeMap(entries, tables, MAP_SEED).map((r) => ({ table: r.table, start: toHex(r.hash), ...r.entry })),
    )
  const jsonBytes = new TextEncoder().encode(makeJson()).length
  // the Map is built from the JSON text by a separate function (parse garbage dies with its frame)
  const naiveFrom = (json: string): Map<string, unknown> => {
    const m = new Map<string, unknown>()
    for (const o of JSON.parse(json) as ({ table: string; start: string } & RoutingEntry)[]) {
      const { table, start, ...entry } = o
      m.set(`${table}/${start}`, entry)
    }
    return m
  }
  const measureNaive = (): number => {
    const json = makeJson()
    const n0 = heap()
    const naive = naiveFrom(json)
    const n1 = heap()
    if (naive.size !== entries || json.length === 0) log("unexpected naive size")
    return (n1.heap - n0.heap) / entries
  }
  const naiveHeapDelta = measureNaive()
  gc()
  // Perkle's own cost: typed arrays it allocated + JS objects (heap delta covers both on V8;
  // on Bun typed-array stores sit outside heapUsed, so take the larger of the two views)
  const perkleBytes = Math.max(perkleAllocated, perkleHeapDelta)
  const memRatio = perkleBytes / naiveHeapDelta
  checks.push({
    name: "memory per entry <= 1/3 of naive Map",
    pass: memRatio <= 1 / 3,
    detail: `${perkleBytes.toFixed(1)} vs ${naiveHeapDelta.toFixed(1)} B/entry (ratio ${memRatio.toFixed(3)})`,
  })
  const snapRatio = snap.length / jsonBytes
  checks.push({
    name: "compressed snapshot <= 1/10 of JSON",
    pass: snapRatio <= 0.1,
    detail: `${snap.length} vs ${jsonBytes} bytes (ratio ${snapRatio.toFixed(4)})`,
  })

  // ---- the peer: sorted-btree with hex string keys, interleaved with Perkle's floor ----
  log("sorted-btree peer")
  const bt = new BTree<string, RoutingEntry>()
  for (const r of makeMap(entries, tables, MAP_SEED)) bt.set(`${r.table}/${toHex(r.hash)}`, r.entry)
  const peerTasks: Record<string, () => void> = {
    "perkle floor + entry, big peer heap alive": perkleTasks["perkle floor + entry"]!,
    "sorted-btree floor (hex keys)": () => {
      for (let k = 0; k < reps; k++)
        for (let i = 0; i < Q; i++) sink += bt.getPairOrNextLower(qStrs[i]!)![1].epoch
    },
  }
  for (let r = 0; r < rounds; r++)
    for (const [name, fn] of Object.entries(peerTasks))
      (rates[name] ??= []).push((reps * Q) / (time(fn) / 1000))
  for (const k of Object.keys(peerTasks)) med[k] = median(rates[k]!)
  const peer = med["sorted-btree floor (hex keys)"]!
  if (sink === 0.5) log("sink")

  // ---- constant-work vs conventional ----
  log("cache experiments")
  const sweep = [0, 0.5, 0.9, 0.99, 0.9975, 1]
  const sweepRows: (string | number)[][] = []
  const n = opts.quick ? 20_000 : 100_000
  for (const h of sweep) {
    const cw = runCacheExperiment({
      mode: "constant-work",
      hitRate: h,
      requests: n,
      requestsPerMs: 20,
      latencyMs: 2,
      seed: 1,
    })
    const cv = runCacheExperiment({
      mode: "conventional",
      hitRate: h,
      requests: n,
      requestsPerMs: 20,
      latencyMs: 2,
      seed: 1,
    })
    sweepRows.push([
      `${(h * 100).toFixed(2)} %`,
      Number(cw.metrics.lookupsPerRequest.toFixed(4)),
      Number(cv.metrics.lookupsPerRequest.toFixed(4)),
      Number((1 - cv.metrics.hitRate).toFixed(4)),
    ])
  }
  const flushBase = {
    hitRate: 0.9975,
    requests: opts.quick ? 40_000 : 200_000,
    requestsPerMs: 50,
    latencyMs: 5,
    hotPartitions: 5000,
    windowRequests: opts.quick ? 1000 : 2000,
    seed: 5,
  } as const
  const flushAt = flushBase.requests / 2
  const cwF = runCacheExperiment({ ...flushBase, mode: "constant-work", flushAtRequest: flushAt })
  const cvF = runCacheExperiment({ ...flushBase, mode: "conventional", flushAtRequest: flushAt })
  const fw = flushAt / flushBase.windowRequests
  const steady = (ws: ReadonlyArray<{ lookupsPerRequest: number }>) =>
    median(ws.slice(Math.floor(fw / 2), fw).map((w) => w.lookupsPerRequest))
  const cvSteady = steady(cvF.windows)
  const cvPeak = Math.max(...cvF.windows.slice(fw).map((w) => w.lookupsPerRequest))
  const cwSteady = steady(cwF.windows)
  const cwPeak = Math.max(...cwF.windows.slice(fw).map((w) => w.lookupsPerRequest))
  const cwMin = Math.min(...cwF.windows.map((w) => w.lookupsPerRequest))
  checks.push({
    name: "constant-work lookups/request stay 1.0 ± 1 % through the flush",
    pass: cwPeak <= 1.01 && cwMin >= 0.99,
    detail: `min ${cwMin.toFixed(4)} max ${cwPeak.toFixed(4)}`,
  })

  const figures: Record<string, number> = {
    entries,
    tables,
    buildMs: Math.round(buildMs),
    floorIndexPerSec: Math.round(med["perkle floor (index, slot)"]!),
    floorEntryPerSec: Math.round(med["perkle floor + entry"]!),
    routePerSec: Math.round(med["perkle route (range + entry)"]!),
    trieFloorPerSec: Math.round(med["perkle trie floor (slot)"]!),
    btreeFloorPerSec: Math.round(peer),
    floorIndexVsBtree: med["perkle floor (index, slot)"]! / peer,
    floorEntryVsBtree: med["perkle floor + entry, big peer heap alive"]! / peer,
    perkleBytesPerEntry: perkleBytes,
    perkleAllocatedBytesPerEntry: perkleAllocated,
    perkleHeapDeltaPerEntry: perkleHeapDelta,
    perkleTrimmedBytesPerEntry: perkleTrimmed,
    naiveHeapDeltaPerEntry: naiveHeapDelta,
    memoryRatio: memRatio,
    jsonBytes,
    snapshotBytes: snap.length,
    snapshotBytesPerEntry: snap.length / entries,
    snapshotRatio: snapRatio,
    snapshotMs: median(snapMs),
    snapshotLevel1BytesPerEntry: snapFast.length / entries,
    snapshotLevel1Ms: snapFastMs,
    restoreMs: median(restoreMs),
    cwLookupsPerRequestSteady: cwSteady,
    cwLookupsPerRequestPeak: cwPeak,
    convLookupsPerRequestSteady: cvSteady,
    convLookupsPerRequestPeak: cvPeak,
    convFlushSurge: cvPeak / Math.max(cvSteady, 1e-9),
    repairRounds: repair.rounds,
    repairEntries: repair.entries,
    repairBytes: repair.bytes,
    repairMs: repair.ms,
  }

  const fmt = (x: number) => Math.round(x).toLocaleString("en-US")
  const tablesOut: MemDSBenchReport["tables"] = [
    {
      title: `Floor lookups on hashed keys, ${fmt(entries)} entries in ${tables} tables (median of ${rounds} interleaved rounds)`,
      columns: ["lookup", "per second", "vs sorted-btree"],
      rows: Object.entries(med).map(([k, v]) => [k, fmt(v), Number((v / peer).toFixed(2))]),
      note:
        "The first four rows run with only the store on the heap (a MemDS node's situation); the last two run " +
        "interleaved with the sorted-btree peer alive (1M string keys and entry objects), which slows every " +
        "allocating lookup through GC. One core; random keys over all tables.",
    },
    {
      title: "Memory per partition entry",
      columns: ["structure", "bytes/entry", "how measured"],
      rows: [
        [
          "Perkle store (trie + arenas + read index)",
          Number(perkleBytes.toFixed(1)),
          "max(typed-array bytes, heap delta)",
        ],
        ["  typed arrays allocated (capacity)", Number(perkleAllocated.toFixed(1)), "sum of byteLength"],
        ["  heap delta", Number(perkleHeapDelta.toFixed(1)), "heapUsed after GC"],
        [
          "  typed arrays after trim() (a snapshot-restored replica)",
          Number(perkleTrimmed.toFixed(1)),
          "sum of byteLength",
        ],
        ["naive Map of JSON-like objects", Number(naiveHeapDelta.toFixed(1)), "heapUsed after GC"],
        ["ratio Perkle / naive", Number(memRatio.toFixed(3)), "target <= 0.333"],
      ],
    },
    {
      title: "Snapshots (fflate deflate level 6)",
      columns: ["measure", "value"],
      rows: [
        ["JSON size (bytes)", fmt(jsonBytes)],
        ["compressed snapshot (bytes)", fmt(snap.length)],
        ["bytes per entry", Number((snap.length / entries).toFixed(2))],
        ["ratio snapshot / JSON", Number(snapRatio.toFixed(4))],
        ["encode + compress (ms)", Math.round(median(snapMs))],
        ["at deflate level 1: bytes per entry", Number((snapFast.length / entries).toFixed(2))],
        ["at deflate level 1: encode + compress (ms)", Math.round(snapFastMs)],
        ["decompress + rebuild + verify root (ms)", Math.round(median(restoreMs))],
        ["build store by puts (ms)", Math.round(buildMs)],
      ],
    },
    {
      title: `Repairing a replica that missed ${fmt(repair.changedUpdates)} entry updates (Merkle regions vs a snapshot)`,
      columns: ["measure", "value"],
      rows: [
        [`round trips (up to ${SYNC_REGIONS_MAX_DEFAULT} regions each)`, repair.rounds],
        ["regions compared", fmt(repair.regions)],
        ["entries rewritten", fmt(repair.entries)],
        ["bytes exchanged (estimate)", fmt(repair.bytes)],
        ["snapshot bytes", fmt(snap.length)],
        ["repair CPU time (ms, both sides)", Math.round(repair.ms)],
      ],
    },
    {
      title:
        "MemDS lookups per router request vs cache hit rate (virtual time, 20 req/ms, 2 ms MemDS latency)",
      columns: ["hit rate", "constant-work", "conventional", "conventional miss rate"],
      rows: sweepRows,
    },
    {
      title: `Through a full cache flush at request ${fmt(flushAt)} (hit rate 99.75 %, ${flushBase.hotPartitions} hot partitions, 50 req/ms, 5 ms latency)`,
      columns: ["mode", "lookups/request before", "peak window after flush", "surge"],
      rows: [
        [
          "constant-work",
          Number(cwSteady.toFixed(4)),
          Number(cwPeak.toFixed(4)),
          Number((cwPeak / cwSteady).toFixed(2)),
        ],
        [
          "conventional",
          Number(cvSteady.toFixed(4)),
          Number(cvPeak.toFixed(4)),
          Number((cvPeak / Math.max(cvSteady, 1e-9)).toFixed(1)),
        ],
      ],
    },
  ]
  const charts: MemDSBenchReport["charts"] = [
    {
      kind: "line",
      title: "MemDS lookups per request through a full cache flush",
      xLabel: "request (thousands)",
      yLabel: "lookups/request",
      series: [
        {
          name: "constant-work",
          points: cwF.windows.map((w, i) => [
            ((i + 1) * flushBase.windowRequests) / 1000,
            w.lookupsPerRequest,
          ]),
        },
        {
          name: "conventional",
          points: cvF.windows.map((w, i) => [
            ((i + 1) * flushBase.windowRequests) / 1000,
            w.lookupsPerRequest,
          ]),
        },
      ],
    },
  ]
  return {
    title: "MemDS: Perkle store and constant-work routing cache",
    summary:
      `Floor ${fmt(figures.floorIndexPerSec!)}/s (index), ${fmt(figures.floorEntryPerSec!)}/s with entry decode; ` +
      `${perkleBytes.toFixed(0)} B/entry vs ${naiveHeapDelta.toFixed(0)} naive (${memRatio.toFixed(2)}x); ` +
      `snapshot ${(snapRatio * 100).toFixed(1)} % of JSON; constant-work flat at ${cwSteady.toFixed(3)} lookups/request ` +
      `through a flush, conventional surges ${(cvPeak / Math.max(cvSteady, 1e-9)).toFixed(0)}x.`,
    config: {
      entries,
      tables,
      rounds,
      reps,
      queries: Q,
      runtime: typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : "other",
    },
    figures,
    checks,
    tables: tablesOut,
    charts,
  }
}

const toMarkdown = (r: MemDSBenchReport): string => {
  const lines = [`# ${r.title}`, "", r.summary, ""]
  for (const t of r.tables) {
    lines.push(
      `## ${t.title}`,
      "",
      `| ${t.columns.join(" | ")} |`,
      `|${t.columns.map(() => "---").join("|")}|`,
    )
    for (const row of t.rows) lines.push(`| ${row.join(" | ")} |`)
    if (t.note !== undefined) lines.push("", t.note)
    lines.push("")
  }
  lines.push("## Checks", "")
  for (const c of r.checks) lines.push(`- ${c.pass ? "PASS" : "FAIL"} ${c.name}: ${c.detail}`)
  lines.push("", `Config: \`${JSON.stringify(r.config)}\``, "")
  return lines.join("\n")
}

if (import.meta.main) {
  const quick = process.argv.includes("--quick")
  const report = await runMemDSBench({ quick })
  const root = join(dirname(fileURLToPath(import.meta.url)), "../../../results/memds")
  mkdirSync(root, { recursive: true })
  const name = quick ? "bench-quick" : "bench"
  writeFileSync(join(root, `${name}.json`), JSON.stringify(report, null, 2))
  writeFileSync(join(root, `${name}.md`), toMarkdown(report))
  process.stdout.write(toMarkdown(report))
}
