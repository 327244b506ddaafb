/**
 * Table-driven condition expression cases, written from DynamoDB's documented behaviour
 * (Comparison operator and function reference; Condition expressions; Expression attribute
 * names and values; Reserved words). Each case: expression, expected truth value or error tag,
 * optional item and explicit placeholders (default: the sample item and the placeholders the
 * expression mentions, from the pools in fixtures.ts).
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import type { AttributeValue, Item } from "@partita/core"
import { evaluateCondition } from "@partita/expressions"
import { Either } from "effect"
import { placeholdersFor, sample, show } from "./fixtures.ts"

type Expect = boolean | "ValidationException"
interface Case {
  readonly expr: string
  readonly expect: Expect
  readonly item?: Item
  readonly names?: Record<string, string>
  readonly values?: Record<string, AttributeValue>
  /** A fragment the error message must contain. */
  readonly msg?: string
}

const V = "ValidationException" as const
const c = (expr: string, expect: Expect, more: Partial<Case> = {}): Case => ({ expr, expect, ...more })

export const conditionCases: ReadonlyArray<Case> = [
  // --- = and <> on numbers: by value, not text ---
  c("n = :ten", true),
  c("n = :ten0", true),
  c("n = :e1", true),
  c("n = :nine", false),
  c("n <> :nine", true),
  c("n <> :ten0", false),
  c("f = :p10", true),
  c("neg = :m25", true),
  c("big = :bigger", false),
  c("big < :bigger", true),
  // --- ordering of numbers ---
  c("n > :nine", true),
  c("n >= :ten", true),
  c("n > :ten", false),
  c("n < :eleven", true),
  c("n <= :ten0", true),
  c("n < :nine", false),
  c("neg < :zero", true),
  c("neg > :m3", true),
  c("neg < :m3", false),
  c("f < :one", true),
  c("f > :zero", true),
  c("n > :hund", false),
  // --- strings by UTF-8 byte order ---
  c("s = :hello", true),
  c("s <> :hello", false),
  c("s > :hel", true),
  c("s < :xyz", true),
  c("s > :xyz", false),
  c("id >= :u1", true),
  c("e = :empty", true),
  c("e < :a", true),
  c("astral > :bmp", true, {
    msg: "U+10000 sorts after U+FFFD in UTF-8 although its UTF-16 units sort before",
  }),
  c("bmp < :astral", true),
  c("astral = :astral", true),
  // --- binaries by unsigned byte ---
  c("b = :bfull", true),
  c("b > :b01", true),
  c("b > :b0180", true),
  c("b < :b7f", true),
  c("b >= :b80", false),
  c("b <> :b01", true),
  // --- type mismatch is false, not an error ---
  c("n = :hello", false),
  c("n <> :hello", true),
  c("n < :hello", false),
  c("n >= :hello", false),
  c("s > :one", false),
  c("b < :xyz", false),
  c("t = :one", false),
  c("l < :ten", false),
  c("m > :a", false),
  // --- comparisons with a absent attribute ---
  c("absent = :ten", false),
  c("absent <> :ten", true),
  c("absent < :ten", false),
  c("absent >= :ten", false),
  c("m.nope = :x", false),
  c("l[9] = :one", false),
  // --- booleans, null, documents, sets ---
  c("t = :true", true),
  c("t = :false", false),
  c("fa = :false", true),
  c("nul = :null", true),
  c("t <> :null", true),
  c("l = :list", true),
  c("l = :list2", false),
  c("m = :map", true),
  c("ss = :ss", true, { msg: "sets compare unordered" }),
  c("ss = :ss1", false),
  c("ns = :ns", true, { msg: "number sets compare by value" }),
  c("bs = :bs", true),
  c("ss <> :ss", false),
  // --- path against path ---
  c("n = n", true),
  c("n > neg", true),
  c("s < id", true),
  c("m.a = s", false),
  c("l[0] = ns", false),
  c("m.nested.deep > n", true),
  // --- BETWEEN (inclusive) ---
  c("n BETWEEN :nine AND :eleven", true),
  c("n BETWEEN :ten AND :eleven", true),
  c("n BETWEEN :nine AND :ten", true),
  c("n BETWEEN :eleven AND :hund", false),
  c("s BETWEEN :hel AND :xyz", true),
  c("b BETWEEN :b01 AND :b7f", true),
  c("neg BETWEEN :m3 AND :zero", true),
  c("n BETWEEN :a AND :b", false),
  c("absent BETWEEN :one AND :two", false),
  c("n BETWEEN neg AND m.nested.deep", true),
  c("n BETWEEN :eleven AND :nine", V, { msg: "upper bound to be greater than or equal to lower bound" }),
  c("n BETWEEN :one AND :a", V, { msg: "same data type" }),
  c("n BETWEEN :true AND :false", V, { msg: "Incorrect operand type" }),
  c("n BETWEEN :one", V, { msg: "Syntax error" }),
  c("n BETWEEN :one OR :two", V),
  // --- IN ---
  c("n IN (:nine, :ten)", true),
  c("n IN (:nine, :eleven)", false),
  c("n IN (:ten0)", true),
  c("s IN (:hello, :one)", true),
  c("n IN (:hello)", false),
  c("absent IN (:one)", false),
  c("ss IN (:ss)", true),
  c("m.a IN (:x, :a)", true),
  c("n IN ()", V),
  c("n IN :ten", V),
  c("n IN (:nine, :ten", V),
  c(`n IN (${Array.from({ length: 100 }, () => ":ten").join(", ")})`, true),
  c(`n IN (${Array.from({ length: 101 }, () => ":ten").join(", ")})`, V, { msg: "too many operands" }),
  // --- AND, OR, NOT and precedence: NOT > AND > OR ---
  c("n = :ten AND s = :hello", true),
  c("n = :ten AND s = :xyz", false),
  c("n = :nine OR s = :hello", true),
  c("n = :nine OR s = :xyz", false),
  c("NOT n = :nine", true),
  c("NOT n = :ten", false),
  c("NOT NOT n = :ten", true),
  c("n = :nine AND s = :xyz OR t = :true", true, { msg: "(F AND F) OR T" }),
  c("t = :true OR n = :nine AND s = :xyz", true, { msg: "T OR (F AND F)" }),
  c("(t = :true OR n = :nine) AND s = :xyz", false),
  c("NOT t = :true OR n = :ten", true, { msg: "(NOT T) OR T" }),
  c("NOT (t = :true OR n = :ten)", false),
  c("NOT t = :true AND n = :ten", false),
  c("n = :ten and s = :hello", true, { msg: "keywords are case-insensitive" }),
  c("n = :nine Or s = :hello", true),
  c("not n = :nine", true),
  c("n between :nine and :eleven", true),
  c("n in (:ten)", true),
  c("(n = :ten)", true),
  c("((n = :ten))", V, { msg: "redundant parentheses" }),
  c("(n = :ten) AND ((s = :hello))", V, { msg: "redundant parentheses" }),
  c("((n = :ten) AND (s = :hello))", true),
  c("(n = :ten", V),
  c("n = :ten)", V),
  c("n = :ten AND", V),
  c("AND n = :ten", V),
  c("n = :ten OR OR s = :hello", V),
  c("NOT", V),
  // --- attribute_exists / attribute_not_exists ---
  c("attribute_exists(n)", true),
  c("attribute_exists(absent)", false),
  c("attribute_not_exists(absent)", true),
  c("attribute_not_exists(n)", false),
  c("attribute_exists(m.nested.deep)", true),
  c("attribute_exists(m.nested.shallow)", false),
  c("attribute_exists(l[2].x)", true),
  c("attribute_exists(l[3])", false),
  c("attribute_exists(n.x)", false, { msg: "a path through a scalar does not exist" }),
  c("attribute_exists(m[0])", false),
  c("attribute_exists(nul)", true),
  c("attribute_exists(e)", true),
  c("attribute_not_exists(absent) AND n = :ten", true),
  c("attribute_exists(:ten)", V, { msg: "requires a document path" }),
  c("attribute_exists(n, s)", V, { msg: "Incorrect number of operands" }),
  c("attribute_exists()", V),
  c("ATTRIBUTE_EXISTS(n)", V, { msg: "Invalid function name" }),
  c("attribute_exists(n) = :true", V),
  // --- attribute_type ---
  c("attribute_type(s, :tS)", true),
  c("attribute_type(n, :tN)", true),
  c("attribute_type(b, :tB)", true),
  c("attribute_type(t, :tBOOL)", true),
  c("attribute_type(nul, :tNULL)", true),
  c("attribute_type(l, :tL)", true),
  c("attribute_type(m, :tM)", true),
  c("attribute_type(ss, :tSS)", true),
  c("attribute_type(ns, :tNS)", true),
  c("attribute_type(bs, :tBS)", true),
  c("attribute_type(s, :tN)", false),
  c("attribute_type(absent, :tS)", false),
  c("attribute_type(m.nested, :tM)", true),
  c("attribute_type(s, :tBad)", V, { msg: "Invalid attribute type name" }),
  c("attribute_type(s, :ten)", V),
  c("attribute_type(s, n)", V),
  // --- begins_with ---
  c("begins_with(s, :hel)", true),
  c("begins_with(s, :wor)", false),
  c("begins_with(s, :empty)", true),
  c("begins_with(s, :hello)", true),
  c("begins_with(b, :b0180)", true),
  c("begins_with(b, :b80)", false),
  c("begins_with(n, :hel)", false),
  c("begins_with(absent, :hel)", false),
  c("begins_with(m.a, :x)", true),
  c("begins_with(s, id)", false),
  c("begins_with(s, :one)", V, { msg: "operand type: N" }),
  c("begins_with(s, :true)", V),
  c("begins_with(:hel, s)", V, { msg: "requires a document path" }),
  c("begins_with(s)", V),
  // --- contains ---
  c("contains(s, :wor)", true),
  c("contains(s, :xyz)", false),
  c("contains(s, :empty)", true),
  c("contains(ss, :red)", true),
  c("contains(ss, :blue)", false),
  c("contains(ns, :one)", true),
  c("contains(ns, :two)", false),
  c("contains(bs, :b01)", true),
  c("contains(l, :one)", true),
  c("contains(l, :two_s)", true),
  c("contains(l, :a)", false),
  c("contains(m.arr, :p)", true),
  c("contains(b, :b80)", true),
  c("contains(m, :a)", false),
  c("contains(n, :one)", false),
  c("contains(ss, :one)", false),
  c("contains(absent, :a)", false),
  c("contains(:hello, :wor)", V),
  // --- size ---
  c("size(s) = :eleven", true),
  c("size(e) = :zero", true),
  c("size(astral) = :one", false, { msg: "size counts UTF-8 bytes (4 here)" }),
  c("size(b) = :three", true),
  c("size(l) = :three", true),
  c("size(m) = :three", true),
  c("size(ss) = :two", true),
  c("size(ns) > :one", true),
  c("size(bs) BETWEEN :one AND :two", true),
  c("size(m.arr) IN (:one, :two)", true),
  c("size(n) = :two", false, { msg: "numbers have no size" }),
  c("size(t) >= :zero", false),
  c("size(absent) = :zero", false),
  c("size(s) > size(l)", true),
  c("size(:hello) = :one", V),
  c("size(s)", V, { msg: "Syntax error" }),
  c("size(s, l) = :one", V),
  c("n = size(s)", false),
  // --- nested paths ---
  c("m.a = :x", true),
  c("m.nested.deep = :42", true),
  c("m.arr[1] = :q", true),
  c("m.arr[2] = :q", false),
  c("l[2].x = :three", true),
  c("l[1] = :two_s", true),
  c("l[0] < l[2].x", true),
  c("m.arr[0] < m.arr[1]", true),
  c(`m${".x".repeat(31)} = :a`, false, { msg: "32 levels are allowed" }),
  c(`m${".x".repeat(32)} = :a`, V, { msg: "nesting levels" }),
  c("m.[0] = :a", V),
  c("l[x] = :a", V),
  c("l[-1] = :a", V),
  c("l[] = :a", V),
  c("l[0 = :a", V),
  c("m. = :a", V),
  c("l[9999999999] = :a", V, { msg: "out of range" }),
  // --- expression attribute names ---
  c("#n = :ten", true),
  c("#s = :hello", true),
  c("#dot = :lit", true, { msg: "a dot inside a name placeholder is part of the name" }),
  c("dotted.#name = :lit", false, { msg: "a literal dot is a path separator" }),
  c("#m.#nested.deep = :42", true),
  c("#m.a = :x", true),
  c("#l[2].x = :three", true),
  c("#acc = :accent", true),
  c("attribute_not_exists(#name)", true),
  c("attribute_not_exists(#status)", true),
  c("size(#size) = :one", false),
  c("#undefined = :ten", V, { msg: "attribute name used in the document path is not defined" }),
  c("n = :ten", V, { names: { "#n": "n" }, msg: "ExpressionAttributeNames unused" }),
  c("#n = :ten", V, { names: { "#n": "n", "#s": "s" }, values: { ":ten": { N: "10" } }, msg: "unused" }),
  c("n = :undefined", V, { msg: "attribute value used in expression is not defined" }),
  c("n = :ten", V, {
    values: { ":ten": { N: "10" }, ":nine": { N: "9" } },
    msg: "ExpressionAttributeValues unused",
  }),
  c("n = :ten", V, {
    values: { ":ten": { N: "not a number" } },
    msg: "ExpressionAttributeValues contains invalid value",
  }),
  c("n = :ten", V, { values: { ":ten": { N: "1e200" } }, msg: "overflow" }),
  c("ss = :ss", V, { values: { ":ss": { SS: [] } } }),
  c("ss = :ss", V, { values: { ":ss": { SS: ["a", "a"] } }, msg: "duplicates" }),
  c("n = :ten", V, { names: {}, values: { ":ten": { N: "10" } }, msg: "must not be empty" }),
  c("# = :ten", V),
  c("n = :", V),
  // --- reserved words need #names ---
  c("name = :a", V, { msg: "reserved keyword: name" }),
  c("status = :a", V, { msg: "reserved keyword" }),
  c("Size = :one", V, { msg: "reserved keyword" }),
  c("YEAR = :one", V),
  c("m.data = :a", V, { msg: "reserved keyword: data" }),
  c("attribute_exists(comment)", V),
  c("names = :a", V),
  c("nam = :a", false),
  c("named = :a", false),
  // --- syntax errors ---
  c("", V, { msg: "can not be empty" }),
  c("   ", V, { msg: "can not be empty" }),
  c("n", V),
  c("n =", V),
  c("n == :ten", V),
  c("n =< :ten", V),
  c("n ! :ten", V),
  c("n != :ten", V),
  c("$n = :ten", V, { msg: 'token: "$"' }),
  c("n = 10", V),
  c("n = 'x'", V),
  c('n = "x"', V),
  c("é = :accent", V),
  c("n = :ten;", V),
  c("n :ten", V),
  c("= :ten", V),
  c("n = :ten n = :ten", V),
  c("n + :one = :eleven", V),
  c("foo(n)", V, { msg: "Invalid function name; function: foo" }),
  c("if_not_exists(n, :ten) = :ten", V, { msg: "not allowed" }),
  c("list_append(l, :list) = :list", V),
  c("begins_with(s, :hel) = :true", V),
  c("n = begins_with(s, :hel)", V, { msg: "not allowed" }),
  c("(n) = :ten", V),
  c("n = (:ten)", V),
  c("n = :ten AND (s)", V),
  c("1n = :ten", V),
  c(`n = :ten${" AND n = :ten".repeat(149)}`, true, { msg: "299 operators are allowed" }),
  c(`n = :ten${" AND n = :ten".repeat(150)}`, V, { msg: "too many operators" }),
  c(`n = :ten${" ".repeat(4100)}`, V, { msg: "maximum allowed size" }),
  c(`${"(".repeat(300)}n = :ten${")".repeat(300)}`, V),
  c(`${"NOT ".repeat(300)}n = :ten`, V, { msg: "nested levels" }),
  c(`${"NOT ".repeat(200)}n = :ten`, true),
  // --- a absent item is an empty item ---
  c("attribute_not_exists(id)", true, { item: {} }),
  c("id = :u1", false, { item: {} }),
  c("id <> :u1", true, { item: {} }),
  c("NOT attribute_exists(id) OR id = :u1", true, { item: {} }),
]

describe("condition expressions (table)", () => {
  it(`has at least 250 cases (${conditionCases.length})`, () => {
    assert.ok(conditionCases.length >= 250)
  })
  for (const k of conditionCases) {
    const label = k.expr.length > 70 ? `${k.expr.slice(0, 67)}...` : k.expr
    it(`${label} → ${k.expect}${k.msg !== undefined && k.expect !== V ? ` (${k.msg})` : ""}`, () => {
      const pool = placeholdersFor([k.expr])
      const names = "names" in k ? k.names : pool.names
      const values = "values" in k ? k.values : pool.values
      const r = evaluateCondition(k.expr, k.item ?? sample, { names, values })
      if (k.expect === V) {
        assert.ok(Either.isLeft(r), `expected ValidationException, got ${show(r)}`)
        assert.equal(r.left._tag, V)
        if (k.msg !== undefined) assert.ok(r.left.message.includes(k.msg), r.left.message)
      } else {
        assert.ok(Either.isRight(r), `expected ${k.expect}, got ${show(r)}`)
        assert.equal(r.right, k.expect)
      }
    })
  }
})
