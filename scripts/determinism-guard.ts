/**
 * Determinism guard: fails when code outside the simulation kit reads real time or real randomness
 * directly. Such needs go through injected services (Effect Clock / Random, the sim kit), so a whole
 * cluster can run under one seed and replay.
 *
 * Exempt: modules/sim (it implements the services), every bench/ folder (benchmarks measure real
 * time), and files that carry the marker comment `determinism-guard: real-time` with a reason (the
 * harness's real-time load generator and wall-clock runtime layers).
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"

const ROOT = join(import.meta.dirname, "..")
const SCAN_ROOTS = ["modules", "harness", "workloads"]
const EXEMPT_DIRS = [/^modules\/sim\//, /\/bench\//, /\/node_modules\//]
const MARKER = "determinism-guard: real-time"
const FORBIDDEN: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bDate\.now\s*\(/, "Date.now()"],
  [/\bnew\s+Date\s*\(\s*\)/, "new Date()"],
  [/\bMath\.random\s*\(/, "Math.random()"],
  [/(?<![.\w])setTimeout\s*\(/, "setTimeout"],
  [/(?<![.\w])setInterval\s*\(/, "setInterval"],
  [/\bperformance\.now\s*\(/, "performance.now()"],
]

function* walk(dir: string): Generator<string> {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return
  }
  for (const name of names) {
    if (name === "node_modules" || name.startsWith(".")) continue
    const path = join(dir, name)
    const st = statSync(path)
    if (st.isDirectory()) yield* walk(path)
    else if (/\.(ts|tsx|js|mjs)$/.test(name)) yield path
  }
}

/** Blanks comments and string contents so that only code is matched; keeps line numbers. */
function codeOnly(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, " "))
    .replace(/(^|[^:\\])\/\/.*$/gm, (_m, p1: string) => p1)
    .replace(/(["'`])(?:\\.|(?!\1)[^\\\n])*\1/g, (m) => m[0] + " ".repeat(Math.max(0, m.length - 2)) + m[0])
}

const violations: string[] = []
let files = 0
for (const root of SCAN_ROOTS) {
  for (const path of walk(join(ROOT, root))) {
    const rel = relative(ROOT, path).replaceAll("\\", "/")
    if (EXEMPT_DIRS.some((re) => re.test(`${rel}`) || re.test(`/${rel}`))) continue
    const source = readFileSync(path, "utf8")
    if (source.includes(MARKER)) continue
    files++
    const lines = codeOnly(source).split("\n")
    lines.forEach((line, i) => {
      for (const [re, what] of FORBIDDEN) {
        if (re.test(line))
          violations.push(`${rel}:${i + 1}: direct ${what}; use an injected Clock/Random or the sim kit`)
      }
    })
  }
}
if (violations.length > 0) {
  console.error(violations.join("\n"))
  console.error(`determinism guard: ${violations.length} violation(s) in ${files} files`)
  process.exit(1)
}
console.log(`determinism guard: ${files} files clean`)
