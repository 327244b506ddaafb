/**
 * Expression fuzzer: random and mutated expression strings through every parser and the whole
 * parse → bind → evaluate/apply path. Lives in bench/ because it times each input (clocks are
 * allowed only in benchmarks); test/fuzz.test.ts runs it and asserts on the report.
 */
import type { AttributeValue } from "@partita/core"
import {
  compileUpdate,
  evaluateCondition,
  ExpressionCache,
  parseCondition,
  parseProjection,
  parseUpdate,
  printCondition,
  printProjection,
  printUpdate,
  projectItem,
} from "@partita/expressions"
import { Either } from "effect"
import { sample } from "../test/fixtures.ts"

const _cases = Number(process.env.PARTITA_FUZZ ?? "100000")

/** mulberry32: a small seeded PRNG so every run fuzzes the same strings. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const corpus = [
  "a = :v",
  "a.b[1].c <> :w AND NOT attribute_exists(#n)",
  "size(a) BETWEEN :lo AND :hi OR b IN (:x, :y, :z)",
  "begins_with(#n.s, :p) AND contains(l, :e) AND attribute_type(t, :t)",
  "(a < :v OR b >= :w) AND NOT (c = :x)",
  "SET a = a + :one, b = list_append(if_not_exists(b, :empty), :l) REMOVE c[2], d.e ADD n :one DELETE s :s",
  "SET #a.#b[3] = :v, c = :w - d",
  "REMOVE a, b.c, d[0]",
  "ADD counter :inc, tags :newtags",
  "a, b.c, d[2].e, #n",
]
const tokens = [
  "a",
  "b",
  "#n",
  "#",
  ":v",
  ":",
  ".",
  "[",
  "]",
  "[0]",
  "(",
  ")",
  ",",
  "=",
  "<>",
  "<",
  "<=",
  ">",
  ">=",
  "+",
  "-",
  " AND ",
  " OR ",
  " NOT ",
  " BETWEEN ",
  " IN ",
  "SET ",
  "REMOVE ",
  "ADD ",
  "DELETE ",
  "size",
  "attribute_exists",
  "begins_with",
  "contains",
  "if_not_exists",
  "list_append",
  "attribute_type",
  "name",
  "9999999999",
  " ",
  "\t",
  "é",
  "$",
  "'",
  '"',
  "\u{1F600}",
  "\u0000",
  "((",
  "))",
  "[[",
  "]]",
]

const names: Record<string, string> = { "#n": "n", "#a": "a", "#b": "b" }
const values: Record<string, AttributeValue> = {
  ":v": { N: "1" },
  ":w": { S: "w" },
  ":x": { N: "2" },
  ":y": { N: "3" },
  ":z": { N: "4" },
  ":lo": { N: "0" },
  ":hi": { N: "10" },
  ":p": { S: "p" },
  ":e": { S: "e" },
  ":t": { S: "S" },
  ":one": { N: "1" },
  ":empty": { L: [] },
  ":l": { L: [{ N: "1" }] },
  ":s": { SS: ["a"] },
  ":inc": { N: "1" },
  ":newtags": { SS: ["t"] },
}
/** Only the placeholders a string mentions, so that well-formed inputs can also evaluate. */
const used = <T>(pool: Record<string, T>, text: string): Record<string, T> | undefined => {
  const out: Record<string, T> = {}
  for (const k of Object.keys(pool)) if (text.includes(k)) out[k] = pool[k]!
  return Object.keys(out).length > 0 ? out : undefined
}

const mutate = (rand: () => number, s: string): string => {
  const pick = <T>(xs: ReadonlyArray<T>): T => xs[Math.floor(rand() * xs.length)]!
  const at = Math.floor(rand() * (s.length + 1))
  switch (Math.floor(rand() * 6)) {
    case 0:
      return s.slice(0, at) + s.slice(at + 1 + Math.floor(rand() * 4)) // delete
    case 1:
      return s.slice(0, at) + pick(tokens) + s.slice(at) // insert a token
    case 2:
      return s.slice(0, at) + String.fromCharCode(Math.floor(rand() * 128)) + s.slice(at + 1) // replace a char
    case 3:
      return s.slice(0, at) + pick(corpus).slice(Math.floor(rand() * 10)) // splice another expression
    case 4:
      return s.replace(pick(["AND", "OR", "=", ":v", "a", "(", ",", "SET", "["]), pick(tokens)) // swap a token
    default:
      return s + s.slice(0, at) // duplicate a prefix
  }
}

