import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs"
import { cpus, totalmem, platform, arch } from "node:os"
import { join } from "node:path"
import { Either, ParseResult, Schema } from "effect"
import { renderHtml } from "./html.ts"

/** A table in a report: column names and rows of cells. */
export const TableSchema = Schema.Struct({
  title: Schema.String,
  columns: Schema.Array(Schema.String),
  rows: Schema.Array(Schema.Array(Schema.Union(Schema.String, Schema.Number))),
  note: Schema.optional(Schema.String),
})
export type Table = typeof TableSchema.Type

/** A series of (x, y) points. */
export const SeriesSchema = Schema.Struct({
  name: Schema.String,
  points: Schema.Array(Schema.Tuple(Schema.Number, Schema.Number)),
})
export type Series = typeof SeriesSchema.Type

/** A chart: a line chart (optionally log-scale y or x) or a heat map (rows × columns of values). */
export const ChartSchema = Schema.Union(
  Schema.Struct({
    kind: Schema.Literal("line"),
    title: Schema.String,
    xLabel: Schema.String,
    yLabel: Schema.String,
    logY: Schema.optional(Schema.Boolean),
    percentileX: Schema.optional(Schema.Boolean),
    series: Schema.Array(SeriesSchema),
    markers: Schema.optional(Schema.Array(Schema.Struct({ x: Schema.Number, label: Schema.String }))),
  }),
  Schema.Struct({
    kind: Schema.Literal("heatmap"),
    title: Schema.String,
    xLabel: Schema.String,
    yLabel: Schema.String,
    rowLabels: Schema.Array(Schema.String),
    columnLabels: Schema.Array(Schema.String),
    values: Schema.Array(Schema.Array(Schema.Number)),
  }),
)
export type Chart = typeof ChartSchema.Type

/** The machine and runtime a run was measured on. */
export const MachineSchema = Schema.Struct({
  cpuModel: Schema.String,
  cores: Schema.Number,
  memoryBytes: Schema.Number,
  platform: Schema.String,
  runtime: Schema.String,
  runtimeVersion: Schema.String,
})
export type Machine = typeof MachineSchema.Type

/** Everything one suite run reports: the contents of report.json. */
export const RunReportSchema = Schema.Struct({
  schemaVersion: Schema.Literal(1),
  suite: Schema.String,
  runId: Schema.String,
  title: Schema.String,
  summary: Schema.String,
  startedAt: Schema.String,
  durationMs: Schema.Number,
  quick: Schema.Boolean,
  seed: Schema.Number,
  config: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  versions: Schema.Record({ key: Schema.String, value: Schema.String }),
  machine: MachineSchema,
  figures: Schema.Record({ key: Schema.String, value: Schema.Number }),
  checks: Schema.Array(Schema.Struct({ name: Schema.String, pass: Schema.Boolean, detail: Schema.String })),
  tables: Schema.Array(TableSchema),
  charts: Schema.Array(ChartSchema),
})
export type RunReport = typeof RunReportSchema.Type

/** Validates parsed report.json content; the error names what is wrong. */
export function validateReport(input: unknown): Either.Either<RunReport, string> {
  return Schema.decodeUnknownEither(RunReportSchema)(input).pipe(
    Either.mapLeft((e) => ParseResult.TreeFormatter.formatErrorSync(e)),
  )
}

/** The machine this process runs on. */
export function machineInfo(): Machine {
  const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } }
  const runtime = g.Bun ? "bun" : g.Deno ? "deno" : "node"
  const runtimeVersion = g.Bun ? g.Bun.version : g.Deno ? g.Deno.version.deno : process.version
  const cpu = cpus()
  return {
    cpuModel: cpu[0]?.model ?? "unknown",
    cores: cpu.length,
    memoryBytes: totalmem(),
    platform: `${platform()}-${arch()}`,
    runtime,
    runtimeVersion,
  }
}

/** Versions of the packages a report depends on, read from node_modules. */
export function packageVersions(root: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of ["effect", "hdr-histogram-js", "tinybench", "fflate", "sorted-btree", "js-sdsl"]) {
    try {
      out[name] = JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version
    } catch {
      // not installed: left out of the report
    }
  }
  try {
    out.partita = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version
  } catch {
    // no root package.json
  }
  return out
}

function cell(v: string | number): string {
  if (typeof v === "number") return Number.isInteger(v) ? v.toLocaleString("en-US") : v.toPrecision(4)
  return v.replaceAll("|", "\\|")
}

