import { join } from "node:path"
import { Progress } from "./progress.ts"
import { epochMs, wallMs } from "./realtime.ts"
import {
  type Chart,
  machineInfo,
  packageVersions,
  type RunReport,
  type Table,
  writeReport,
  writeResultsIndex,
} from "./report.ts"

/** What a suite gets: run size, seed, where to report progress. */
export interface SuiteContext {
  readonly quick: boolean
  readonly seed: number
  readonly root: string
  progress(label: string, total: number): Progress
  log(line: string): void
}

/** What a suite returns; the runner adds run id, machine, versions and timing. */
export interface SuiteOutput {
  readonly title: string
  readonly summary: string
  readonly config: Record<string, unknown>
  readonly figures: Record<string, number>
  readonly checks: ReadonlyArray<{ name: string; pass: boolean; detail: string }>
  readonly tables: ReadonlyArray<Table>
  readonly charts: ReadonlyArray<Chart>
}

/** An experiment or benchmark suite runnable as `partita bench <name>`. */
export interface Suite {
  readonly name: string
  readonly description: string
  run(ctx: SuiteContext): Promise<SuiteOutput>
}

/** A run id: UTC timestamp (sortable) plus the size. */
export function makeRunId(quick: boolean): string {
  const d = new Date(epochMs())
  const stamp = d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z")
  return `${stamp}${quick ? "-quick" : ""}`
}

/** Runs a suite and writes its report under results/<suite>/<run-id>/. */
export async function runSuite(
  suite: Suite,
  opts: { quick: boolean; seed: number; root: string; resultsDir: string; quiet?: boolean },
): Promise<{ report: RunReport; dir: string }> {
  const started = wallMs()
  const startedAt = new Date(epochMs()).toISOString()
  const ctx: SuiteContext = {
    quick: opts.quick,
    seed: opts.seed,
    root: opts.root,
    progress: (label, total) => new Progress(`${suite.name}: ${label}`, total, !opts.quiet),
    log: (line) => {
      if (!opts.quiet) process.stderr.write(`${suite.name}: ${line}\n`)
    },
  }
  const out = await suite.run(ctx)
  const runId = makeRunId(opts.quick)
  const report: RunReport = {
    schemaVersion: 1,
    suite: suite.name,
    runId,
    title: out.title,
    summary: out.summary,
    startedAt,
    durationMs: Math.round(wallMs() - started),
    quick: opts.quick,
    seed: opts.seed,
    config: out.config,
    versions: packageVersions(opts.root),
    machine: machineInfo(),
    figures: out.figures,
    checks: [...out.checks],
    tables: [...out.tables],
    charts: [...out.charts],
  }
  const dir = join(opts.resultsDir, suite.name, runId)
  writeReport(dir, report)
  writeResultsIndex(opts.resultsDir)
  return { report, dir }
}
