/**
 * Key encoding benchmark: the string encoding (EncodedKey, compared with JS `<`) against the same
 * layout as Uint8Array compared byte by byte, for encoding, sorting, and a sorted-btree B+tree
 * (insert, get, range scan). Also the hot-path validator against the Effect Schema.
 *
 *   node_modules/.bin/bun modules/core/bench/keyEncoding.ts [--quick]
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { type AttributeValue, encodeKey, type Item, ItemSchema, itemSize, validateItem } from "@partita/core"
import { Schema } from "effect"
import BTreeImport from "sorted-btree"
import { compareBytes, encodeKeyBytes } from "./bytesCodec.ts"

/** One measured comparison: ops/s of ours (`a`) and the peer (`b`), medians over rounds. */
export interface BenchRow {
  readonly name: string
  readonly a: string
  readonly b: string
  readonly aOpsPerSec: number
  readonly bOpsPerSec: number
  /** a / b (> 1: `a` is faster). */
  readonly ratio: number
}

/** What a suite run returns (and writes to results/core/). */
export interface BenchReport {
  readonly suite: string
  readonly quick: boolean
  readonly runtime: string
  readonly keys: number
  readonly rounds: number
  readonly rows: ReadonlyArray<BenchRow>
  /** Heap bytes per key held in an array, string vs Uint8Array (undefined when no GC hook is available). */
  readonly memory:
    | ReadonlyArray<{ readonly dataset: string; readonly stringBytes: number; readonly bytesBytes: number }>
    | undefined
}

const runtimeName = (): string => {
  const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } }
  return g.Bun ? `bun ${g.Bun.version}` : g.Deno ? `deno ${g.Deno.version.deno}` : `node ${process.version}`
}

const gcNow = (): boolean => {
  const g = globalThis as { Bun?: { gc(force: boolean): void }; gc?: () => void }
  if (g.Bun) g.Bun.gc(true)
  else if (g.gc) g.gc()
  else return false
  return true
}

const heapBytes = (): number => {
  const m = process.memoryUsage()
  return m.heapUsed + m.external
}

/** Heap growth per key when n encoded keys are held in an array. */
const measureMemory = (n: number): BenchReport["memory"] => {
  if (!gcNow()) return undefined
  const out = []
  for (const [dataset, keys] of Object.entries(datasets(n))) {
    const perKey = (encode: (p: KeyPair) => unknown): number => {
      gcNow()
      const h0 = heapBytes()
      const held = keys.map(encode)
      gcNow()
      const h1 = heapBytes()
      sink += held.length
      return (h1 - h0) / n
    }
    // Flatten the strings (a concatenation may stay a rope until first compared).
    const stringBytes = perKey(([p, s]) => {
      const k = encodeKey(p, s)
      sink += k < "\u4000" ? 1 : 0
      return k
    })
    const bytesBytes = perKey(([p, s]) => encodeKeyBytes(p, s))
    out.push({ dataset, stringBytes, bytesBytes })
  }
  return out
}

// sorted-btree is CommonJS: Bun hands over its default export, Deno the module object.
type BTree<K, V> = BTreeImport<K, V>
const BTree: typeof BTreeImport =
  (BTreeImport as unknown as { default?: typeof BTreeImport }).default ?? BTreeImport

const cmpStr = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** A deterministic xorshift PRNG, so the key sets are the same in every run. */
const prng = (seed: number) => {
  let x = seed >>> 0 || 1
  return (): number => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x / 0x100000000
  }
}

type KeyPair = readonly [AttributeValue, AttributeValue | undefined]

