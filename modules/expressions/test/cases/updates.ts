/**
 * Table-driven update expression cases from DynamoDB's documented behaviour (Update
 * expressions: SET, REMOVE, ADD, DELETE; arithmetic; if_not_exists; list_append; overlapping
 * paths). Each case gives the expression and the expected new item as a change to `base`
 * (attributes set or removed at the top level), or the expected error tag.
 */
import type { AttributeValue, Item } from "@partita/core"
import { B, BOOL, BS, L, M, N, NS, NULL, S, SS } from "../fixtures.ts"

export const base: Item = {
  id: S("u1"),
  n: N("10"),
  s: S("x"),
  l: L(N("0"), N("1"), N("2"), N("3")),
  m: M({ a: N("1"), kid: M({ b: S("y") }), arr: L(S("p")) }),
  ss: SS("a", "b"),
  ns: NS("1", "2"),
  bs: BS([1]),
  t: BOOL(true),
}

export interface Change {
  readonly set?: Record<string, AttributeValue>
  readonly del?: ReadonlyArray<string>
}
export type Expect = Change | "ValidationException"
export interface Case {
  readonly expr: string
  readonly expect: Expect
  readonly item?: Item
  readonly names?: Record<string, string>
  readonly values?: Record<string, AttributeValue>
  readonly msg?: string
}

export const V = "ValidationException" as const
export const u = (expr: string, expect: Expect, more: Partial<Case> = {}): Case => ({ expr, expect, ...more })
export const set = (o: Record<string, AttributeValue>, del: string[] = []): Change => ({ set: o, del })
export const del = (...names: string[]): Change => ({ del: names })
export const same: Change = {}

