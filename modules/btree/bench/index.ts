/**
 * B-tree benchmark: @partita/btree against sorted-btree 2.1.0, js-sdsl 4.4.2 OrderedMap and
 * (point operations) Map, same keys, same process, interleaved rounds, medians and ratios.
 *
 *   bun modules/btree/bench/index.ts            1M keys, 5 rounds
 *   bun modules/btree/bench/index.ts --quick    100k keys, 5 rounds
 *
 * Writes results/btree/bench.json and results/btree/bench.md (quick runs: bench-quick.*).
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { OrderedMap } from "js-sdsl"
import SortedBTree from "sorted-btree"
import { bulkLoad as sortedBulkLoad } from "sorted-btree/extended/bulkLoad"
import { BTree } from "../src/index.ts"
import { numericKeys, shuffle, stringKeys } from "./keys.ts"

/** Ops per second (median over rounds) per operation and implementation. */
export interface DatasetResult {
  readonly dataset: string
  readonly keys: number
  readonly opsPerSec: Record<string, Record<string, number>>
  readonly bytesPerEntry: Record<string, number>
  readonly ratios: Record<string, number>
}

/** What `runBTreeBench` returns (also written as JSON). */
export interface BenchReport {
  readonly suite: "btree"
  readonly quick: boolean
  readonly runtime: string
  readonly rounds: number
  readonly datasets: DatasetResult[]
  readonly targets: Array<{ dataset: string; metric: string; target: string; ratio: number; met: boolean }>
}

type K = string | number

const IMPLS = ["partita", "sorted-btree", "js-sdsl", "Map"] as const
type ImplName = (typeof IMPLS)[number] | "sorted-btree#num"

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

declare const Bun: { gc(force: boolean): void; version: string } | undefined

function gc(): void {
  if (typeof Bun !== "undefined") Bun.gc(true)
  else (globalThis as { gc?: () => void }).gc?.()
}

let sink = 0

// One explicit loop per implementation and operation keeps every call site monomorphic.
// Each runner holds its structure between operations, so the harness can interleave
// implementations per operation (ours, peer, ours, peer ...) rather than per whole sequence.

/** The measured operations of one implementation; each returns operations per millisecond. */
interface Runner {
  insert(): number
  get(): number
  overwrite(): number
  range100(): number
  range100Iter(): number
  snapshotWrite(): number
  delete(): number
}

const NOT_SUPPORTED = (): number => Number.NaN

function partitaRunner(insertOrder: K[], lookups: K[], starts: K[], snapOps: number): Runner {
  const keys = insertOrder as string[]
  const look = lookups as string[]
  const from = starts as string[]
  let t = new BTree<number>()
  let acc = 0
  const cb = (_k: string, v: number): void => {
    acc += v
  }
  return {
    insert() {
      const t0 = performance.now()
      t = new BTree<number>()
      for (let i = 0; i < keys.length; i++) t.set(keys[i]!, i)
      return keys.length / (performance.now() - t0)
    },
    get() {
      const t0 = performance.now()
      for (let i = 0; i < look.length; i++) sink += t.get(look[i]!)!
      return look.length / (performance.now() - t0)
    },
    overwrite() {
      const t0 = performance.now()
      for (let i = 0; i < look.length; i++) t.set(look[i]!, i)
      return look.length / (performance.now() - t0)
    },
    range100() {
      const t0 = performance.now()
      for (let i = 0; i < from.length; i++) t.forRange({ gte: from[i]!, limit: 100 }, cb)
      sink += acc
      return from.length / (performance.now() - t0)
    },
    range100Iter() {
      const t0 = performance.now()
      for (let i = 0; i < from.length; i++) {
        for (const e of t.range({ gte: from[i]!, limit: 100 })) acc += e[1]
      }
      sink += acc
      return from.length / (performance.now() - t0)
    },
    snapshotWrite() {
      const t0 = performance.now()
      let keep: unknown
      for (let i = 0; i < snapOps; i++) {
        keep = t.snapshot()
        t.set(look[i]!, -i)
      }
      sink += keep === undefined ? 0 : 1
      return snapOps / (performance.now() - t0)
    },
    delete() {
      const t0 = performance.now()
      for (let i = 0; i < keys.length; i++) t.delete(keys[i]!)
      const rate = keys.length / (performance.now() - t0)
      if (t.size !== 0) throw new Error("partita: delete left items")
      return rate
    },
  }
}

