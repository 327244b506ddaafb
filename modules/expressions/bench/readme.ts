/**
 * Regenerates README.md from README.template.md: the example from test/example.test.ts, the case
 * count from the table tests, the benchmark table from results/expressions/expressions.md.
 * Run: node_modules/.bin/bun modules/expressions/bench/readme.ts
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { conditionCases } from "../test/cases/conditions.ts"
import { numberCases, projectionCases } from "../test/cases/projections-numbers.ts"
import { updateCases } from "../test/cases/updates.ts"

const here = (p: string) => new URL(p, import.meta.url).pathname
const region = (src: string, name: string, indent: number): string =>
  src
    .slice(src.indexOf(`// #region ${name}`), src.indexOf(`// #endregion ${name}`))
    .split("\n")
    .slice(1)
    .map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)))
    .join("\n")
    .trim()

const example = readFileSync(here("../test/example.test.ts"), "utf8")
const table = (file: string): string | undefined => {
  const path = here(`../../../results/expressions/${file}`)
  return existsSync(path) ? readFileSync(path, "utf8").trim() : undefined
}
const bun = table("expressions.md")
const deno = table("expressions-deno.md")
const bench = [
  bun === undefined ? "(run the benchmark to fill this in)" : bun.replace(/^# /, "### "),
  deno === undefined
    ? ""
    : `\nThe same suite under Deno (V8), for comparison:\n\n${deno.replace(/^# /, "### ")}`,
].join("\n")
const cases = conditionCases.length + updateCases.length + projectionCases.length + numberCases.length
const out = readFileSync(here("../README.template.md"), "utf8")
  .replace("// {{IMPORTS}}", region(example, "imports", 0))
  .replace("// {{EXAMPLE}}", region(example, "example", 4))
  .replace("{{CASES}}", String(cases))
  .replace("{{BENCH}}", bench)
writeFileSync(here("../README.md"), out)
console.log(`README.md written (${cases} table cases)`)
