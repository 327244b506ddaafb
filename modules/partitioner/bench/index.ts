/**
 * Partitioner benchmarks: hash throughput (our MD5 and MurmurHash3 vs node:crypto and, on Bun,
 * Bun.MD5 / Bun.CryptoHasher), route() throughput with and without hashing at 1,000 and 100,000
 * partitions, and placement planning time for 10,000 partitions on 100 nodes.
 *
 * Method: every task runs a fixed batch per round; rounds interleave the tasks (ours, peer, ours,
 * peer, ...) and each figure is the median over rounds. Ratios compare tasks of the same run.
 *
 *   node_modules/.bin/bun modules/partitioner/bench/index.ts [--quick]
 *   node_modules/.bin/deno run -A modules/partitioner/bench/index.ts [--quick]
 */
import { createHash } from "node:crypto"
import { mkdirSync, writeFileSync } from "node:fs"
import { Either } from "effect"
import {
  AccessStats,
  hashKeyInto,
  type Partition,
  PartitionMap,
  placeAll,
  planNodeEvent,
  type ReplicaDemand,
  type StorageNode,
} from "../src/index.ts"

/** One measured figure. */
export interface BenchRow {
  readonly suite: string
  readonly task: string
  /** Operations per second (median of rounds); for placement, runs per second. */
  readonly opsPerSec: number
  /** Median nanoseconds per operation (milliseconds for placement, see `unit`). */
  readonly perOp: number
  readonly unit: "ns" | "ms"
  /** Ratio against the suite's reference task in the same run (perOp / reference perOp). */
  readonly ratio: number | undefined
  readonly reference: string | undefined
}

/** What `runPartitionerBench` returns (and writes as JSON + Markdown under results/partitioner/). */
export interface BenchReport {
  readonly module: "partitioner"
  readonly runtime: string
  readonly version: string
  readonly quick: boolean
  readonly rounds: number
  readonly date: string
  readonly rows: ReadonlyArray<BenchRow>
  readonly checks: ReadonlyArray<{
    readonly name: string
    readonly value: number
    readonly target: string
    readonly ok: boolean
  }>
}

const g = globalThis as unknown as {
  Bun?: {
    version: string
    MD5: { hash(input: string | Uint8Array, out?: Uint8Array): Uint8Array }
    CryptoHasher: new (
      algorithm: string,
    ) => { update(input: string | Uint8Array): unknown; digest(out?: Uint8Array): Uint8Array }
  }
  Deno?: { version: { deno: string } }
}

function runtime(): { name: string; version: string } {
  if (g.Bun !== undefined) return { name: "bun", version: g.Bun.version }
  if (g.Deno !== undefined) return { name: "deno", version: g.Deno.version.deno }
  return { name: "node", version: process.version }
}

/** A task runs `n` operations and returns a checksum (kept, so the work is not optimized away). */
type Task = { readonly name: string; readonly run: (n: number) => number }

let sink = 0

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Interleaved rounds; returns median ns/op per task. */
function measure(tasks: ReadonlyArray<Task>, batch: number, rounds: number): Map<string, number> {
  const samples = new Map<string, number[]>(tasks.map((t) => [t.name, []]))
  // Warm-up: enough calls for the JIT's top tier (a short run otherwise measures a lower tier; the
  // quick mode's 5 rounds of 100,000 did, and reported 3–8x slower lookups than the full run).
  for (let w = 0; w < 5; w++) for (const t of tasks) sink ^= t.run(Math.min(batch, 100_000))
  for (let r = 0; r < rounds; r++) {
    for (const t of tasks) {
      const t0 = performance.now()
      sink ^= t.run(batch)
      const ms = performance.now() - t0
      samples.get(t.name)!.push((ms * 1e6) / batch)
    }
  }
  return new Map([...samples].map(([k, v]) => [k, median(v)]))
}

