/**
 * Renders the README's benchmark section from results/partitioner/bench-{bun,deno}.json
 * (Bun and Deno side by side) and replaces the text between the bench markers in README.md.
 *
 *   node_modules/.bin/bun modules/partitioner/bench/readme-table.ts
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import type { BenchReport, BenchRow } from "./index.ts"

const results = new URL("../../../results/partitioner/", import.meta.url)
const readme = new URL("../README.md", import.meta.url)

function load(runtime: string): BenchReport | undefined {
  const file = new URL(`bench-${runtime}.json`, results)
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as BenchReport) : undefined
}

function cell(r: BenchRow | undefined): string {
  if (r === undefined) return "–"
  if (r.unit === "ms") return `${r.perOp.toFixed(0)} ms`
  const ops =
    r.opsPerSec >= 1e6 ? `${(r.opsPerSec / 1e6).toFixed(1)} M/s` : `${(r.opsPerSec / 1e3).toFixed(0)} k/s`
  const ratio = r.ratio === undefined ? "" : ` (${r.ratio.toFixed(2)}x)`
  return `${r.perOp.toFixed(1)} ns, ${ops}${ratio}`
}

export function render(): string {
  const bun = load("bun")
  const deno = load("deno")
  const keyOf = (r: BenchRow) => `${r.suite}\u0000${r.task.replace(/\(\d+ moves/, "(moves")}`
  const byKey = (rep: BenchReport | undefined) => new Map((rep?.rows ?? []).map((r) => [keyOf(r), r]))
  const b = byKey(bun)
  const d = byKey(deno)
  const keys = [...new Set([...b.keys(), ...d.keys()])]
  const lines = [
    `Measured on this 2-core shared machine (AMD EPYC, load from other jobs; run-to-run noise 10–50 %): ` +
      `Bun ${bun?.version ?? "?"} (${bun?.date ?? "not run"}), Deno ${deno?.version ?? "?"} (${deno?.date ?? "not run"}), ` +
      `${bun?.rounds ?? "?"} interleaved rounds, medians. In parentheses: time relative to the suite's reference ` +
      `(hash: our MD5 on a string key; route: \`locate\` without hashing).`,
    "",
    "| suite | task | Bun | Deno |",
    "|---|---|---|---|",
  ]
  for (const k of keys) {
    const row = b.get(k) ?? d.get(k)!
    const task = b.get(k)?.task ?? row.task
    lines.push(`| ${row.suite} | ${task} | ${cell(b.get(k))} | ${cell(d.get(k))} |`)
  }
  lines.push("", "| check | Bun | Deno | target |", "|---|---|---|---|")
  const checks = [...new Set([...(bun?.checks ?? []), ...(deno?.checks ?? [])].map((c) => c.name))]
  const fmt = (v: number | undefined) =>
    v === undefined ? "–" : v >= 1000 ? Math.round(v).toLocaleString("en") : v.toFixed(2)
  for (const name of checks) {
    const cb = bun?.checks.find((c) => c.name === name)
    const cd = deno?.checks.find((c) => c.name === name)
    const mark = (c: typeof cb) => (c === undefined ? "" : c.ok ? " ✓" : " ✗")
    lines.push(
      `| ${name} | ${fmt(cb?.value)}${mark(cb)} | ${fmt(cd?.value)}${mark(cd)} | ${(cb ?? cd)!.target} |`,
    )
  }
  return lines.join("\n")
}

if (import.meta.main) {
  const text = readFileSync(readme, "utf8")
  const start = "<!-- bench:start -->"
  const end = "<!-- bench:end -->"
  const i = text.indexOf(start)
  const j = text.indexOf(end)
  if (i < 0 || j < i) throw new Error("README bench markers not found")
  writeFileSync(readme, text.slice(0, i + start.length) + "\n" + render() + "\n" + text.slice(j))
  console.log("README bench section updated")
}
