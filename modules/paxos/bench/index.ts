/**
 * Paxos benchmark: three replicas in one process over the zero-delay in-memory transport.
 *
 * 1. Commits/s and commit latency (p50/p99/p99.9, hdr-histogram) for 100-byte entries,
 *    batching on (up to WINDOW_ENTRIES outstanding, one fsync per replica per round) and off
 *    (one entry per round), on a memory disk and with fsync to real files (Storage service
 *    over @effect/platform FileSystem). The raw fsync rate of the same directory is measured
 *    so real-file throughput can be compared with fsync rate x batch size.
 * 2. Time to restore the write quorum after a storage replica fails: add a log replica (copies
 *    the recent WAL only) vs rebuild a storage replica from a 100 MB snapshot.
 *
 * Run: node_modules/.bin/bun modules/paxos/bench/index.ts [--quick]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeFileSystem } from "@effect/platform-node"
import { Effect, Exit, Scope } from "effect"
import * as hdr from "hdr-histogram-js"
import { crc32c } from "../src/internal/crc32c.ts"
import { LocalGroup, MemorySink, type WalSink } from "../src/internal/runtime.ts"
import { makeFileStorage, type StorageService } from "../src/internal/storage.ts"
import type { Membership } from "../src/internal/types.ts"

const ENTRY_BYTES = 100
const WINDOW_ENTRIES = 4096
const SNAPSHOT_BYTES = 100 * 1024 * 1024

const config: Membership = {
  members: [
    { id: 0, role: "storage", zone: "az1" },
    { id: 1, role: "storage", zone: "az2" },
    { id: 2, role: "storage", zone: "az3" },
  ],
}

/** One measured configuration. */
export interface ThroughputFigure {
  readonly name: string
  readonly disk: "memory" | "file"
  readonly batching: boolean
  readonly commitsPerSec: number
  readonly p50Us: number
  readonly p99Us: number
  readonly p999Us: number
  readonly meanBatchEntries: number
}

/** Everything the benchmark measured. */
export interface PaxosBenchReport {
  readonly quick: boolean
  readonly rounds: number
  readonly throughput: ReadonlyArray<ThroughputFigure>
  readonly fsyncPerSec: number
  readonly restore: {
    readonly logReplicaMs: number
    readonly storageRebuildMs: number
    readonly walBytesCopied: number
  }
  readonly ratios: Record<string, number>
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? 0
}

const payload = (i: number): Uint8Array => {
  const b = new Uint8Array(ENTRY_BYTES)
  b[0] = i & 0xff
  b[1] = (i >>> 8) & 0xff
  b[2] = (i >>> 16) & 0xff
  return b
}

/** A sink writing through the Storage service to real files (one Effect per batch). */
const fileSinks = async (dir: string) => {
  const scope = Effect.runSync(Scope.make())
  const storages: StorageService[] = []
  for (let i = 0; i < 3; i++) {
    const st = await Effect.runPromise(
      makeFileStorage(join(dir, `r${i}`)).pipe(
        Effect.provideService(Scope.Scope, scope),
        Effect.provide(NodeFileSystem.layer),
      ),
    )
    storages.push(st)
  }
  const sink = (id: number): WalSink => ({
    append: (segment, bytes) => Effect.runPromise(storages[id]!.append(segment, bytes)),
    sync: (segment) => Effect.runPromise(storages[id]!.sync(segment)),
  })
  return { sink, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

export const measureThroughput = async (
  disk: "memory" | "file",
  batching: boolean,
  entries: number,
  dir: string,
): Promise<ThroughputFigure> => {
  const files = disk === "file" ? await fileSinks(mkdtempSync(join(dir, "tp-"))) : null
  const group = new LocalGroup({
    config,
    sink: files?.sink ?? (() => new MemorySink()),
    maxEntriesPerMessage: 8192,
  })
  await group.electAndWait(0)
  const h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  })
  let committed = 0
  let proposed = 0
  const startSyncs = group.metrics.syncs
  const startEntries = group.metrics.batchEntriesSum
  const t0 = performance.now()
  const window = batching ? WINDOW_ENTRIES : 1
  while (committed < entries) {
    while (proposed - committed < window && proposed < entries) {
      const at = performance.now()
      const ok = group.propose(payload(proposed), () => {
        committed++
        h.recordValue(Math.max(1, Math.round((performance.now() - at) * 1000)))
      })
      if (!ok) throw new Error("lost leadership during the benchmark")
      proposed++
    }
    if (files === null) group.pumpSync(1)
    else await group.pump(1)
  }
  const secs = (performance.now() - t0) / 1000
  const syncs = group.metrics.syncs - startSyncs
  const fig: ThroughputFigure = {
    name: `${disk} disk, batching ${batching ? "on" : "off"}`,
    disk,
    batching,
    commitsPerSec: entries / secs,
    p50Us: h.getValueAtPercentile(50),
    p99Us: h.getValueAtPercentile(99),
    p999Us: h.getValueAtPercentile(99.9),
    meanBatchEntries: syncs === 0 ? 0 : (group.metrics.batchEntriesSum - startEntries) / syncs,
  }
  if (files !== null) await files.close()
  return fig
}