function sortedRunner(insertOrder: K[], lookups: K[], starts: K[], snapOps: number): Runner {
  let t = new SortedBTree<K, number>()
  let acc = 0
  const cb = (_k: K, v: number, c: number): { break: number } | undefined => {
    acc += v
    return c >= 99 ? { break: c } : undefined
  }
  return {
    insert() {
      const t0 = performance.now()
      t = new SortedBTree<K, number>()
      for (let i = 0; i < insertOrder.length; i++) t.set(insertOrder[i]!, i)
      return insertOrder.length / (performance.now() - t0)
    },
    get() {
      const t0 = performance.now()
      for (let i = 0; i < lookups.length; i++) sink += t.get(lookups[i]!)!
      return lookups.length / (performance.now() - t0)
    },
    overwrite() {
      const t0 = performance.now()
      for (let i = 0; i < lookups.length; i++) t.set(lookups[i]!, i)
      return lookups.length / (performance.now() - t0)
    },
    range100() {
      const maxKey = t.maxKey()!
      const t0 = performance.now()
      for (let i = 0; i < starts.length; i++) t.forRange(starts[i]!, maxKey, true, cb as never)
      sink += acc
      return starts.length / (performance.now() - t0)
    },
    range100Iter() {
      const t0 = performance.now()
      for (let i = 0; i < starts.length; i++) {
        let c = 0
        for (const e of t.entries(starts[i]!)) {
          acc += e[1]
          if (++c >= 100) break
        }
      }
      sink += acc
      return starts.length / (performance.now() - t0)
    },
    snapshotWrite() {
      const t0 = performance.now()
      let keep: unknown
      for (let i = 0; i < snapOps; i++) {
        keep = t.clone()
        t.set(lookups[i]!, -i)
      }
      sink += keep === undefined ? 0 : 1
      return snapOps / (performance.now() - t0)
    },
    delete() {
      const t0 = performance.now()
      for (let i = 0; i < insertOrder.length; i++) t.delete(insertOrder[i]!)
      const rate = insertOrder.length / (performance.now() - t0)
      if (t.size !== 0) throw new Error("sorted-btree: delete left items")
      return rate
    },
  }
}

function sdslRunner(insertOrder: K[], lookups: K[], starts: K[]): Runner {
  let t = new OrderedMap<K, number>()
  let acc = 0
  const range = (): number => {
    const end = t.end()
    const t0 = performance.now()
    for (let i = 0; i < starts.length; i++) {
      const it = t.lowerBound(starts[i]!)
      for (let c = 0; c < 100 && !it.equals(end); c++) {
        acc += it.pointer[1]
        it.next()
      }
    }
    sink += acc
    return starts.length / (performance.now() - t0)
  }
  return {
    insert() {
      const t0 = performance.now()
      t = new OrderedMap<K, number>()
      for (let i = 0; i < insertOrder.length; i++) t.setElement(insertOrder[i]!, i)
      return insertOrder.length / (performance.now() - t0)
    },
    get() {
      const t0 = performance.now()
      for (let i = 0; i < lookups.length; i++) sink += t.getElementByKey(lookups[i]!)!
      return lookups.length / (performance.now() - t0)
    },
    overwrite() {
      const t0 = performance.now()
      for (let i = 0; i < lookups.length; i++) t.setElement(lookups[i]!, i)
      return lookups.length / (performance.now() - t0)
    },
    range100: range,
    range100Iter: range,
    snapshotWrite: NOT_SUPPORTED,
    delete() {
      const t0 = performance.now()
      for (let i = 0; i < insertOrder.length; i++) t.eraseElementByKey(insertOrder[i]!)
      const rate = insertOrder.length / (performance.now() - t0)
      if (t.size() !== 0) throw new Error("js-sdsl: delete left items")
      return rate
    },
  }
}