/** Renders a report as Markdown tables. */
export function renderMarkdown(r: RunReport): string {
  const lines: string[] = [`# ${r.title}`, "", r.summary, ""]
  lines.push(
    `Suite \`${r.suite}\`, run \`${r.runId}\`${r.quick ? " (quick)" : ""}, seed ${r.seed}, ${(r.durationMs / 1000).toFixed(1)} s.`,
  )
  lines.push(
    `Machine: ${r.machine.cpuModel}, ${r.machine.cores} cores, ${r.machine.runtime} ${r.machine.runtimeVersion}, ${r.machine.platform}.`,
    "",
  )
  if (r.checks.length > 0) {
    lines.push("## Checks", "", "| check | result | detail |", "|---|---|---|")
    for (const c of r.checks)
      lines.push(`| ${cell(c.name)} | ${c.pass ? "pass" : "**FAIL**"} | ${cell(c.detail)} |`)
    lines.push("")
  }
  for (const t of r.tables) {
    lines.push(`## ${t.title}`, "")
    if (t.note) lines.push(t.note, "")
    lines.push(`| ${t.columns.map(cell).join(" | ")} |`, `|${t.columns.map(() => "---").join("|")}|`)
    for (const row of t.rows) lines.push(`| ${row.map(cell).join(" | ")} |`)
    lines.push("")
  }
  if (Object.keys(r.figures).length > 0) {
    lines.push("## Figures", "", "| figure | value |", "|---|---|")
    for (const [k, v] of Object.entries(r.figures)) lines.push(`| ${k} | ${cell(v)} |`)
    lines.push("")
  }
  if (r.charts.length > 0)
    lines.push(`Charts: see \`report.html\` (${r.charts.map((c) => c.title).join("; ")}).`, "")
  return lines.join("\n")
}

/** Writes report.json, report.md and report.html into `dir` and returns the paths. */
export function writeReport(dir: string, r: RunReport): { json: string; md: string; html: string } {
  const valid = validateReport(r)
  if (valid._tag === "Left") throw new Error(`report does not match its schema: ${valid.left}`)
  mkdirSync(dir, { recursive: true })
  const json = join(dir, "report.json")
  const md = join(dir, "report.md")
  const html = join(dir, "report.html")
  writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`)
  writeFileSync(md, renderMarkdown(r))
  writeFileSync(html, renderHtml(r))
  return { json, md, html }
}

/** Rewrites results/README.md: an index of every published (full) run, newest first per suite. */
export function writeResultsIndex(resultsDir: string): void {
  const rows: string[] = []
  if (!existsSync(resultsDir)) return
  for (const suite of readdirSync(resultsDir, { withFileTypes: true })) {
    if (!suite.isDirectory()) continue
    const suiteDir = join(resultsDir, suite.name)
    const runs = readdirSync(suiteDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(suiteDir, d.name, "report.json")))
      .map((d) => d.name)
      .sort()
      .reverse()
    for (const run of runs) {
      try {
        const r = JSON.parse(readFileSync(join(suiteDir, run, "report.json"), "utf8")) as RunReport
        // Quick runs are not published (git ignores them): the index lists full runs only, so a
        // quick run leaves the committed index unchanged.
        if (r.quick) continue
        const checks = r.checks.length ? `${r.checks.filter((c) => c.pass).length}/${r.checks.length}` : "-"
        rows.push(
          `| ${suite.name} | [${run}](${suite.name}/${run}/report.md) | [html](${suite.name}/${run}/report.html) | ${r.quick ? "quick" : "full"} | ${checks} | ${r.machine.runtime} ${r.machine.runtimeVersion} | ${r.title.replaceAll("|", "\\|")} |`,
        )
      } catch {
        // a run directory without a readable report is skipped
      }
    }
  }
  const text = [
    "# Published results",
    "",
    "Each run of `partita bench <suite>` writes `results/<suite>/<run-id>/` with `report.json` (all figures,",
    "config, seed, versions, machine), `report.md` (tables) and `report.html` (self-contained, SVG charts).",
    "Module micro-benchmarks write their own JSON + Markdown under `results/<module>/`. The repository",
    "keeps the newest full run of each suite; earlier runs are in its history (`git log -- results/<suite>`).",
    "",
    "| suite | run | charts | size | checks passed | runtime | title |",
    "|---|---|---|---|---|---|---|",
    ...rows,
    "",
  ].join("\n")
  writeFileSync(join(resultsDir, "README.md"), text)
}
