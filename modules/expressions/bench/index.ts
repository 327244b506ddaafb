/**
 * Expression benchmarks: parse throughput (uncached), the cache-hit path, evaluation of a
 * pre-parsed 3-clause condition (target ≥ 1 M/s on Bun), update application and UpdateItem end to
 * end, each against a peer measured in the same run. Tasks run in batches (one task call = BATCH
 * operations, so timer overhead is negligible), interleaved over several rounds; the report gives
 * the median over rounds. Writes JSON and Markdown to results/expressions/.
 *
 * Run: node_modules/.bin/bun modules/expressions/bench/index.ts [--quick]
 */
import { mkdirSync, writeFileSync } from "node:fs"
import type { AttributeValue, Item } from "@partita/core"
import {
  compileCondition,
  compileUpdate,
  ExpressionCache,
  InMemoryItemStore,
  parseCondition,
  parseUpdate,
  putItem,
  updateItem,
} from "@partita/expressions"
import { Either } from "effect"
import { Bench } from "tinybench"

/** One measured task: median operations per second over rounds. */
export interface BenchRow {
  readonly name: string
  readonly opsPerSec: number
  readonly rounds: ReadonlyArray<number>
}

/** A ratio between two rows of the same run. */
export interface BenchRatio {
  readonly name: string
  readonly ratio: number
  readonly note: string
}

/** The report `runExpressionsBench` returns and writes. */
export interface BenchReport {
  readonly suite: "expressions"
  readonly runtime: string
  readonly quick: boolean
  readonly date: string
  readonly rows: ReadonlyArray<BenchRow>
  readonly ratios: ReadonlyArray<BenchRatio>
  readonly target: { readonly name: string; readonly opsPerSec: number; readonly met: boolean }
}

const BATCH = 1000

const CONDITION = "#st = :active AND qty >= :min AND attribute_not_exists(locked)"
const CONDITION_PLACEHOLDERS = {
  names: { "#st": "status" },
  values: { ":active": { S: "active" }, ":min": { N: "5" } },
}
const UPDATE =
  "SET qty = qty - :one, #t = list_append(if_not_exists(#t, :empty), :tag) REMOVE tmp ADD seen :one"
const UPDATE_PLACEHOLDERS = {
  names: { "#t": "tags" },
  values: { ":one": { N: "1" }, ":empty": { L: [] }, ":tag": { L: [{ S: "t" }] } },
}

/** 1,000 items, about half of which satisfy the condition (so both branches run). */
const makeItems = (): Item[] =>
  Array.from({ length: BATCH }, (_, i) => {
    const item: Record<string, AttributeValue> = {
      pk: { S: `user#${i}` },
      status: { S: i % 3 === 0 ? "inactive" : "active" },
      qty: { N: String((i * 7) % 20) },
      name: { S: `name ${i}` },
      tmp: { S: "x" },
    }
    if (i % 10 === 0) item.locked = { BOOL: true }
    return item
  })

/** The peer: the same condition hand-written for exactly this shape (no parser, no placeholders). */
const handWritten = (item: Item): boolean => {
  const st = item.status as { S?: string } | undefined
  const qty = item.qty as { N?: string } | undefined
  return st?.S === "active" && qty?.N !== undefined && Number(qty.N) >= 5 && item.locked === undefined
}