export const updateCases: ReadonlyArray<Case> = [
  // --- SET values ---
  u("SET s = :a", set({ s: S("a") })),
  u("SET newattr = :ten", set({ newattr: N("10") })),
  u("SET newattr = :ten0", set({ newattr: N("10") }), { msg: "numbers are stored canonical" }),
  u("SET newattr = :e1", set({ newattr: N("10") })),
  u("SET n = :hello", set({ n: S("hello world") }), { msg: "SET may change the type" }),
  u("SET s = :true, n = :null", set({ s: BOOL(true), n: NULL })),
  u(
    "SET newattr = :map",
    set({ newattr: M({ a: S("x"), nested: M({ deep: N("42") }), arr: L(S("p"), S("q")) }) }),
  ),
  u("SET newattr = :emptyMap", set({ newattr: M({}) })),
  u("SET newattr = :l0", set({ newattr: L() })),
  u("SET newattr = :empty", set({ newattr: S("") })),
  u("SET newattr = :ss", set({ newattr: SS("green", "red") })),
  u("SET s = n", set({ s: N("10") }), { msg: "copy one attribute to another" }),
  u("SET s = m.kid.b", set({ s: S("y") })),
  u("SET s = l[3]", set({ s: N("3") })),
  u("SET s = absent", V, { msg: "refers to an attribute that does not exist" }),
  u("SET s = l[9]", V),
  u("SET #new = :one", set({ newattr: N("1") })),
  u("SET #a = :one", set({ a: N("1") })),
  u("set s = :a", set({ s: S("a") }), { msg: "clause keywords are case-insensitive" }),
  u("SET s = :a, newattr = :b", set({ s: S("a"), newattr: S("b") })),
  u("SET s = n, n = s", set({ s: N("10"), n: S("x") }), { msg: "operands read the item before the update" }),
  // --- SET nested ---
  u("SET m.a = :two", set({ m: M({ a: N("2"), kid: M({ b: S("y") }), arr: L(S("p")) }) })),
  u("SET m.c = :two", set({ m: M({ a: N("1"), kid: M({ b: S("y") }), arr: L(S("p")), c: N("2") }) })),
  u("SET m.kid.b = :x", set({ m: M({ a: N("1"), kid: M({ b: S("x") }), arr: L(S("p")) }) })),
  u("SET m.kid.c = :x", set({ m: M({ a: N("1"), kid: M({ b: S("y"), c: S("x") }), arr: L(S("p")) }) })),
  u("SET m.arr[0] = :q", set({ m: M({ a: N("1"), kid: M({ b: S("y") }), arr: L(S("q")) }) })),
  u("SET m.arr[5] = :q", set({ m: M({ a: N("1"), kid: M({ b: S("y") }), arr: L(S("p"), S("q")) }) })),
  u("SET m.nope.x = :a", V, { msg: "document path provided in the update expression is invalid" }),
  u("SET absent.x = :a", V, { msg: "invalid for update" }),
  u("SET s.x = :a", V, { msg: "invalid for update" }),
  u("SET m[0] = :a", V),
  u("SET l.x = :a", V),
  u("SET l[1] = :a", set({ l: L(N("0"), S("a"), N("2"), N("3")) })),
  u("SET l[4] = :a", set({ l: L(N("0"), N("1"), N("2"), N("3"), S("a")) })),
  u("SET l[100] = :a", set({ l: L(N("0"), N("1"), N("2"), N("3"), S("a")) }), {
    msg: "past the end appends",
  }),
  u("SET l[0] = :a, l[1] = :b", set({ l: L(S("a"), S("b"), N("2"), N("3")) })),
  u("SET l[0].x = :a", V),
  u("SET m.#a = :two", set({ m: M({ a: N("2"), kid: M({ b: S("y") }), arr: L(S("p")) }) })),
  // --- arithmetic ---
  u("SET n = n + :one", set({ n: N("11") })),
  u("SET n = n - :one", set({ n: N("9") })),
  u("SET n = :one + n", set({ n: N("11") })),
  u("SET n = :one - n", set({ n: N("-9") })),
  u("SET newattr = :p1 + :p2", set({ newattr: N("0.3") }), { msg: "0.1 + 0.2 is exactly 0.3" }),
  u("SET newattr = :p2 - :p1", set({ newattr: N("0.1") })),
  u("SET newattr = :ten - :ten", set({ newattr: N("0") })),
  u("SET newattr = :e30 + :one", set({ newattr: N("1000000000000000000000000000001") })),
  u("SET newattr = :e30 + :em30", V, { msg: "38 significant digits" }),
  u("SET newattr = :max + :max", V, { msg: "overflow" }),
  u("SET newattr = :tiny - :tiny", set({ newattr: N("0") })),
  u("SET n = n + :hello", V, { msg: "incorrect data type" }),
  u("SET n = s + :one", V, { msg: "incorrect data type" }),
  u("SET n = absent + :one", V, { msg: "does not exist" }),
  u("SET n = n + n", set({ n: N("20") })),
  u("SET m.a = m.a + :one", set({ m: M({ a: N("2"), kid: M({ b: S("y") }), arr: L(S("p")) }) })),
  u("SET n = n + :one + :one", V, { msg: "Syntax error" }),
  u("SET n = (n + :one)", V),
  u("SET n = n * :two", V),
  u("SET n = ss + :sa", V),
  // --- if_not_exists ---
  u("SET n = if_not_exists(n, :zero)", same),
  u("SET newattr = if_not_exists(newattr, :zero)", set({ newattr: N("0") })),
  u("SET n = if_not_exists(n, :zero) + :one", set({ n: N("11") })),
  u("SET newattr = if_not_exists(newattr, :zero) + :one", set({ newattr: N("1") })),
  u("SET s = if_not_exists(m.kid.b, :a)", set({ s: S("y") })),
  u("SET s = if_not_exists(m.kid.z, :a)", set({ s: S("a") })),
  u("SET s = if_not_exists(:a, s)", V, { msg: "requires a document path" }),
  u("SET s = if_not_exists(s)", V, { msg: "Incorrect number of operands" }),
  u("SET s = if_not_exists(absent, absent2)", V),
  // --- list_append ---
  u("SET l = list_append(l, :l1)", set({ l: L(N("0"), N("1"), N("2"), N("3"), S("z")) })),
  u("SET l = list_append(:l1, l)", set({ l: L(S("z"), N("0"), N("1"), N("2"), N("3")) })),
  u("SET newattr = list_append(:l1, :l1)", set({ newattr: L(S("z"), S("z")) })),
  u("SET l = list_append(l, :l0)", same),
  u("SET newattr = list_append(if_not_exists(newattr, :l0), :l1)", set({ newattr: L(S("z")) })),
  u(
    "SET m.arr = list_append(m.arr, :l1)",
    set({ m: M({ a: N("1"), kid: M({ b: S("y") }), arr: L(S("p"), S("z")) }) }),
  ),
  u("SET l = list_append(l, :one)", V, { msg: "incorrect data type" }),
  u("SET l = list_append(s, :l1)", V),
  u("SET l = list_append(absent, :l1)", V),
  u("SET l = list_append(l)", V),
  u("SET l = list_append(l, :l1, :l1)", V),
  // --- functions that belong elsewhere ---
  u("SET n = size(s)", V, { msg: "not allowed" }),
  u("SET n = begins_with(s, :a)", V),
  u("SET n = attribute_exists(s)", V),
  u("SET n = foo(s)", V, { msg: "Invalid function name" }),
  u("SET n = If_Not_Exists(n, :one)", V, { msg: "Invalid function name" }),
  // --- REMOVE ---
  u("REMOVE s", del("s")),
  u("REMOVE s, n", del("s", "n")),
  u("REMOVE absent", same, { msg: "removing an absent attribute is a no-op" }),
  u("REMOVE m.a", set({ m: M({ kid: M({ b: S("y") }), arr: L(S("p")) }) })),
  u("REMOVE m.kid.b", set({ m: M({ a: N("1"), kid: M({}), arr: L(S("p")) }) })),
  u("REMOVE m.zz", same),
  u("REMOVE m.kid.zz.yy", V, { msg: "invalid for update" }),
  u("REMOVE absent.x", V, { msg: "invalid for update" }),
  u("REMOVE absent[0]", V),
  u("REMOVE l[9].x", V),
  u("REMOVE l[0]", set({ l: L(N("1"), N("2"), N("3")) })),
  u("REMOVE l[3]", set({ l: L(N("0"), N("1"), N("2")) })),
  u("REMOVE l[1], l[2]", set({ l: L(N("0"), N("3")) }), { msg: "indexes name elements of the old list" }),
  u("REMOVE l[2], l[1]", set({ l: L(N("0"), N("3")) })),
  u("REMOVE l[0], l[3]", set({ l: L(N("1"), N("2")) })),
  u("REMOVE l[9]", same),
  u("REMOVE m.arr[0]", set({ m: M({ a: N("1"), kid: M({ b: S("y") }), arr: L() }) })),
  u("REMOVE #a", same),
  u("REMOVE s.x", V, { msg: "invalid for update" }),
  u("REMOVE s = :a", V),
  u("REMOVE :a", V),
  u("REMOVE", V),
  // --- ADD ---
  u("ADD n :one", set({ n: N("11") })),
  u("ADD n :m3", set({ n: N("7") })),
  u("ADD newattr :five", set({ newattr: N("5") }), { msg: "ADD to an absent attribute starts from 0" }),
  u("ADD n :p1", set({ n: N("10.1") })),
  u("ADD s :one", V, { msg: "incorrect data type" }),
  u("ADD ss :sbc", set({ ss: SS("a", "b", "c") })),
  u("ADD ss :sa", same),
  u("ADD newattr :sz", set({ newattr: SS("z") })),
  u("ADD ns :n15", set({ ns: NS("1", "2", "5") }), { msg: "1.0 is already a member" }),
  u("ADD bs :b9", set({ bs: BS([1], [9]) })),
  u("ADD ss :n1", V, { msg: "incorrect data type" }),
  u("ADD n :sa", V),
  u("ADD s :a", V, { msg: "operator: ADD, operand type: STRING" }),
  u("ADD n :list", V),
  u("ADD n :true", V),
  u("ADD m.a :one", set({ m: M({ a: N("2"), kid: M({ b: S("y") }), arr: L(S("p")) }) })),
  u("ADD m.newn :one", set({ m: M({ a: N("1"), kid: M({ b: S("y") }), arr: L(S("p")), newn: N("1") }) })),
  u("ADD n :one, ss :sz", set({ n: N("11"), ss: SS("a", "b", "z") })),
  u("ADD n", V),
  u("ADD n = :one", V),
  u("ADD n s", V),
  u("ADD n :max", V, { msg: "38 significant digits" }),
  // --- DELETE ---
  u("DELETE ss :sa", set({ ss: SS("b") })),
  u("DELETE ss :sab", del("ss"), { msg: "deleting every element removes the attribute" }),
  u("DELETE ss :sz", same),
  u("DELETE absent :sa", same),
  u("DELETE m.absent :sa", same),
  u("DELETE absent.x :sa", V, { msg: "invalid for update" }),
  u("DELETE ns :n1", set({ ns: NS("2") })),
  u("DELETE bs :b1", del("bs")),
  u("DELETE ss :n1", V, { msg: "incorrect data type" }),
  u("DELETE s :sa", V),
  u("DELETE n :one", V, { msg: "operator: DELETE, operand type: NUMBER" }),
  u("DELETE ss :a", V),
  u("DELETE ss", V),
  // --- several clauses ---
  u("SET s = :a REMOVE n", set({ s: S("a") }, ["n"])),
  u("REMOVE n SET s = :a", set({ s: S("a") }, ["n"])),
  u(
    "SET s = :a REMOVE n ADD newattr :one DELETE ss :sa",
    set({ s: S("a"), newattr: N("1"), ss: SS("b") }, ["n"]),
  ),
  u(
    "SET s = :a, t = :false REMOVE n, l[0]",
    set({ s: S("a"), t: BOOL(false), l: L(N("1"), N("2"), N("3")) }, ["n"]),
  ),
  u("SET s = :a SET n = :one", V, { msg: 'The "SET" section can only be used once' }),
  u("REMOVE s REMOVE n", V),
  u("ADD n :one ADD newattr :one", V),
  u("SET s = :a,", V),
  u("SET s = :a REMOVE", V),
  u("SET", V),
  u("SET s", V),
  u("SET s =", V),
  u("SET s :a", V),
  u("", V, { msg: "can not be empty" }),
  u("UPDATE s = :a", V),
  u("s = :a", V),
  // --- overlapping and conflicting paths ---
  u("SET s = :a, s = :b", V, { msg: "Two document paths overlap" }),
  u("SET s = :a REMOVE s", V, { msg: "overlap" }),
  u("SET m = :a, m.a = :b", V, { msg: "overlap" }),
  u("SET m.a = :b REMOVE m", V, { msg: "overlap" }),
  u("SET m.kid.b = :a, m.kid = :emptyMap", V),
  u("ADD n :one SET n = :two", V),
  u("ADD ss :sa DELETE ss :sa", V),
  u("SET #s = :a, s = :b", V, { msg: "overlap" }),
  u("SET #n = :a REMOVE n", V),
  u("SET l[0] = :a, l[0] = :b", V),
  u("SET l[0] = :a REMOVE l", V),
  u("SET l[0] = :a, l.x = :b", V, { msg: "conflict" }),
  u("SET m.a = :a, m.kid.b = :b", set({ m: M({ a: S("a"), kid: M({ b: S("b") }), arr: L(S("p")) }) })),
  u("SET l[1] = :a REMOVE l[2]", set({ l: L(N("0"), S("a"), N("3")) })),
  u(
    "SET m.a = :a, m.ab = :b",
    set({ m: M({ a: S("a"), kid: M({ b: S("y") }), arr: L(S("p")), ab: S("b") }) }),
  ),
  // --- reserved words, names, values ---
  u("SET name = :a", V, { msg: "reserved keyword" }),
  u("SET #name = :a", set({ name: S("a") })),
  u("REMOVE status", V),
  u("SET #status = :a", set({ status: S("a") })),
  u("SET s = :nope", V, { msg: "not defined" }),
  u("SET #nope = :a", V, { msg: "not defined" }),
  u("SET s = :a", V, { values: { ":a": S("a"), ":b": S("b") }, msg: "unused" }),
  u("SET s = :a", V, { names: { "#s": "s" }, values: { ":a": S("a") }, msg: "unused" }),
  u("SET s = :a", V, { values: { ":a": { SS: [] } } }),
  u("SET s = :a", set({ s: B(1, 2) }), { values: { ":a": B(1, 2) } }),
  // --- updates on an empty (new) item ---
  u("SET s = :a", set({ s: S("a") }), { item: {} }),
  u("ADD n :one", set({ n: N("1") }), { item: {} }),
  u("REMOVE s", same, { item: {} }),
  u("SET m.a = :a", V, { item: {} }),
  u("SET n = n + :one", V, { item: {} }),
]
