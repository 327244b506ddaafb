/**
 * Runs the `partita check-history` CLI over every labelled history in shared/data/linearizability
 * and fails if any verdict disagrees with its label. Used by CI.
 */
import { spawnSync } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

const dir = process.argv[2] ?? join(import.meta.dirname, "../workloads/data/linearizability")
const cli = join(import.meta.dirname, "../modules/sim/bin/check-history.ts")
const cases: Array<{ file: string; model: string; expect: boolean }> = []
for (const line of readFileSync(join(dir, "etcd/labels.tsv"), "utf8").split("\n")) {
  const [name, label] = line.trim().split(/\s+/)
  // the in-repo copy names the etcd histories *.txt (the shared original: *.log)
  if (!name || !label || !/\.(log|txt)$/.test(name)) continue
  cases.push({ file: join(dir, "etcd", name), model: "register", expect: label === "linearizable" })
}
for (const name of readdirSync(join(dir, "kv"))) {
  if (!name.endsWith(".txt")) continue
  cases.push({ file: join(dir, "kv", name), model: "kv", expect: name.includes("-ok") })
}
let wrong = 0
const started = process.hrtime.bigint()
for (const c of cases) {
  const r = spawnSync(process.execPath, [cli, "--model", c.model, c.file], { encoding: "utf8" })
  const verdict = r.status === 0 ? true : r.status === 1 ? false : undefined
  if (verdict !== c.expect) {
    wrong++
    console.error(
      `MISMATCH ${c.file}: expected ${c.expect ? "linearizable" : "not linearizable"}, got exit ${r.status}: ${r.stdout.trim()} ${r.stderr.trim()}`,
    )
  }
}
const ms = Number(process.hrtime.bigint() - started) / 1e6
console.log(`check-history: ${cases.length - wrong}/${cases.length} labels agree (${ms.toFixed(0)} ms)`)
process.exit(wrong === 0 ? 0 : 1)