/** Random well-formed expressions of one kind, from the grammar (then sometimes mutated). */
const grammar = (rand: () => number, kind: number): string => {
  const pick = <T>(xs: ReadonlyArray<T>): T => xs[Math.floor(rand() * xs.length)]!
  const path = (): string => {
    let p = pick(["a", "b", "n", "s", "l", "m", "#n", "#a"])
    const steps = Math.floor(rand() * 3)
    for (let i = 0; i < steps; i++)
      p += rand() < 0.5 ? `.${pick(["a", "b", "x", "#b"])}` : `[${Math.floor(rand() * 3)}]`
    return p
  }
  const value = (): string => pick([":v", ":w", ":x", ":y", ":z", ":lo", ":hi", ":p", ":e", ":t", ":one"])
  const operand = (): string => (rand() < 0.5 ? path() : rand() < 0.8 ? value() : `size(${path()})`)
  const cond = (depth: number): string => {
    const r = rand()
    if (depth > 0 && r < 0.3) return `${cond(depth - 1)} ${pick(["AND", "OR"])} ${cond(depth - 1)}`
    if (depth > 0 && r < 0.4) return `NOT ${cond(depth - 1)}`
    if (depth > 0 && r < 0.5) return `(${cond(depth - 1)})`
    switch (Math.floor(rand() * 6)) {
      case 0:
        return `${operand()} BETWEEN ${operand()} AND ${operand()}`
      case 1:
        return `${operand()} IN (${operand()}, ${operand()})`
      case 2:
        return `${pick(["attribute_exists", "attribute_not_exists"])}(${path()})`
      case 3:
        return `${pick(["begins_with", "contains"])}(${path()}, ${operand()})`
      case 4:
        return `attribute_type(${path()}, :t)`
      default:
        return `${operand()} ${pick(["=", "<>", "<", "<=", ">", ">="])} ${operand()}`
    }
  }
  if (kind === 0) return cond(3)
  if (kind === 2) return Array.from({ length: 1 + Math.floor(rand() * 3) }, path).join(", ")
  const uoperand = (): string =>
    rand() < 0.6
      ? operand().replace(/^size\((.*)\)$/, "$1")
      : rand() < 0.5
        ? `if_not_exists(${path()}, ${value()})`
        : `list_append(${path()}, :l)`
  const clauses: string[] = []
  if (rand() < 0.7) {
    const n = 1 + Math.floor(rand() * 2)
    const acts = Array.from({ length: n }, () =>
      rand() < 0.5
        ? `${path()} = ${uoperand()}`
        : `${path()} = ${uoperand()} ${pick(["+", "-"])} ${uoperand()}`,
    )
    clauses.push(`SET ${acts.join(", ")}`)
  }
  if (rand() < 0.4) clauses.push(`REMOVE ${path()}`)
  if (rand() < 0.4) clauses.push(`ADD ${path()} ${pick([":one", ":s", ":newtags", ":v"])}`)
  if (rand() < 0.3 || clauses.length === 0) clauses.push(`DELETE ${path()} ${pick([":s", ":newtags"])}`)
  return clauses.join(" ")
}

const generate = (rand: () => number, kind: number): string => {
  const r = rand()
  if (r < 0.3) {
    const s = grammar(rand, kind)
    return rand() < 0.5 ? s : mutate(rand, s)
  }
  if (r < 0.6) {
    let s = corpus[Math.floor(rand() * corpus.length)]!
    const n = 1 + Math.floor(rand() * 4)
    for (let i = 0; i < n; i++) s = mutate(rand, s)
    return s
  }
  if (r < 0.95) {
    let s = ""
    const n = Math.floor(rand() * 20)
    for (let i = 0; i < n; i++) s += tokens[Math.floor(rand() * tokens.length)]
    return s
  }
  // Long inputs: linear time is what keeps these cheap.
  const unit = rand() < 0.5 ? "a = :v AND " : tokens[Math.floor(rand() * tokens.length)]!
  return unit.repeat(Math.floor(3000 / unit.length) + Math.floor(rand() * 200))
}

