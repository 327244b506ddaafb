/**
 * `micro` — the modules' own micro-benchmarks gathered in one report: every module that exports a
 * `run<Name>Bench({ quick })` from `modules/<m>/bench/index.ts` is run (in quick form under
 * `--quick`), and whatever it returns is flattened into report tables and figures.
 *
 * Module benchmarks write their own files under `results/<module>/` when run directly; here the
 * harness's report is the record, so those files are restored to what they were before the run
 * (a quick run never overwrites a module's published figures).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { wallMs } from "../realtime.ts"
import type { Table } from "../report.ts"
import type { Suite, SuiteContext, SuiteOutput } from "../suite.ts"
import { type Check, check, sig, table } from "./common.ts"

/** Modules looked for, in dependency order. */
export const MICRO_MODULES = [
  "core",
  "sim",
  "btree",
  "partitioner",
  "admission",
  "memds",
  "paxos",
  "expressions",
  "scrubber",
] as const

/**
 * Modules left out of `--quick` because even their quick benchmark takes too long for the CI
 * budget of `bench all --quick` (measured on this 2-core machine).
 */
export const MICRO_QUICK_SKIP: ReadonlySet<string> = new Set<string>([])

/** Most rows shown per table (long module tables are cut, the full data is in the module's files). */
const TABLE_ROWS_MAX = 60
/** Deepest nesting walked when flattening a report. */
const DEPTH_MAX = 4

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v)
}

function isCell(v: unknown): v is string | number | boolean {
  return typeof v === "number" || typeof v === "string" || typeof v === "boolean"
}

function cellOf(v: unknown): string | number {
  if (typeof v === "number") return Number.isFinite(v) ? sig(v, 4) : String(v)
  if (typeof v === "boolean") return v ? "yes" : "no"
  return String(v).slice(0, 120)
}

/** Flattens a module's benchmark report into tables (arrays of records, report tables) and figures. */
export function flattenBench(
  module: string,
  report: unknown,
): { tables: Table[]; figures: Record<string, number>; summary?: string } {
  const tables: Table[] = []
  const figures: Record<string, number> = {}
  let summary: string | undefined
  const walk = (v: unknown, path: string[], depth: number): void => {
    if (depth > DEPTH_MAX) return
    if (typeof v === "number" && Number.isFinite(v)) {
      if (path.length > 0) figures[`${module}.${path.join(".")}`] = sig(v, 6)
      return
    }
    if (Array.isArray(v)) {
      const records = v.filter(isPlainObject)
      if (records.length > 0 && records.length === v.length) {
        // A report-style table ({ title, columns, rows }) is taken as is.
        if (records.every((r) => Array.isArray(r.columns) && Array.isArray(r.rows))) {
          for (const r of records)
            tables.push(
              table(
                `${module}: ${String(r.title ?? path.join("."))}`,
                (r.columns as unknown[]).map(String),
                (r.rows as unknown[][]).slice(0, TABLE_ROWS_MAX).map((row) => row.map(cellOf)),
              ),
            )
          return
        }
        const cols: string[] = []
        for (const r of records)
          for (const [k, x] of Object.entries(r)) if (isCell(x) && !cols.includes(k)) cols.push(k)
        if (cols.length > 0)
          tables.push(
            table(
              `${module}: ${path.join(".") || "results"}`,
              cols,
              records
                .slice(0, TABLE_ROWS_MAX)
                .map((r) => cols.map((c) => (r[c] === undefined ? "" : cellOf(r[c])))),
              records.length > TABLE_ROWS_MAX
                ? `first ${TABLE_ROWS_MAX} of ${records.length} rows`
                : undefined,
            ),
          )
        // Nested records inside the rows are not walked further: the table holds them.
      }
      return
    }
    if (isPlainObject(v)) {
      const numeric = Object.entries(v).filter(([, x]) => typeof x === "number")
      if (depth > 0 && numeric.length >= 3 && numeric.length === Object.keys(v).length) {
        // A flat record of numbers reads better as a two-column table.
        tables.push(
          table(
            `${module}: ${path.join(".")}`,
            ["name", "value"],
            numeric.map(([k, x]) => [k, cellOf(x)]),
          ),
        )
      }
      for (const [k, x] of Object.entries(v)) {
        if (k === "markdown" || k === "date" || k === "machine") continue
        if (depth === 0 && k === "summary" && typeof x === "string") summary = x
        walk(x, [...path, k], depth + 1)
      }
    }
  }
  walk(report as Json, [], 0)
  return { tables, figures, ...(summary ? { summary } : {}) }
}

