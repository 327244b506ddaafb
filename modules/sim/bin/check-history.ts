#!/usr/bin/env bun
/**
 * check-history: decide whether a recorded history is linearizable.
 *
 *   bun modules/sim/bin/check-history.ts --model register|kv [--timeout-ms N] [--steps-max N] [--verbose] <file>
 *
 * Prints `linearizable` (exit 0), `not linearizable` (exit 1), or `unknown` / an error (exit 2).
 * Formats: Jepsen etcd logs (register with read/write/cas) and EDN-per-line kv histories.
 */
import { readFileSync } from "node:fs"
import { checkHistory, modelByName, parseHistory } from "../src/index.ts"

const USAGE = "usage: check-history --model register|kv [--timeout-ms N] [--steps-max N] [--verbose] <file>"

/** Run the CLI on `argv` (without the runtime and script); returns the exit code. */
export const main = (argv: readonly string[], out: (s: string) => void = console.log): number => {
  let model: string | undefined
  let file: string | undefined
  let timeoutMs: number | undefined
  let stepsMax: number | undefined
  let verbose = false
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === "--model") model = argv[++i]
    else if (a.startsWith("--model=")) model = a.slice(8)
    else if (a === "--timeout-ms") timeoutMs = Number(argv[++i])
    else if (a === "--steps-max") stepsMax = Number(argv[++i])
    else if (a === "--verbose" || a === "-v") verbose = true
    else if (a === "--help" || a === "-h") {
      out(USAGE)
      return 0
    } else if (a.startsWith("-")) {
      out(`unknown option ${a}\n${USAGE}`)
      return 2
    } else file = a
  }
  const m = model === undefined ? undefined : modelByName(model)
  if (m === undefined || file === undefined) {
    out(USAGE)
    return 2
  }
  let events: ReturnType<typeof parseHistory>
  try {
    events = parseHistory(readFileSync(file, "utf8"))
  } catch (e) {
    out(`bad input: ${e instanceof Error ? e.message : String(e)}`)
    return 2
  }
  let r: ReturnType<typeof checkHistory>
  try {
    r = checkHistory(m, events, {
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(stepsMax === undefined ? {} : { stepsMax }),
    })
  } catch (e) {
    out(`bad input: ${e instanceof Error ? e.message : String(e)}`)
    return 2
  }
  if (verbose) {
    out(`model ${m.name}, ${events.length} events, ${r.partitions} partitions, ${r.steps} search steps`)
    if (r.longestPrefix !== undefined) {
      out(`failing partition: ${r.failedPartition?.length} ops; longest linearizable prefix:`)
      for (const l of r.longestPrefix) out(`  ${l}`)
    }
  }
  if (r.verdict === "linearizable") {
    out("linearizable")
    return 0
  }
  if (r.verdict === "not-linearizable") {
    out("not linearizable")
    return 1
  }
  out("unknown")
  return 2
}

if (import.meta.main) process.exit(main(process.argv.slice(2)))