function rowsOf(suite: string, results: Map<string, number>, reference: string | undefined): BenchRow[] {
  const ref = reference === undefined ? undefined : results.get(reference)
  return [...results].map(([task, ns]) => ({
    suite,
    task,
    opsPerSec: 1e9 / ns,
    perOp: ns,
    unit: "ns" as const,
    ratio: ref === undefined ? undefined : ns / ref,
    reference,
  }))
}

const keyCount = 4096
const keys = Array.from(
  { length: keyCount },
  (_, i) => `user#${String((i * 2654435761) % 1e8).padStart(8, "0")}`,
)
const keyBytes = keys.map((k) => new TextEncoder().encode(k))
const mask = keyCount - 1

function hashTasks(): Task[] {
  const out = new Uint32Array(4)
  const tasks: Task[] = [
    {
      name: "md5 (ours, string key)",
      run: (n) => {
        let x = 0
        for (let i = 0; i < n; i++) {
          hashKeyInto("md5", keys[i & mask]!, out, 0)
          x ^= out[0]!
        }
        return x
      },
    },
    {
      name: "murmur3 x86_128 (ours, string key)",
      run: (n) => {
        let x = 0
        for (let i = 0; i < n; i++) {
          hashKeyInto("murmur3", keys[i & mask]!, out, 0)
          x ^= out[0]!
        }
        return x
      },
    },
    {
      name: "md5 (ours, bytes)",
      run: (n) => {
        let x = 0
        for (let i = 0; i < n; i++) {
          hashKeyInto("md5", keyBytes[i & mask]!, out, 0)
          x ^= out[0]!
        }
        return x
      },
    },
    {
      name: "murmur3 x86_128 (ours, bytes)",
      run: (n) => {
        let x = 0
        for (let i = 0; i < n; i++) {
          hashKeyInto("murmur3", keyBytes[i & mask]!, out, 0)
          x ^= out[0]!
        }
        return x
      },
    },
    {
      name: "md5 node:crypto createHash",
      run: (n) => {
        let x = 0
        for (let i = 0; i < n; i++)
          x ^= createHash("md5")
            .update(keys[i & mask]!)
            .digest()[0]!
        return x
      },
    },
  ]
  const bun = g.Bun
  if (bun !== undefined) {
    const digest = new Uint8Array(64)
    tasks.push(
      {
        name: "md5 Bun.MD5.hash",
        run: (n) => {
          let x = 0
          for (let i = 0; i < n; i++) x ^= bun.MD5.hash(keys[i & mask]!, digest)[0]!
          return x
        },
      },
      {
        name: "md5 Bun.CryptoHasher",
        run: (n) => {
          let x = 0
          for (let i = 0; i < n; i++) {
            const h = new bun.CryptoHasher("md5")
            h.update(keys[i & mask]!)
            x ^= h.digest(digest)[0]!
          }
          return x
        },
      },
    )
  }
  return tasks
}

/** A map of `n` partitions: equal ranges, or boundaries at random positions (as splits leave them). */
function mapOf(n: number, hash: "md5" | "murmur3", shape: "even" | "random"): PartitionMap {
  const config = {
    table: "bench",
    hash,
    policy: "per-partition-limit" as const,
    provisioned: { rcu: 0, wcu: 0 },
  }
  if (shape === "even") return PartitionMap.make(config, n)
  // Random boundaries from a fixed-seed xorshift (bench is allowed randomness, but keep it reproducible).
  let s = 0x9e3779b9 | 0
  const next = () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0).toString(16).padStart(8, "0")
  }
  const starts = new Set<string>()
  while (starts.size < n - 1) starts.add(next() + next() + next() + next())
  const sorted = ["0".repeat(32), ...[...starts].sort()]
  const base = PartitionMap.make(config, 1)
  const partitions: Partition[] = sorted.map((hash, i) => ({
    id: `p${i}`,
    epoch: 1,
    start: { hash },
    end: i + 1 < sorted.length ? { hash: sorted[i + 1]! } : undefined,
    allocation: base.partitionLimit,
    parent: undefined,
  }))
  return PartitionMap.fromData({ ...base.toData(), nextPartition: n, partitions })
}