/** Every file under `dir` with its bytes (to undo a benchmark's writes afterwards). */
function snapshotDir(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  if (!existsSync(dir)) return out
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else out.set(p, readFileSync(p))
    }
  }
  walk(dir)
  return out
}

function restoreDir(dir: string, before: Map<string, Buffer>, existed: boolean): void {
  if (!existed) {
    rmSync(dir, { recursive: true, force: true })
    return
  }
  const now = snapshotDir(dir)
  for (const p of now.keys()) if (!before.has(p)) rmSync(p, { force: true })
  for (const [p, bytes] of before) {
    const cur = now.get(p)
    if (cur === undefined || !cur.equals(bytes)) {
      mkdirSync(join(p, ".."), { recursive: true })
      writeFileSync(p, bytes)
    }
  }
}

/** One module's benchmark run. */
export interface MicroRun {
  readonly module: string
  readonly status: "ran" | "missing" | "skipped" | "failed"
  readonly seconds: number
  readonly detail: string
  readonly report?: unknown
}

/** Finds and runs one module's `run…Bench`. */
export async function runModuleBench(root: string, module: string, quick: boolean): Promise<MicroRun> {
  const file = join(root, "modules", module, "bench", "index.ts")
  if (!existsSync(file)) return { module, status: "missing", seconds: 0, detail: "no bench/index.ts" }
  if (quick && MICRO_QUICK_SKIP.has(module))
    return { module, status: "skipped", seconds: 0, detail: "quick benchmark too long for the CI budget" }
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>
  const entry = Object.entries(mod).find(([k, v]) => /^run\w*Bench$/.test(k) && typeof v === "function")
  if (!entry) return { module, status: "missing", seconds: 0, detail: "no run…Bench export" }
  const [name, fn] = entry as [string, (o: { quick: boolean }) => unknown]
  const resultsDir = join(root, "results", module)
  const existed = existsSync(resultsDir)
  const before = snapshotDir(resultsDir)
  const t0 = wallMs()
  try {
    const report = await fn({ quick })
    return { module, status: "ran", seconds: (wallMs() - t0) / 1000, detail: name, report }
  } catch (e) {
    return {
      module,
      status: "failed",
      seconds: (wallMs() - t0) / 1000,
      detail: `${name}: ${e instanceof Error ? e.message : String(e)}`,
    }
  } finally {
    restoreDir(resultsDir, before, existed)
  }
}

/** Runs the suite. */
export async function microSuiteRun(ctx: SuiteContext): Promise<SuiteOutput> {
  const runs: MicroRun[] = []
  const progress = ctx.progress("module benchmarks", MICRO_MODULES.length)
  for (const m of MICRO_MODULES) {
    ctx.log(`${m}…`)
    runs.push(await runModuleBench(ctx.root, m, ctx.quick))
    progress.tick()
  }
  progress.finish()
  const tables: Table[] = [
    table(
      "Module benchmarks",
      ["module", "status", "seconds", "detail"],
      runs.map((r) => [r.module, r.status, sig(r.seconds, 3), r.detail]),
      "Each module's own `run…Bench({ quick })`, run in this process one after the other; ratios inside a module's tables compare tasks measured in the same run.",
    ),
  ]
  const figures: Record<string, number> = {}
  const summaries: string[] = []
  for (const r of runs) {
    if (r.status !== "ran") continue
    const flat = flattenBench(r.module, r.report)
    tables.push(...flat.tables)
    Object.assign(figures, flat.figures)
    if (flat.summary) summaries.push(`${r.module}: ${flat.summary}`)
  }
  const checks: Check[] = runs
    .filter((r) => r.status === "ran" || r.status === "failed")
    .map((r) =>
      check(`${r.module} benchmark runs`, r.status === "ran", `${r.detail} (${sig(r.seconds, 3)} s)`),
    )
  const ran = runs.filter((r) => r.status === "ran").map((r) => r.module)
  return {
    title: "Micro-benchmarks of the modules",
    summary:
      `Gathered ${ran.length} module benchmarks (${ran.join(", ")})${ctx.quick ? " in quick form" : ""}. ${summaries.join(" ")}`.trim(),
    config: { modules: [...MICRO_MODULES], quickSkip: [...MICRO_QUICK_SKIP] },
    figures,
    checks,
    tables,
    charts: [],
  }
}

/** The suite. */
export const microSuite: Suite = {
  name: "micro",
  description: "the modules' own micro-benchmarks (run…Bench from modules/<m>/bench), gathered",
  run: (ctx) => microSuiteRun(ctx),
}