function mapRunner(insertOrder: K[], lookups: K[]): Runner {
  let t = new Map<K, number>()
  return {
    insert() {
      const t0 = performance.now()
      t = new Map<K, number>()
      for (let i = 0; i < insertOrder.length; i++) t.set(insertOrder[i]!, i)
      return insertOrder.length / (performance.now() - t0)
    },
    get() {
      const t0 = performance.now()
      for (let i = 0; i < lookups.length; i++) sink += t.get(lookups[i]!)!
      return lookups.length / (performance.now() - t0)
    },
    overwrite() {
      const t0 = performance.now()
      for (let i = 0; i < lookups.length; i++) t.set(lookups[i]!, i)
      return lookups.length / (performance.now() - t0)
    },
    range100: NOT_SUPPORTED,
    range100Iter: NOT_SUPPORTED,
    snapshotWrite: NOT_SUPPORTED,
    delete() {
      const t0 = performance.now()
      for (let i = 0; i < insertOrder.length; i++) t.delete(insertOrder[i]!)
      return insertOrder.length / (performance.now() - t0)
    },
  }
}

function bulkLoadRate(impl: ImplName, sorted: K[]): number {
  const n = sorted.length
  const values = Array.from({ length: n }, (_, i) => i)
  const t0 = performance.now()
  let size = 0
  if (impl === "partita") size = BTree.fromSorted(sorted as string[], values).size
  else if (impl === "sorted-btree" || impl === "sorted-btree#num") {
    const cmp = impl === "sorted-btree#num" ? (a: K, b: K) => (a as number) - (b as number) : undefined
    size = sortedBulkLoad<K, number>(sorted, values, 32, cmp ?? new SortedBTree<K, number>()._compare).size
  } else if (impl === "js-sdsl") {
    const t = new OrderedMap<K, number>()
    for (let i = 0; i < n; i++) t.setElement(sorted[i]!, i)
    size = t.size()
  } else {
    const t = new Map<K, number>()
    for (let i = 0; i < n; i++) t.set(sorted[i]!, i)
    size = t.size
  }
  if (size !== n) throw new Error(`${impl}: bulk load size ${size}`)
  return n / (performance.now() - t0)
}

/** Heap bytes per entry, measured by bench/memory.ts in a fresh process (a shared heap skews it). */
function bytesPerEntry(impl: ImplName, kind: string, n: number): number {
  const script = new URL("./memory.ts", import.meta.url).pathname
  const name = impl === "sorted-btree#num" ? "sorted-btree" : impl
  const r = spawnSync(process.execPath, [script, name, kind, String(n)], { encoding: "utf8" })
  if (r.status !== 0) throw new Error(`memory.ts ${name} ${kind} failed: ${r.stderr}`)
  return (JSON.parse(r.stdout) as { bytesPerEntry: number }).bytesPerEntry
}

function makeRunner(impl: ImplName, insertOrder: K[], lookups: K[], starts: K[], snapOps: number): Runner {
  if (impl === "partita") return partitaRunner(insertOrder, lookups, starts, snapOps)
  if (impl === "sorted-btree" || impl === "sorted-btree#num")
    return sortedRunner(insertOrder, lookups, starts, snapOps)
  if (impl === "js-sdsl") return sdslRunner(insertOrder, lookups, starts)
  return mapRunner(insertOrder, lookups)
}

const OPS = [
  "bulkLoad",
  "get",
  "overwrite",
  "insert",
  "delete",
  "range100",
  "range100Iter",
  "snapshotWrite",
] as const

