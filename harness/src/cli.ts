#!/usr/bin/env bun
/**
 * `partita` — one entry for users:
 *   partita bench <suite|all> [--quick] [--seed N] [--results DIR]
 *   partita bench --list
 *   partita replay <trace.jsonl.gz|trace.csv> [--speed 1|2|max] [--quick]
 *   partita record <workload.json> <out.jsonl.gz>
 *   partita report <run-dir|report.json>
 *   partita check-history --model register|kv <file>
 *   partita serve [--data DIR] [--port N] [--host ADDR] [--nodes N] [--routers N]
 * Exit codes: 0 success; 1 a check failed (a suite check, a history not linearizable); 2 bad usage or input.
 */
import { existsSync, readFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { runReplay, recordWorkload } from "./replay.ts"
import { validateReport, writeReport } from "./report.ts"
import { runSuite } from "./suite.ts"
import { SUITES } from "./suites/index.ts"

const ROOT = resolve(join(import.meta.dirname, "../.."))
const USAGE = `usage:
  partita bench <suite|all> [--quick] [--seed N] [--results DIR]   run a suite, write results/<suite>/<run-id>/
  partita bench --list                                              list suites
  partita replay <trace> [--speed N|max] [--quick]                   replay a trace (.jsonl.gz or .csv)
  partita record <workload.json> <out.jsonl.gz>                      generate a trace from a workload file
  partita report <run-dir|report.json>                               validate and re-render a report
  partita check-history --model register|kv <file>                  check a history for linearizability
  partita serve [--data DIR] [--port N] [--host ADDR] [--nodes N]    serve DynamoDB's API over TCP (default 127.0.0.1:8000)`

/** Parsed flags: --name value, --flag, and positionals. */
function parseArgs(argv: string[]): { pos: string[]; flags: Map<string, string | true> } {
  const pos: string[] = []
  const flags = new Map<string, string | true>()
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a.startsWith("--")) {
      const [k, v] = a.slice(2).split("=", 2) as [string, string | undefined]
      if (v !== undefined) flags.set(k, v)
      else if (
        ["seed", "results", "speed", "model", "data", "port", "host", "nodes", "routers"].includes(k) &&
        i + 1 < argv.length
      )
        flags.set(k, argv[++i]!)
      else flags.set(k, true)
    } else pos.push(a)
  }
  return { pos, flags }
}

function fail(msg: string): never {
  console.error(`partita: ${msg}`)
  process.exit(2)
}

async function bench(pos: string[], flags: Map<string, string | true>): Promise<number> {
  if (flags.has("list") || pos.length === 0) {
    console.log("suites:")
    for (const s of SUITES) console.log(`  ${s.name.padEnd(16)} ${s.description}`)
    console.log("  all              every suite above, in order")
    return pos.length === 0 && !flags.has("list") ? 2 : 0
  }
  const name = pos[0]!
  const chosen = name === "all" ? SUITES : SUITES.filter((s) => s.name === name)
  if (chosen.length === 0) fail(`unknown suite '${name}' (try: partita bench --list)`)
  const quick = flags.has("quick")
  const seedFlag = flags.get("seed")
  const seed = typeof seedFlag === "string" ? Number(seedFlag) : 42
  if (!Number.isInteger(seed)) fail(`--seed must be an integer, got '${seedFlag}'`)
  const resultsFlag = flags.get("results")
  const resultsDir = typeof resultsFlag === "string" ? resolve(resultsFlag) : join(ROOT, "results")
  let failedChecks = 0
  for (const suite of chosen) {
    console.log(`== ${suite.name}${quick ? " (quick)" : ""}: ${suite.description}`)
    const { report, dir } = await runSuite(suite, { quick, seed, root: ROOT, resultsDir })
    const bad = report.checks.filter((c) => !c.pass)
    failedChecks += bad.length
    for (const c of report.checks) console.log(`   ${c.pass ? "pass" : "FAIL"}  ${c.name}: ${c.detail}`)
    console.log(`   ${(report.durationMs / 1000).toFixed(1)} s → ${dir}/report.{json,md,html}`)
  }
  return failedChecks > 0 ? 1 : 0
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  const { pos, flags } = parseArgs(rest)
  switch (cmd) {
    case "bench":
      return bench(pos, flags)
    case "replay": {
      const file = pos[0] ?? fail("replay needs a trace file")
      const speedFlag = flags.get("speed")
      const speed =
        speedFlag === "max" ? Number.POSITIVE_INFINITY : typeof speedFlag === "string" ? Number(speedFlag) : 1
      if (!(speed > 0)) fail(`--speed must be a positive number or 'max', got '${speedFlag}'`)
      return runReplay({
        file: resolve(file),
        speed,
        root: ROOT,
        resultsDir: join(ROOT, "results"),
        quick: flags.has("quick"),
      })
    }
    case "record": {
      const [input, output] = pos
      if (!input || !output) fail("record needs <workload.json> <out.jsonl.gz>")
      return recordWorkload(resolve(input), resolve(output))
    }
    case "report": {
      const target = pos[0] ?? fail("report needs a run directory or report.json")
      const file = target.endsWith(".json") ? target : join(target, "report.json")
      if (!existsSync(file)) fail(`no report at ${file}`)
      const parsed = validateReport(JSON.parse(readFileSync(file, "utf8")))
      if (parsed._tag === "Left") {
        console.error(`partita: ${file} does not match the report schema:\n${parsed.left}`)
        return 2
      }
      const paths = writeReport(dirname(file), parsed.right)
      const r = parsed.right
      console.log(`${r.title} (${r.suite}, ${r.runId}): ${r.summary}`)
      for (const c of r.checks) console.log(`  ${c.pass ? "pass" : "FAIL"}  ${c.name}: ${c.detail}`)
      console.log(`re-rendered ${paths.md} and ${paths.html}`)
      return r.checks.some((c) => !c.pass) ? 1 : 0
    }
    case "serve": {
      const { serveMain } = await import("./serve.ts")
      return serveMain(flags)
    }
    case "check-history": {
      const { checkHistoryMain } = await import("./check-history.ts")
      return checkHistoryMain(rest)
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(USAGE)
      return cmd === undefined ? 2 : 0
    default:
      console.error(`partita: unknown command '${cmd}'\n${USAGE}`)
      return 2
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(`partita: ${e instanceof Error ? e.message : String(e)}`)
      process.exit(2)
    },
  )
}
export { main }
