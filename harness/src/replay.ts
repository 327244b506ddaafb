import { readFileSync } from "node:fs"
import { join } from "node:path"
import { decodeWorkloadConfig, keyName, Workload } from "@partita/workloads"
import { openLoop } from "./loadgen.ts"
import { Recorder } from "./measure.ts"
import { realClock } from "./realtime.ts"
import { runSuite, type Suite } from "./suite.ts"
import { TARGETS } from "./targets.ts"
import { intendedStarts } from "@partita/workloads"
import { readTrace, replayStarts, type TraceEntry, writeTrace } from "./trace.ts"
import { latencyTable, percentileChart, timeSeriesChart } from "./charts.ts"
import { Prng } from "@partita/sim"

/** Replays a trace file open-loop at `speed` against a target and writes a report under results/replay/. */
export async function runReplay(opts: {
  file: string
  speed: number
  root: string
  resultsDir: string
  quick: boolean
  target?: string
}): Promise<number> {
  const { header, entries } = readTrace(opts.file)
  const targetName = opts.target ?? "memory"
  const factory = TARGETS[targetName]
  if (!factory) {
    console.error(`partita: unknown target '${targetName}' (have: ${Object.keys(TARGETS).join(", ")})`)
    return 2
  }
  const limit = opts.quick ? Math.min(entries.length, 10_000) : entries.length
  const suite: Suite = {
    name: "replay",
    description: `replay of ${header.name}`,
    async run(ctx) {
      const target = await factory()
      const recorder = new Recorder(intervalFor(entries, opts.speed))
      const progress = ctx.progress("requests", limit)
      const list = entries.slice(0, limit)
      await openLoop({
        clock: realClock,
        starts: replayStarts(list, opts.speed),
        issue: (i) => {
          const e = list[i]!
          return { op: e.op, result: target.send(e) }
        },
        recorder,
        bounds: { maxOps: limit, maxDurationMs: Number.POSITIVE_INFINITY },
        progress,
      })
      progress.finish()
      await target.close?.()
      const s = recorder.summary()
      return {
        title: `Replay of ${header.name} against ${target.name}`,
        summary: `${recorder.ok} ok, ${recorder.throttled} throttled, ${recorder.errors} errors; p50 ${s.p50Us} µs, p99 ${s.p99Us} µs (open loop, latency from intended start).`,
        config: {
          trace: opts.file,
          speed: Number.isFinite(opts.speed) ? opts.speed : "max",
          target: target.name,
          entries: limit,
        },
        figures: {
          ok: recorder.ok,
          throttled: recorder.throttled,
          errors: recorder.errors,
          p50Us: s.p50Us,
          p99Us: s.p99Us,
          p999Us: s.p999Us,
        },
        checks: [],
        tables: [latencyTable(recorder)],
        charts: [percentileChart("Latency percentiles", [["all", recorder]]), timeSeriesChart(recorder)],
      }
    },
  }
  const { dir } = await runSuite(suite, {
    quick: opts.quick,
    seed: 0,
    root: opts.root,
    resultsDir: opts.resultsDir,
  })
  console.log(`replayed ${limit} requests → ${dir}/report.{json,md,html}`)
  return 0
}

function intervalFor(entries: ReadonlyArray<TraceEntry>, speed: number): number {
  const span = Number.isFinite(speed) ? (entries[entries.length - 1]?.t ?? 0) / speed : 0
  return span > 0 ? Math.max(10, Math.ceil(span / 60)) : 1000
}

/** Generates a trace from a workload file (JSON, decoded with its schema). */
export function recordWorkload(input: string, output: string): number {
  let json: unknown
  try {
    json = JSON.parse(readFileSync(input, "utf8"))
  } catch (e) {
    console.error(`partita: cannot read ${input}: ${(e as Error).message}`)
    return 2
  }
  const cfg = decodeWorkloadConfig(json)
  if (cfg._tag === "Left") {
    console.error(`partita: ${input} is not a valid workload:\n${cfg.left}`)
    return 2
  }
  const w = new Workload(cfg.right, new Prng(cfg.right.seed))
  const entries: TraceEntry[] = []
  for (const t of intendedStarts(cfg.right.shape, cfg.right.durationMs, cfg.right.maxOps)) {
    const op = w.next()
    entries.push({
      t: Math.round(t * 1000) / 1000,
      op: op.op,
      table: cfg.right.table,
      key: keyName(op.key),
      size: op.size,
    })
  }
  writeTrace(output, cfg.right.name, entries, `generated from ${join(input)}`)
  console.log(`wrote ${entries.length} requests to ${output}`)
  return 0
}