function runDataset(
  name: string,
  kind: string,
  keys: K[],
  impls: readonly ImplName[],
  rounds: number,
  log: (s: string) => void,
): DatasetResult {
  const n = keys.length
  const insertOrder = shuffle(keys, 1)
  const lookups = shuffle(keys, 2).slice(0, n >> 1)
  const starts = shuffle(keys, 3).slice(0, Math.max(1000, Math.floor(n / 50)))
  const snapOps = Math.floor(n / 20)
  const sorted = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const samples: Record<string, Record<string, number[]>> = {}
  for (const op of OPS) samples[op] = Object.fromEntries(impls.map((i) => [i, [] as number[]]))
  const runners = new Map(
    impls.map((impl) => [impl, makeRunner(impl, insertOrder, lookups, starts, snapOps)]),
  )
  // Operations in this order; within each, implementations back to back, rotated per round.
  const SEQUENCE = [
    "insert",
    "get",
    "overwrite",
    "range100",
    "range100Iter",
    "snapshotWrite",
    "delete",
  ] as const
  for (let r = 0; r < rounds; r++) {
    const order = impls.map((_, i) => impls[(i + r) % impls.length]!)
    for (const op of SEQUENCE) {
      for (const impl of order) samples[op]![impl]!.push(runners.get(impl)![op]() * 1000)
    }
    for (const impl of order) {
      gc()
      samples["bulkLoad"]![impl]!.push(bulkLoadRate(impl, sorted) * 1000)
    }
    gc()
    log(`  ${name}: round ${r + 1}/${rounds} done`)
  }
  const opsPerSec: Record<string, Record<string, number>> = {}
  for (const op of OPS) {
    opsPerSec[op] = {}
    for (const impl of impls) opsPerSec[op]![impl] = median(samples[op]![impl]!)
  }
  const bytes: Record<string, number> = {}
  for (const impl of impls) bytes[impl] = bytesPerEntry(impl, kind, n)
  const ratios: Record<string, number> = {}
  if (impls.includes("partita") && impls.includes("sorted-btree")) {
    // Median of per-round ratios: each pair was measured back to back, so load swings on the
    // shared machine cancel better than in a ratio of separate medians.
    for (const op of OPS) {
      const ours = samples[op]!["partita"]!
      const peer = samples[op]!["sorted-btree"]!
      ratios[op] = median(ours.map((x, i) => x / peer[i]!))
    }
    ratios["memory"] = bytes["partita"]! / bytes["sorted-btree"]!
  }
  return { dataset: name, keys: n, opsPerSec, bytesPerEntry: bytes, ratios }
}

const TARGETS: Array<{ metric: string; min?: number; max?: number }> = [
  { metric: "get", min: 1.0 },
  { metric: "overwrite", min: 1.0 },
  { metric: "range100", min: 1.0 },
  { metric: "insert", min: 0.8 },
  { metric: "delete", min: 0.8 },
  { metric: "memory", max: 1.3 },
]

const fmt = (x: number): string =>
  Number.isNaN(x) ? "n/a" : x >= 1e6 ? `${(x / 1e6).toFixed(2)} M/s` : `${(x / 1e3).toFixed(0)} k/s`