/** What a fuzz run found. */
export interface FuzzReport {
  readonly cases: number
  /** Inputs that made it through the whole path to a result. */
  readonly evaluated: number
  /** Inputs that threw or failed with something other than a ValidationException. */
  readonly untyped: ReadonlyArray<{ readonly text: string; readonly error: string }>
  readonly totalMs: number
  /** Slowest single input as first measured (includes scheduler and GC noise). */
  readonly slowestMs: number
  readonly slowestText: string
  /**
   * The slowest inputs re-timed: each of the `retimed` slowest is run again 5 times and its
   * fastest run kept; this is the largest of those. Noise does not repeat, real cost does.
   */
  readonly slowestRetimedMs: number
  readonly slowestRetimedText: string
}

/** How many of the slowest inputs are re-timed. */
const retimedInputs = 32

/** Runs `cases` fuzz inputs from a fixed seed. */
export const runFuzz = (cases: number, seed = 0x5eed): FuzzReport => {
  const rand = prng(seed)
  const cache = new ExpressionCache(256)
  const untyped: { text: string; error: string }[] = []
  let evaluated = 0
  // The slowest inputs seen so far (kept sorted, fastest first), for re-timing.
  const slow: { ms: number; kind: number; text: string }[] = []
  const started = performance.now()
  for (let i = 0; i < cases; i++) {
    const text = generate(rand, i % 3)
    const t0 = performance.now()
    try {
      if (fuzzOne(i % 3, text, cache)) evaluated++
    } catch (e) {
      untyped.push({ text, error: String(e) })
    }
    const ms = performance.now() - t0
    if (slow.length < retimedInputs || ms > slow[0]!.ms) {
      slow.push({ ms, kind: i % 3, text })
      slow.sort((a, b) => a.ms - b.ms)
      if (slow.length > retimedInputs) slow.shift()
    }
  }
  const totalMs = performance.now() - started
  let slowestRetimedMs = 0
  let slowestRetimedText = ""
  for (const x of slow) {
    let best = Number.POSITIVE_INFINITY
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now()
      try {
        fuzzOne(x.kind, x.text, new ExpressionCache(4))
      } catch {
        // already recorded as untyped
      }
      best = Math.min(best, performance.now() - t0)
    }
    if (best > slowestRetimedMs) {
      slowestRetimedMs = best
      slowestRetimedText = x.text
    }
  }
  const worst = slow[slow.length - 1]
  return {
    cases,
    evaluated,
    untyped,
    totalMs,
    slowestMs: worst?.ms ?? 0,
    slowestText: worst?.text ?? "",
    slowestRetimedMs,
    slowestRetimedText,
  }
}

class Untyped extends Error {}
const check = <A>(r: Either.Either<A, { _tag: string }>): Either.Either<A, { _tag: string }> => {
  if (Either.isLeft(r) && r.left._tag !== "ValidationException") throw new Untyped(`error tag ${r.left._tag}`)
  return r
}

/** Whatever text parses, its printed form parses again and prints the same (a fixed point). */
const fixedPoint = <A>(
  r: Either.Either<{ readonly ast: A }, unknown>,
  parse: (text: string) => Either.Either<{ readonly ast: A }, unknown>,
  print: (ast: A) => string,
): void => {
  if (Either.isLeft(r)) return
  const printed = print(r.right.ast)
  const again = parse(printed)
  if (Either.isLeft(again) || print(again.right.ast) !== printed)
    throw new Untyped(`not a fixed point: ${printed}`)
}

/** One input through one parser and one whole path; true when it evaluated to a result. */
const fuzzOne = (kind: number, text: string, cache: ExpressionCache): boolean => {
  const n = used(names, text)
  const v = used(values, text)
  switch (kind) {
    case 0:
      fixedPoint(check(parseCondition(text)), parseCondition, printCondition)
      return Either.isRight(check(evaluateCondition(text, sample, { names: n, values: v }, cache)))
    case 1: {
      fixedPoint(check(parseUpdate(text)), parseUpdate, printUpdate)
      const u = check(compileUpdate(text, { names: n, values: v }, cache))
      return Either.isRight(u) && Either.isRight(check(u.right.apply(sample)))
    }
    default:
      fixedPoint(check(parseProjection(text)), parseProjection, printProjection)
      return Either.isRight(check(projectItem(text, sample, n, cache)))
  }
}

if (import.meta.main) {
  const r = runFuzz(Number(process.argv[2] ?? "100000"))
  console.log({ ...r, untyped: r.untyped.length })
}