const measureFsyncRate = async (dir: string, n: number): Promise<number> => {
  const files = await fileSinks(mkdtempSync(join(dir, "fsync-")))
  const s = files.sink(0)
  const block = new Uint8Array(4096)
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    await s.append(0, block)
    await s.sync(0)
  }
  const rate = n / ((performance.now() - t0) / 1000)
  await files.close()
  return rate
}

/**
 * Restore time after storage replica 2 fails, with `walEntries` committed since the last
 * checkpoint: (a) add a log replica — it receives a snapshot marker and the recent WAL;
 * (b) add a storage replica — it receives a 100 MB snapshot, verifies its CRC, writes and
 * fsyncs it, then the recent WAL.
 */
const measureRestore = async (
  walEntries: number,
  dir: string,
): Promise<{ logReplicaMs: number; storageRebuildMs: number; walBytesCopied: number }> => {
  const run = async (role: "log" | "storage"): Promise<{ ms: number; walBytes: number }> => {
    const group = new LocalGroup({ config, sink: () => new MemorySink(), maxEntriesPerMessage: 8192 })
    await group.electAndWait(0)
    const leader = group.leader()!
    // A checkpoint (the 100 MB snapshot), then recent WAL entries since it.
    for (let i = 0; i < 1000; i++) group.propose(payload(i), () => {})
    group.pumpSync()
    const snapshot = new Uint8Array(SNAPSHOT_BYTES)
    for (let i = 0; i < snapshot.length; i += 4096) snapshot[i] = i & 0xff
    for (const c of group.cores.values()) c.compact(c.commitIndex, c.role === "storage" ? snapshot : null)
    for (let i = 0; i < walEntries; i++) group.propose(payload(i), () => {})
    group.pumpSync()
    group.crash(2)
    const newId = 3
    const t0 = performance.now()
    const joiner = group.addReplica(newId, role, null)
    const r = leader.proposeConfig({
      members: [...leader.latestConfig().members, { id: newId, role, zone: "az3" }],
    })
    if (!r.ok) throw new Error(r.reason)
    let walBytes = 0
    let installed = false
    for (let guard = 0; guard < 100_000; guard++) {
      group.pumpSync(1)
      const snap = joiner.currentSnapshot()
      if (!installed && snap !== null && snap.index > 0) {
        installed = true
        if (snap.data !== null) {
          // What a real rebuild does with the snapshot: copy, verify, write, fsync.
          const copy = snap.data.slice()
          if (crc32c(copy) === 0xffffffff) throw new Error("unexpected")
          const f = join(dir, `rebuild-${newId}.bin`)
          writeFileSync(f, copy, { flush: true })
          rmSync(f)
        }
      }
      if (joiner.commitIndex >= leader.lastIndex() && leader.commitIndex >= r.slot) break
      if (group.transport.pending === 0) group.tick(group.now + 10)
    }
    for (let s = joiner.firstLogIndex(); s <= joiner.lastIndex(); s++)
      walBytes += (joiner.entry(s)?.data.length ?? 0) + 40
    return { ms: performance.now() - t0, walBytes }
  }
  const a = await run("log")
  const b = await run("storage")
  return { logReplicaMs: a.ms, storageRebuildMs: b.ms, walBytesCopied: a.walBytes }
}