/** Renders the report as Markdown tables. */
export function renderMarkdown(rep: BenchReport): string {
  const lines: string[] = []
  lines.push(`# @partita/btree benchmark${rep.quick ? " (quick)" : ""}`, "")
  lines.push(
    `Runtime: ${rep.runtime}; ${rep.rounds} interleaved rounds, medians; ratio = partita / sorted-btree.`,
    "",
  )
  for (const d of rep.datasets) {
    const impls = Object.keys(d.bytesPerEntry)
    lines.push(`## ${d.dataset} (${d.keys.toLocaleString("en")} keys)`, "")
    lines.push(`| operation | ${impls.join(" | ")} | ratio |`)
    lines.push(`|---|${impls.map(() => "---:").join("|")}|---:|`)
    for (const op of OPS) {
      const row = impls.map((i) => fmt(d.opsPerSec[op]![i]!))
      const ratio = d.ratios[op]
      lines.push(`| ${op} | ${row.join(" | ")} | ${ratio === undefined ? "" : `${ratio.toFixed(2)}x`} |`)
    }
    const memRow = impls.map((i) => `${d.bytesPerEntry[i]!.toFixed(1)} B`)
    const mr = d.ratios["memory"]
    lines.push(
      `| memory / entry | ${memRow.join(" | ")} | ${mr === undefined ? "" : `${mr.toFixed(2)}x`} |`,
      "",
    )
  }
  lines.push(
    "## Targets (ratios to sorted-btree)",
    "",
    "| dataset | metric | target | ratio | met |",
    "|---|---|---|---:|---|",
  )
  for (const t of rep.targets) {
    lines.push(
      `| ${t.dataset} | ${t.metric} | ${t.target} | ${t.ratio.toFixed(2)} | ${t.met ? "yes" : "**no**"} |`,
    )
  }
  lines.push(
    "",
    "Operations: insert = build by random inserts from empty; get/overwrite = random existing keys;",
    "range100 = 100 items from a random start (callback form: `forRange` vs sorted-btree `forRange`);",
    "range100Iter = the same through iterators (`range()` vs `entries()`); snapshotWrite = snapshot",
    "(sorted-btree: `clone()`) then one overwrite; delete = remove every key in random order;",
    "memory = heap delta per entry after random inserts, in a fresh process (keys pre-allocated,",
    "values small integers). The raw-number dataset shows what string encoding of numbers costs.",
    "partita maintains its 128-bit checksums, counts and byte sizes on every write.",
  )
  return `${lines.join("\n")}\n`
}

/** Runs the whole benchmark and writes JSON + Markdown under results/btree/. */
export async function runBTreeBench(opts: {
  quick: boolean
  log?: (s: string) => void
}): Promise<BenchReport> {
  const log = opts.log ?? ((s: string) => console.log(s))
  const n = opts.quick ? 100_000 : 1_000_000
  const rounds = opts.quick ? 5 : 5
  const datasets: DatasetResult[] = []
  log(`btree bench: ${n} keys, ${rounds} rounds`)
  const str = stringKeys(n, 42)
  datasets.push(runDataset("20-char string keys", "string", str, IMPLS, rounds, log))
  const num = numericKeys(n, 43)
  datasets.push(
    runDataset("numeric keys (16-digit fixed-width strings)", "numeric", num.strings, IMPLS, rounds, log),
  )
  datasets.push(
    runDataset(
      "numeric keys, reference: raw numbers",
      "number",
      num.numbers,
      ["sorted-btree#num", "Map"],
      rounds,
      log,
    ),
  )
  const targets: BenchReport["targets"] = []
  for (const d of datasets.slice(0, 2)) {
    for (const t of TARGETS) {
      const ratio = d.ratios[t.metric]!
      const met = t.min !== undefined ? ratio >= t.min : ratio <= t.max!
      targets.push({
        dataset: d.dataset,
        metric: t.metric,
        target: t.min ? `>= ${t.min}` : `<= ${t.max}`,
        ratio,
        met,
      })
    }
  }
  const runtime = typeof Bun !== "undefined" ? `bun ${Bun.version}` : `node ${process.version}`
  const rep: BenchReport = { suite: "btree", quick: opts.quick, runtime, rounds, datasets, targets }
  const dir = new URL("../../../results/btree/", import.meta.url).pathname
  mkdirSync(dir, { recursive: true })
  const base = opts.quick ? "bench-quick" : "bench"
  writeFileSync(`${dir}${base}.json`, `${JSON.stringify(rep, null, 2)}\n`)
  writeFileSync(`${dir}${base}.md`, renderMarkdown(rep))
  if (sink === 0.5) log("")
  return rep
}

if (import.meta.main) {
  const rep = await runBTreeBench({ quick: process.argv.includes("--quick") })
  console.log(renderMarkdown(rep))
}
