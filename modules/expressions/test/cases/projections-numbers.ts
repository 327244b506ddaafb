/**
 * Table-driven projection expression and number cases (DynamoDB's Projection expressions and
 * Number data type documentation: 38 digits of precision, magnitude 1E-130 … 9.99…E+125).
 */
import type { Item } from "@partita/core"
import { L, M, N, S } from "../fixtures.ts"

export const V = "ValidationException" as const

export interface ProjectionCase {
  readonly expr: string
  readonly expect: Item | typeof V
  readonly names?: Record<string, string>
  readonly msg?: string
}

export const p = (
  expr: string,
  expect: Item | typeof V,
  more: Partial<ProjectionCase> = {},
): ProjectionCase => ({
  expr,
  expect,
  ...more,
})

export const projectionCases: ReadonlyArray<ProjectionCase> = [
  p("id", { id: S("u1") }),
  p("id, n", { id: S("u1"), n: N("10") }),
  p("n, id", { id: S("u1"), n: N("10") }),
  p("absent", {}),
  p("id, absent", { id: S("u1") }),
  p("m.a", { m: M({ a: S("x") }) }),
  p("m.nested.deep", { m: M({ nested: M({ deep: N("42") }) }) }),
  p("m.a, m.nested.deep", { m: M({ a: S("x"), nested: M({ deep: N("42") }) }) }),
  p("m.arr[1]", { m: M({ arr: L(S("q")) }) }),
  p("l[2].x", { l: L(M({ x: N("3") })) }),
  p("l[2], l[0]", { l: L(N("1"), M({ x: N("3") })) }, { msg: "list elements keep index order, packed" }),
  p("l[1], l[9]", { l: L(S("two")) }),
  p("l[9]", {}),
  p("m.zz", {}),
  p("s.x", {}),
  p("#m.#nested.deep", { m: M({ nested: M({ deep: N("42") }) }) }),
  p("#dot", { "dotted.name": S("literal") }),
  p("#acc, id", { é: S("accent"), id: S("u1") }),
  p("  id ,n  ", { id: S("u1"), n: N("10") }),
  p("id, id", V, { msg: "overlap" }),
  p("m, m.a", V, { msg: "overlap" }),
  p("m.a, m", V, { msg: "overlap" }),
  p("l[0], l", V),
  p("l[0], l.x", V, { msg: "conflict" }),
  p("#m, m", V, { msg: "overlap" }),
  p("name", V, { msg: "reserved keyword" }),
  p("#name", {}),
  p("#nope", V, { msg: "not defined" }),
  p("id", V, { names: { "#n": "n" }, msg: "unused" }),
  p("", V),
  p("id,", V),
  p(",id", V),
  p("id n", V),
  p(":v", V),
  p("size(s)", V),
  p("id = :v", V),
]

export type NumberOp = "add" | "sub" | "cmp" | "canon"
export interface NumberCase {
  readonly op: NumberOp
  readonly a: string
  readonly b?: string
  readonly expect: string | number | typeof V
}
export const n = (
  op: NumberOp,
  a: string,
  b: string | undefined,
  expect: string | number | typeof V,
): NumberCase => ({
  op,
  a,
  b,
  expect,
})

export const numberCases: ReadonlyArray<NumberCase> = [
  n("canon", "1.50", undefined, "1.5"),
  n("canon", "+7", undefined, "7"),
  n("canon", "007", undefined, "7"),
  n("canon", "-0", undefined, "0"),
  n("canon", "0.000", undefined, "0"),
  n("canon", "1e2", undefined, "100"),
  n("canon", "1E-2", undefined, "0.01"),
  n("canon", "-1.2300e+3", undefined, "-1230"),
  n("canon", ".5", undefined, "0.5"),
  n("canon", "5.", undefined, "5"),
  n(
    "canon",
    "9.9999999999999999999999999999999999999E+125",
    undefined,
    `99999999999999999999999999999999999999${"0".repeat(88)}`,
  ),
  n("canon", "1E-130", undefined, `0.${"0".repeat(129)}1`),
  n("canon", "1E+126", undefined, V),
  n("canon", "1E-131", undefined, V),
  n("canon", "0E+999999999", undefined, "0"),
  n("canon", "1E+9999999999", undefined, V),
  n("canon", "123456789012345678901234567890123456789", undefined, V),
  n("canon", "12345678901234567890123456789012345678", undefined, "12345678901234567890123456789012345678"),
  n(
    "canon",
    "1234567890123456789012345678901234567800000",
    undefined,
    "1234567890123456789012345678901234567800000",
  ),
  n("canon", "", undefined, V),
  n("canon", "abc", undefined, V),
  n("canon", "1.2.3", undefined, V),
  n("canon", "1e", undefined, V),
  n("canon", "--1", undefined, V),
  n("canon", " 1", undefined, V),
  n("canon", "Infinity", undefined, V),
  n("canon", "NaN", undefined, V),
  n("canon", "0x10", undefined, V),
  n("add", "0.1", "0.2", "0.3"),
  n("add", "1", "-1", "0"),
  n("add", "-0.5", "0.25", "-0.25"),
  n("add", "99999999999999999999999999999999999999", "1", "100000000000000000000000000000000000000"),
  n("add", "1E+125", "1", V),
  n("add", "9E+125", "9E+125", V),
  n("add", "1E-130", "1E-130", `0.${"0".repeat(129)}2`),
  n("add", "1.5", "2.25", "3.75"),
  n("add", "1e2", "1e-2", "100.01"),
  n("add", "999999999999999", "999999999999999", "1999999999999998"),
  n("sub", "-999999999999999", "999999999999999", "-1999999999999998"),
  n("add", "9999999999999999", "1", "10000000000000000"),
  n("add", "9007199254740993", "0", "9007199254740993"),
  n("add", "-5", "5", "0"),
  n("sub", "0.3", "0.1", "0.2"),
  n("sub", "1", "2", "-1"),
  n("sub", "1E-130", "1E-130", "0"),
  n("sub", "-9E+125", "9E+125", V),
  n("sub", "2E-130", "1.5E-130", V),
  n("cmp", "10", "9", 1),
  n("cmp", "9", "10", -1),
  n("cmp", "1.0", "1", 0),
  n("cmp", "-1", "-2", 1),
  n("cmp", "-0.01", "0", -1),
  n("cmp", "0", "-0", 0),
  n("cmp", "0.001", "0.01", -1),
  n("cmp", "1e3", "999.999", 1),
  n("cmp", "-1e3", "-999.999", -1),
  n("cmp", "12.5", "12.51", -1),
  n("cmp", "x", "1", V),
]