function routeTasks(
  n: number,
  shape: "even" | "random",
): { tasks: Task[]; reference: string; pairs: Array<[string, string]> } {
  const mapM = mapOf(n, "murmur3", shape)
  const mapD = PartitionMap.fromData({ ...mapM.toData(), hash: "md5" })
  const hashed = new Uint32Array(keyCount * 4)
  for (let i = 0; i < keyCount; i++) mapM.hashInto(keys[i]!, hashed, i * 4)
  // Random probe positions spread over the whole space (so the search visits every region).
  const probes = new Uint32Array(65536 * 4)
  let s = 12345
  for (let i = 0; i < probes.length; i++) {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    probes[i] = s >>> 0
  }
  const probeMask = 65535
  const out = new Uint32Array(4)
  const tasks: Task[] = [
    {
      name: "locate (no hashing)",
      run: (k) => {
        let x = 0
        for (let i = 0; i < k; i++) {
          const j = (i & probeMask) << 2
          x ^= mapM.locate(probes[j]!, probes[j + 1]!, probes[j + 2]!, probes[j + 3]!)
        }
        return x
      },
    },
    {
      name: "routeHashed (no hashing)",
      run: (k) => {
        let x = 0
        for (let i = 0; i < k; i++) x ^= mapM.routeHashed(probes, (i & probeMask) << 2).epoch
        return x
      },
    },
    {
      name: "murmur3 hash only",
      run: (k) => {
        let x = 0
        for (let i = 0; i < k; i++) {
          hashKeyInto("murmur3", keys[i & mask]!, out, 0)
          x ^= out[0]!
        }
        return x
      },
    },
    {
      name: "route(key) murmur3",
      run: (k) => {
        let x = 0
        for (let i = 0; i < k; i++) x ^= mapM.route(keys[i & mask]!).epoch
        return x
      },
    },
    {
      name: "routeIndex(key) + epochAt murmur3",
      run: (k) => {
        let x = 0
        for (let i = 0; i < k; i++) x ^= mapM.epochAt(mapM.routeIndex(keys[i & mask]!))
        return x
      },
    },
    {
      name: "md5 hash only",
      run: (k) => {
        let x = 0
        for (let i = 0; i < k; i++) {
          hashKeyInto("md5", keys[i & mask]!, out, 0)
          x ^= out[0]!
        }
        return x
      },
    },
    {
      name: "route(key) md5",
      run: (k) => {
        let x = 0
        for (let i = 0; i < k; i++) x ^= mapD.route(keys[i & mask]!).epoch
        return x
      },
    },
    {
      name: "routeIndex(key) + epochAt md5",
      run: (k) => {
        let x = 0
        for (let i = 0; i < k; i++) x ^= mapD.epochAt(mapD.routeIndex(keys[i & mask]!))
        return x
      },
    },
  ]
  return {
    tasks,
    reference: "locate (no hashing)",
    // The target is checked on the hot-path form (index + epoch from typed arrays); the object form
    // `route(key)` is reported beside it with its ratio, not checked (see the README).
    pairs: [
      ["routeIndex(key) + epochAt murmur3", "murmur3 hash only"],
      ["routeIndex(key) + epochAt md5", "md5 hash only"],
    ],
  }
}

function placementCase(
  partitions: number,
  nodeCount: number,
): { nodes: StorageNode[]; demands: ReplicaDemand[] } {
  let s = 777
  const rand = () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 4294967296
  }
  const nodes = Array.from({ length: nodeCount }, (_, i) => ({
    id: `n${i}`,
    az: `az${i % 3}`,
    capacityBytes: 2e12,
    capacityRcu: 1e6,
    capacityWcu: 3e5,
  }))
  const demands = Array.from({ length: partitions }, (_, i) => ({
    partitionId: `p${i}`,
    bytes: Math.floor(rand() * 10e9),
    rcu: Math.floor(rand() * 3000),
    wcu: Math.floor(rand() * 1000),
  }))
  return { nodes, demands }
}

function timeMs(rounds: number, f: () => void): number {
  const xs: number[] = []
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now()
    f()
    xs.push(performance.now() - t0)
  }
  return median(xs)
}