/** "bun 1.4.4", "deno 2.9.6" or "node v22…". */
export const runtimeName = (): string => {
  const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } }
  if (g.Bun !== undefined) return `bun ${g.Bun.version}`
  if (g.Deno !== undefined) return `deno ${g.Deno.version.deno}`
  return `node ${process.version}`
}

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Runs the suite; `quick` keeps it under ~30 s. */
export const runExpressionsBench = async (opts: { quick: boolean }): Promise<BenchReport> => {
  const rounds = opts.quick ? 3 : 7
  const timeMs = opts.quick ? 150 : 500
  const items = makeItems()

  const predicate = Either.getOrThrow(compileCondition(CONDITION, CONDITION_PLACEHOLDERS))
  const update = Either.getOrThrow(compileUpdate(UPDATE, UPDATE_PLACEHOLDERS))
  const cache = new ExpressionCache()
  // One entry and distinct texts: every lookup misses, so the full parse is paid.
  const missCache = new ExpressionCache(1)
  // Distinct texts defeat the cache: the parse itself is measured.
  const conditionTexts = Array.from({ length: BATCH }, (_, i) => `${CONDITION} AND v${i} <> :active`)
  const updateTexts = Array.from({ length: BATCH }, (_, i) => `${UPDATE}, v${i} :one`)
  const store = new InMemoryItemStore({ partitionKey: { name: "pk", type: "S" } })
  for (const item of items) Either.getOrThrow(putItem(store, { Item: item }))

  let sink = 0
  const tasks: ReadonlyArray<[string, () => void]> = [
    [
      "condition: evaluate pre-parsed 3-clause",
      () => {
        for (let i = 0; i < BATCH; i++) if (predicate(items[i]!)) sink++
      },
    ],
    [
      "condition: hand-written JS peer",
      () => {
        for (let i = 0; i < BATCH; i++) if (handWritten(items[i]!)) sink++
      },
    ],
    [
      "condition: parse (uncached)",
      () => {
        for (let i = 0; i < BATCH; i++) if (Either.isRight(parseCondition(conditionTexts[i]!))) sink++
      },
    ],
    [
      "condition: compile uncached (parse, bind, check placeholders)",
      () => {
        for (let i = 0; i < BATCH; i++) {
          if (Either.isRight(compileCondition(conditionTexts[i]!, CONDITION_PLACEHOLDERS, missCache))) sink++
        }
      },
    ],
    [
      "condition: compile via cache hit (parse cached, bind, check placeholders)",
      () => {
        for (let i = 0; i < BATCH; i++)
          if (Either.isRight(compileCondition(CONDITION, CONDITION_PLACEHOLDERS, cache))) sink++
      },
    ],
    [
      "condition: cache hit + bind + evaluate (one request)",
      () => {
        for (let i = 0; i < BATCH; i++) {
          const p = compileCondition(CONDITION, CONDITION_PLACEHOLDERS, cache)
          if (Either.isRight(p) && p.right(items[i]!)) sink++
        }
      },
    ],
    [
      "update: parse (uncached)",
      () => {
        for (let i = 0; i < BATCH; i++) if (Either.isRight(parseUpdate(updateTexts[i]!))) sink++
      },
    ],
    [
      "update: apply pre-parsed (SET arith + list_append, REMOVE, ADD)",
      () => {
        for (let i = 0; i < BATCH; i++) if (Either.isRight(update.apply(items[i]!))) sink++
      },
    ],
    [
      "update: updateItem end to end (cache hit, in-memory store)",
      () => {
        for (let i = 0; i < BATCH; i++) {
          const r = updateItem(
            store,
            {
              Key: { pk: { S: `user#${i}` } },
              UpdateExpression: "SET qty = qty + :one",
              ConditionExpression: "attribute_exists(pk)",
              ExpressionAttributeValues: { ":one": { N: "1" } },
            },
            { cache },
          )
          if (Either.isRight(r)) sink++
        }
      },
    ],
  ]

  const perRound = new Map<string, number[]>(tasks.map(([n]) => [n, []]))
  for (let round = 0; round < rounds; round++) {
    // Interleave: alternate the task order every round.
    const order = round % 2 === 0 ? tasks : [...tasks].reverse()
    const bench = new Bench({ time: timeMs, warmupTime: 50, iterations: 5 })
    for (const [name, fn] of order) bench.add(name, fn, { async: false })
    bench.runSync()
    for (const task of bench.tasks) {
      const r = task.result
      if (r.state !== "completed") throw new Error(`${task.name}: ${r.state}`)
      perRound.get(task.name)!.push((BATCH * 1000) / r.latency.p50!)
    }
  }
  if (sink === -1) console.log(sink)

  const rows: BenchRow[] = tasks.map(([name]) => {
    const xs = perRound.get(name)!
    return { name, opsPerSec: median(xs), rounds: xs }
  })
  const ops = (prefix: string) => rows.find((r) => r.name.startsWith(prefix))!.opsPerSec
  const ratios: BenchRatio[] = [
    {
      name: "pre-parsed condition / hand-written JS",
      ratio: ops("condition: evaluate") / ops("condition: hand-written"),
      note: "cost of the general evaluator against code written for one shape",
    },
    {
      name: "cache-hit compile / uncached compile",
      ratio: ops("condition: compile via cache hit") / ops("condition: compile uncached"),
      note: "what the text-keyed LRU saves per request (binding is paid either way)",
    },
    {
      name: "pre-parsed evaluate / full request (cache hit + bind + evaluate)",
      ratio: ops("condition: evaluate") / ops("condition: cache hit + bind"),
      note: "binding placeholders per request dominates a single evaluation",
    },
  ]
  const evalOps = ops("condition: evaluate")
  const runtime = runtimeName()
  return {
    suite: "expressions",
    runtime,
    quick: opts.quick,
    date: new Date().toISOString(),
    rows,
    ratios,
    target: {
      name: "≥ 1,000,000 evaluations/s of a pre-parsed 3-clause condition",
      opsPerSec: evalOps,
      met: evalOps >= 1_000_000,
    },
  }
}

const fmt = (n: number): string =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(0)

/** Markdown table of a report. */
export const toMarkdown = (r: BenchReport): string =>
  [
    `# expressions benchmark (${r.runtime}${r.quick ? ", quick" : ""}, ${r.date})`,
    "",
    `Condition: \`${CONDITION}\`  `,
    `Update: \`${UPDATE}\``,
    "",
    "| task | ops/s (median) | rounds |",
    "|---|---:|---|",
    ...r.rows.map((x) => `| ${x.name} | ${fmt(x.opsPerSec)} | ${x.rounds.map(fmt).join(", ")} |`),
    "",
    "| ratio | value | meaning |",
    "|---|---:|---|",
    ...r.ratios.map((x) => `| ${x.name} | ${x.ratio.toFixed(2)}x | ${x.note} |`),
    "",
    `Target ${r.target.name}: ${fmt(r.target.opsPerSec)}/s — ${r.target.met ? "met" : "NOT met"}.`,
    "",
  ].join("\n")

if (import.meta.main) {
  const quick = process.argv.includes("--quick")
  const report = await runExpressionsBench({ quick })
  const dir = new URL("../../../results/expressions/", import.meta.url).pathname
  mkdirSync(dir, { recursive: true })
  const runtime = runtimeName().split(" ")[0]
  const stem = `expressions${runtime === "bun" ? "" : `-${runtime}`}${quick ? "-quick" : ""}`
  writeFileSync(`${dir}${stem}.json`, `${JSON.stringify(report, null, 2)}\n`)
  writeFileSync(`${dir}${stem}.md`, toMarkdown(report))
  console.log(toMarkdown(report))
}