const datasets = (n: number): Record<string, ReadonlyArray<KeyPair>> => {
  const r = prng(42)
  const pad = (k: number, w: number) => String(k).padStart(w, "0")
  return {
    // A typical composite key: string partition key, numeric sort key (e.g. user + timestamp).
    "S pk + N sk": Array.from({ length: n }, () => [
      { S: `user#${pad(Math.floor(r() * (n / 10)), 7)}` },
      { N: String(1_700_000_000_000 + Math.floor(r() * 1e9)) },
    ]),
    // A partition key alone, 16 random bytes (UUID-like).
    "B pk (16 bytes)": Array.from({ length: n }, () => [
      { B: Uint8Array.from({ length: 16 }, () => Math.floor(r() * 256)) },
      undefined,
    ]),
    // Non-ASCII strings (mixed BMP and astral), exercising the UTF-16 → UTF-8 order fix.
    "S pk + S sk (unicode)": Array.from({ length: n }, () => [
      { S: `ключ-${pad(Math.floor(r() * (n / 10)), 6)}` },
      { S: `${String.fromCodePoint(0x1f600 + Math.floor(r() * 50))}日本-${pad(Math.floor(r() * n), 7)}` },
    ]),
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

/** Runs `a` and `b` interleaved for `rounds` rounds; each returns the ops it did. Median ops/s each. */
const race = (
  name: string,
  aName: string,
  bName: string,
  a: () => number,
  b: () => number,
  rounds: number,
): BenchRow => {
  const ra: number[] = []
  const rb: number[] = []
  a() // warm up both
  b()
  for (let i = 0; i < rounds; i++) {
    const first = i % 2 === 0
    for (const which of first ? [0, 1] : [1, 0]) {
      const f = which === 0 ? a : b
      const t0 = performance.now()
      const ops = f()
      const dt = (performance.now() - t0) / 1000
      ;(which === 0 ? ra : rb).push(ops / dt)
    }
  }
  const aOps = median(ra)
  const bOps = median(rb)
  return { name, a: aName, b: bName, aOpsPerSec: aOps, bOpsPerSec: bOps, ratio: aOps / bOps }
}

let sink = 0

const SCAN_ITEMS = 100
const reused: unknown[] = []
/** Reads the SCAN_ITEMS entries from `from` on, like a Query page. */
const scan = <K>(t: BTree<K, number>, from: K): number => {
  let sum = 0
  let c = 0
  const it = t.entries(from, reused as (K | number)[])
  for (let e = it.next(); !e.done && c < SCAN_ITEMS; e = it.next(), c++) sum += e.value[1]
  return sum
}

/** Runs the suite; `quick` uses fewer keys and rounds (< 30 s). */
export const runCoreBench = async (opts: { quick: boolean }): Promise<BenchReport> => {
  const n = opts.quick ? 20_000 : 100_000
  const rounds = opts.quick ? 3 : 11
  const rows: BenchRow[] = []
  for (const [label, keys] of Object.entries(datasets(n))) {
    const strs = keys.map(([p, s]) => encodeKey(p, s))
    const bytes = keys.map(([p, s]) => encodeKeyBytes(p, s))
    // Shuffled lookup order, fixed.
    const r = prng(7)
    const order = Array.from({ length: n }, () => Math.floor(r() * n))

    rows.push(
      race(
        `encode (${label})`,
        "string",
        "Uint8Array",
        () => {
          for (const [p, s] of keys) sink += encodeKey(p, s).length
          return n
        },
        () => {
          for (const [p, s] of keys) sink += encodeKeyBytes(p, s).length
          return n
        },
        rounds,
      ),
    )
    rows.push(
      race(
        `sort ${n} keys (${label}), keys/s`,
        "string",
        "Uint8Array",
        () => {
          sink += [...strs].sort(cmpStr).length
          return n
        },
        () => {
          sink += [...bytes].sort(compareBytes).length
          return n
        },
        rounds,
      ),
    )
    let ts: BTree<string, number> = new BTree(undefined, cmpStr)
    let tb: BTree<Uint8Array, number> = new BTree(undefined, compareBytes)
    rows.push(
      race(
        `B+tree insert (${label})`,
        "string",
        "Uint8Array",
        () => {
          ts = new BTree(undefined, cmpStr)
          for (let i = 0; i < n; i++) ts.set(strs[i]!, i)
          return n
        },
        () => {
          tb = new BTree(undefined, compareBytes)
          for (let i = 0; i < n; i++) tb.set(bytes[i]!, i)
          return n
        },
        rounds,
      ),
    )
    rows.push(
      race(
        `B+tree get (${label})`,
        "string",
        "Uint8Array",
        () => {
          for (let i = 0; i < n; i++) sink += ts.get(strs[order[i]!]!) ?? 0
          return n
        },
        () => {
          for (let i = 0; i < n; i++) sink += tb.get(bytes[order[i]!]!) ?? 0
          return n
        },
        rounds,
      ),
    )
    const scanFrom = strs.slice(0, 1000)
    const scanFromB = bytes.slice(0, 1000)
    rows.push(
      race(
        `B+tree range scan of 100 (${label}), scans/s`,
        "string",
        "Uint8Array",
        () => {
          for (const k of scanFrom) sink += scan(ts, k)
          return scanFrom.length
        },
        () => {
          for (const k of scanFromB) sink += scan(tb, k)
          return scanFromB.length
        },
        rounds,
      ),
    )
  }

  // Hot-path validation: the plain validator against the Effect Schema (which also normalizes numbers).
  const item: Item = {
    pk: { S: "user#0001234" },
    sk: { N: "1700000000123" },
    name: { S: "Ada Lovelace" },
    tags: { SS: ["math", "engines", "poetry"] },
    scores: { NS: ["1", "2.5", "-3"] },
    address: { M: { city: { S: "London" }, zip: { S: "W1" }, geo: { L: [{ N: "51.5" }, { N: "-0.12" }] } } },
    blob: { B: new Uint8Array(64) },
    active: { BOOL: true },
  }
  const decode = Schema.decodeUnknownEither(ItemSchema)
  const m = opts.quick ? 20_000 : 200_000
  rows.push(
    race(
      `validate item (${itemSize(item)} bytes, 8 attributes)`,
      "validateItem",
      "Schema.decodeUnknownEither(ItemSchema)",
      () => {
        for (let i = 0; i < m; i++) if (validateItem(item) !== undefined) sink++
        return m
      },
      () => {
        for (let i = 0; i < m; i++) sink += decode(item)._tag.length
        return m
      },
      rounds,
    ),
  )
  if (sink === 0.5) console.log(sink)
  return {
    suite: "core",
    quick: opts.quick,
    runtime: runtimeName(),
    keys: n,
    rounds,
    rows,
    memory: measureMemory(n),
  }
}

const fmt = (x: number): string =>
  x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0)

/** Renders the report as a Markdown table. */
export const toMarkdown = (rep: BenchReport): string =>
  [
    `Runtime ${rep.runtime}, ${rep.keys} keys, median of ${rep.rounds} interleaved rounds${rep.quick ? " (quick)" : ""}.`,
    "",
    "| workload | ours (a) | ops/s a | peer (b) | ops/s b | a / b |",
    "|---|---|---:|---|---:|---:|",
    ...rep.rows.map(
      (r) =>
        `| ${r.name} | ${r.a} | ${fmt(r.aOpsPerSec)} | ${r.b} | ${fmt(r.bOpsPerSec)} | ${r.ratio.toFixed(2)} |`,
    ),
    ...(rep.memory === undefined
      ? []
      : [
          "",
          "| keys held in an array | string, bytes/key | Uint8Array, bytes/key |",
          "|---|---:|---:|",
          ...rep.memory.map(
            (m) => `| ${m.dataset} | ${m.stringBytes.toFixed(0)} | ${m.bytesBytes.toFixed(0)} |`,
          ),
        ]),
  ].join("\n")

if (import.meta.main) {
  const quick = process.argv.includes("--quick")
  const rep = await runCoreBench({ quick })
  const md = toMarkdown(rep)
  console.log(md)
  const dir = new URL("../../../results/core/", import.meta.url)
  mkdirSync(dir, { recursive: true })
  const base = `keyEncoding-${rep.runtime.split(" ")[0]}${quick ? "-quick" : ""}`
  writeFileSync(new URL(`${base}.json`, dir), JSON.stringify(rep, null, 2))
  writeFileSync(new URL(`${base}.md`, dir), md + "\n")
}