function table(rows: ReadonlyArray<BenchRow>): string {
  const lines = ["| suite | task | ops/s | per op | ratio |", "|---|---|---:|---:|---:|"]
  for (const r of rows) {
    const ops =
      r.opsPerSec >= 1e6 ? `${(r.opsPerSec / 1e6).toFixed(2)} M` : `${(r.opsPerSec / 1e3).toFixed(1)} k`
    const per = r.unit === "ms" ? `${r.perOp.toFixed(1)} ms` : `${r.perOp.toFixed(1)} ns`
    const ratio = r.ratio === undefined ? "" : `${r.ratio.toFixed(2)}x ${r.reference}`
    lines.push(`| ${r.suite} | ${r.task} | ${r.unit === "ms" ? "" : ops} | ${per} | ${ratio} |`)
  }
  return lines.join("\n")
}

async function placementSuite(
  quick: boolean,
  rows: BenchRow[],
  checks: Array<{ name: string; value: number; target: string; ok: boolean }>,
): Promise<void> {
  const place = placementCase(10_000, 100)
  let planned = placeAll(place.nodes, place.demands)
  const placeMs = timeMs(quick ? 3 : 7, () => {
    planned = placeAll(place.nodes, place.demands)
  })
  const state = Either.getOrThrow(planned).state
  const failMs = timeMs(quick ? 3 : 7, () => {
    Either.getOrThrow(planNodeEvent(state, { _tag: "Fail", nodeId: "n17" }))
  })
  let joinMoves = 0
  const joinMs = timeMs(quick ? 3 : 7, () => {
    const plan = Either.getOrThrow(
      planNodeEvent(state, {
        _tag: "Join",
        node: { id: "new", az: "az1", capacityBytes: 2e12, capacityRcu: 1e6, capacityWcu: 3e5 },
      }),
    )
    joinMoves = plan.moves.length
  })
  const ms = (task: string, v: number): BenchRow => ({
    suite: "placement, 10,000 partitions on 100 nodes (3 AZs)",
    task,
    opsPerSec: 1000 / v,
    perOp: v,
    unit: "ms",
    ratio: undefined,
    reference: undefined,
  })
  rows.push(
    ms("placeAll (30,000 replicas)", placeMs),
    ms("planNodeEvent Fail (re-create ~300 replicas)", failMs),
    ms(`planNodeEvent Join (${joinMoves} moves to the new node)`, joinMs),
  )
  checks.push({ name: "placement plan time, ms", value: placeMs, target: "reported", ok: true })
}