/** Runs the whole benchmark and writes results/paxos/. */
export const runPaxosBench = async (opts: { quick: boolean }): Promise<PaxosBenchReport> => {
  const rounds = opts.quick ? 1 : 3
  const memEntries = opts.quick ? 100_000 : 500_000
  const memNoBatch = opts.quick ? 20_000 : 100_000
  const fileEntries = opts.quick ? 20_000 : 100_000
  const fileNoBatch = opts.quick ? 300 : 2000
  const dir = mkdtempSync(join(tmpdir(), "paxos-bench-"))
  const samples = new Map<string, ThroughputFigure[]>()
  const fsyncRates: number[] = []
  try {
    // Warm the JIT up (not measured): the first run is 1.5-2x slower than the next ones.
    await measureThroughput("memory", true, memEntries / 2, dir)
    await measureThroughput("memory", false, memNoBatch / 4, dir)
    for (let round = 0; round < rounds; round++) {
      // Interleaved: every configuration once per round.
      const figs = [
        await measureThroughput("memory", true, memEntries, dir),
        await measureThroughput("memory", false, memNoBatch, dir),
        await measureThroughput("file", true, fileEntries, dir),
        await measureThroughput("file", false, fileNoBatch, dir),
      ]
      for (const f of figs) samples.set(f.name, [...(samples.get(f.name) ?? []), f])
      fsyncRates.push(await measureFsyncRate(dir, opts.quick ? 200 : 1000))
    }
    const throughput = [...samples.values()].map((fs): ThroughputFigure => {
      const pick = [...fs].sort((a, b) => a.commitsPerSec - b.commitsPerSec)[Math.floor(fs.length / 2)]!
      return { ...pick, commitsPerSec: median(fs.map((f) => f.commitsPerSec)) }
    })
    const restore = await measureRestore(opts.quick ? 2_000 : 10_000, dir)
    const by = (n: string) => throughput.find((t) => t.name === n)!.commitsPerSec
    const fsyncPerSec = median(fsyncRates)
    const fileBatch = throughput.find((t) => t.name === "file disk, batching on")!
    const report: PaxosBenchReport = {
      quick: opts.quick,
      rounds,
      throughput,
      fsyncPerSec,
      restore,
      ratios: {
        memoryBatchingOnVsOff: by("memory disk, batching on") / by("memory disk, batching off"),
        fileBatchingOnVsOff: by("file disk, batching on") / by("file disk, batching off"),
        memoryVsFileBatching: by("memory disk, batching on") / by("file disk, batching on"),
        fileBatchingVsFsyncRateTimesBatch:
          fileBatch.commitsPerSec / (fsyncPerSec * fileBatch.meanBatchEntries),
        storageRebuildVsLogReplica: restore.storageRebuildMs / restore.logReplicaMs,
      },
    }
    writeResults(report)
    return report
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const writeResults = (r: PaxosBenchReport): void => {
  const out = join(import.meta.dirname ?? ".", "../../../results/paxos")
  mkdirSync(out, { recursive: true })
  const suffix = r.quick ? "-quick" : ""
  writeFileSync(join(out, `bench${suffix}.json`), JSON.stringify(r, null, 2))
  writeFileSync(join(out, `bench${suffix}.md`), renderMarkdown(r))
}

/** The Markdown table (also pasted into the README). */
export const renderMarkdown = (r: PaxosBenchReport): string => {
  const lines = [
    `# Paxos benchmark${r.quick ? " (quick)" : ""}`,
    "",
    `3 replicas in one process, zero-delay in-memory transport, ${ENTRY_BYTES}-byte entries; median of ${r.rounds} interleaved round(s).`,
    "",
    "| configuration | commits/s | p50 µs | p99 µs | p99.9 µs | mean entries per fsync |",
    "|---|---:|---:|---:|---:|---:|",
    ...r.throughput.map(
      (t) =>
        `| ${t.name} | ${Math.round(t.commitsPerSec).toLocaleString("en-US")} | ${t.p50Us} | ${t.p99Us} | ${t.p999Us} | ${t.meanBatchEntries.toFixed(1)} |`,
    ),
    "",
    `Measured fsync rate (4 KB append + fsync, same directory): ${Math.round(r.fsyncPerSec).toLocaleString("en-US")}/s.`,
    `File disk with batching reaches ${(r.ratios.fileBatchingVsFsyncRateTimesBatch! * 100).toFixed(0)} % of fsync rate x mean batch (each round fsyncs leader and followers in parallel, and a commit needs two dependent fsyncs: leader, then follower).`,
    "",
    "| restore write quorum after a storage replica fails | ms |",
    "|---|---:|",
    `| add a log replica (copies ${(r.restore.walBytesCopied / 1024).toFixed(0)} KB of recent WAL) | ${r.restore.logReplicaMs.toFixed(1)} |`,
    `| rebuild a storage replica from a 100 MB snapshot (copy, CRC, write + fsync, then WAL) | ${r.restore.storageRebuildMs.toFixed(1)} |`,
    "",
    "Ratios: " +
      Object.entries(r.ratios)
        .map(([k, v]) => `${k} = ${v.toFixed(2)}`)
        .join(", "),
    "",
  ]
  return lines.join("\n")
}

if (import.meta.main) {
  const quick = process.argv.includes("--quick")
  const r = await runPaxosBench({ quick })
  console.log(renderMarkdown(r))
}