/** Runs every suite and writes results/partitioner/bench-<runtime>.{json,md}. */
export async function runPartitionerBench(opts: {
  quick: boolean
  /** Run only these suites (default all). */
  suites?: ReadonlyArray<"hash" | "route" | "stats" | "placement">
}): Promise<BenchReport> {
  const want = (s: "hash" | "route" | "stats" | "placement") =>
    opts.suites === undefined || opts.suites.includes(s)
  const rt = runtime()
  const rounds = opts.quick ? 5 : 11
  const batch = opts.quick ? 100_000 : 1_000_000
  const rows: BenchRow[] = []
  const checks: Array<{ name: string; value: number; target: string; ok: boolean }> = []

  if (want("hash")) {
    const hash = measure(hashTasks(), opts.quick ? 50_000 : 300_000, rounds)
    rows.push(...rowsOf("hash (13-byte keys)", hash, "md5 (ours, string key)"))
  }

  const routeCases: ReadonlyArray<readonly [number, "even" | "random"]> = [
    [1000, "even"],
    [100_000, "even"],
    [100_000, "random"],
  ]
  for (const [n, shape] of want("route") ? routeCases : []) {
    const { tasks, reference, pairs } = routeTasks(n, shape)
    // Building a 100,000-partition map leaves garbage; collect it now rather than mid-measurement.
    ;(globalThis as { Bun?: { gc(force: boolean): void } }).Bun?.gc(true)
    const res = measure(tasks, batch, rounds)
    const suite = `route, ${n.toLocaleString("en")} partitions (${shape} boundaries)`
    rows.push(...rowsOf(suite, res, reference))
    if (n === 100_000) {
      const ops = 1e9 / res.get("locate (no hashing)")!
      checks.push({ name: `${suite}: locate ops/s`, value: ops, target: "≥ 10,000,000", ok: ops >= 1e7 })
    }
    for (const [withHash, raw] of pairs) {
      const ratio = res.get(withHash)! / res.get(raw)!
      checks.push({ name: `${suite}: ${withHash} / ${raw}`, value: ratio, target: "≤ 1.5", ok: ratio <= 1.5 })
    }
    for (const h of ["murmur3", "md5"]) {
      const ratio = res.get(`route(key) ${h}`)! / res.get(`${h} hash only`)!
      console.log(`info ${suite}: route(key) ${h} (object form) / ${h} hash only: ${ratio.toFixed(2)}`)
    }
  }

  if (want("stats")) {
    // Per-request cost of recording an access for split-by-consumption (prehashed keys).
    const probes = new Uint32Array(65536 * 4)
    let x = 99
    for (let i = 0; i < probes.length; i++) {
      x ^= x << 13
      x ^= x >>> 17
      x ^= x << 5
      probes[i] = x >>> 0
    }
    const stats = new AccessStats({ seed: 3 })
    const res = measure(
      [
        {
          name: "AccessStats.record (1,024 slots)",
          run: (k) => {
            for (let i = 0; i < k; i++) stats.record(probes, (i & 65535) << 2, undefined, 1, 0)
            return stats.accesses
          },
        },
      ],
      batch,
      rounds,
    )
    rows.push(...rowsOf("access statistics", res, undefined))
  }
  if (want("placement")) await placementSuite(opts.quick, rows, checks)

  const report: BenchReport = {
    module: "partitioner",
    runtime: rt.name,
    version: rt.version,
    quick: opts.quick,
    rounds,
    date: new Date().toISOString(),
    rows,
    checks,
  }
  const dir = new URL("../../../results/partitioner/", import.meta.url)
  mkdirSync(dir, { recursive: true })
  const part = opts.suites === undefined ? "" : `-${opts.suites.join("-")}`
  const base = `bench-${rt.name}${part}${opts.quick ? "-quick" : ""}`
  writeFileSync(new URL(`${base}.json`, dir), JSON.stringify(report, null, 2))
  const md = [
    `# @partita/partitioner benchmark — ${rt.name} ${rt.version}${opts.quick ? " (quick)" : ""}`,
    "",
    `${report.date}, ${rounds} interleaved rounds, medians. Ratio = per-op time / reference task in the same run.`,
    "",
    table(rows),
    "",
    "| check | value | target | ok |",
    "|---|---:|---|---|",
    ...checks.map(
      (c) =>
        `| ${c.name} | ${c.value >= 1000 ? Math.round(c.value).toLocaleString("en") : c.value.toFixed(2)} | ${c.target} | ${c.ok ? "yes" : "NO"} |`,
    ),
    "",
  ].join("\n")
  writeFileSync(new URL(`${base}.md`, dir), md)
  if (sink === 0.5) console.log("")
  return report
}

if (import.meta.main) {
  const quick =
    process.argv.includes("--quick") ||
    (g.Deno !== undefined && (globalThis as any).Deno.args?.includes("--quick"))
  const args: string[] = g.Deno !== undefined ? ((globalThis as any).Deno.args ?? []) : process.argv.slice(2)
  const only = args.find((a) => a.startsWith("--suite="))?.slice("--suite=".length)
  const report = await runPartitionerBench({
    quick,
    ...(only === undefined
      ? {}
      : { suites: only.split(",") as Array<"hash" | "route" | "stats" | "placement"> }),
  })
  console.log(table(report.rows))
  for (const c of report.checks)
    console.log(`${c.ok ? "ok  " : "MISS"} ${c.name}: ${c.value.toFixed(2)} (target ${c.target})`)
}
