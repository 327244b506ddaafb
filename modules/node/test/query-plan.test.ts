import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { type AttributeValue, encodeKeyValue } from "@partita/core"
import type { TableKeySchema } from "@partita/expressions"
import fc from "fast-check"
import {
  aboveRange,
  adjacent,
  afterStartKey,
  belowRange,
  positionIn,
  queryKeyRange,
} from "../src/internal/queryPlan.ts"

/**
 * The router's reading of a key condition against a model: the encoded bounds hold every match,
 * and "above the range" / "below the range" never skip one (so a walk over a split collection
 * that stops there misses nothing).
 */
const schemaOf = (t: "N" | "S"): TableKeySchema => ({
  partitionKey: { name: "pk", type: "S" },
  sortKey: { name: "sk", type: t },
})

type Op = "=" | "<" | "<=" | ">" | ">=" | "between" | "begins_with"

const NUMBERS = Array.from({ length: 41 }, (_, i) => i - 10)
const STRINGS = ["a", "aa", "aab", "ab", "abb", "b", "ba", "bab", "bb", "c"]

const av = (t: "N" | "S", x: number | string): AttributeValue =>
  t === "N" ? { N: String(x) } : { S: String(x) }
const cmp = (a: number | string, b: number | string): number => (a < b ? -1 : a > b ? 1 : 0)

const keepOf =
  (op: Op, a: number | string, b: number | string) =>
  (y: number | string): boolean => {
    switch (op) {
      case "=":
        return cmp(y, a) === 0
      case "<":
        return cmp(y, a) < 0
      case "<=":
        return cmp(y, a) <= 0
      case ">":
        return cmp(y, a) > 0
      case ">=":
        return cmp(y, a) >= 0
      case "between":
        return cmp(y, a) >= 0 && cmp(y, b) <= 0
      case "begins_with":
        return String(y).startsWith(String(a))
    }
  }

const conditionOf = (op: Op, swap: boolean): string =>
  op === "between"
    ? "pk = :p AND sk BETWEEN :a AND :b"
    : op === "begins_with"
      ? "begins_with(#s, :a) AND :p = pk"
      : swap
        ? `:a ${{ "=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<=" }[op]} sk AND pk = :p`
        : `pk = :p AND sk ${op} :a`

const arb = fc.oneof(
  fc.record({
    t: fc.constant("N" as const),
    op: fc.constantFrom<Op>("=", "<", "<=", ">", ">=", "between"),
    a: fc.constantFrom(...NUMBERS),
    b: fc.constantFrom(...NUMBERS),
    esk: fc.option(fc.constantFrom(...NUMBERS)),
    forward: fc.boolean(),
    swap: fc.boolean(),
  }),
  fc.record({
    t: fc.constant("S" as const),
    op: fc.constantFrom<Op>("=", "<", "<=", ">", ">=", "between", "begins_with"),
    a: fc.constantFrom(...STRINGS),
    b: fc.constantFrom(...STRINGS),
    esk: fc.option(fc.constantFrom(...STRINGS)),
    forward: fc.boolean(),
    swap: fc.boolean(),
  }),
)

describe("queryKeyRange and the walk's stopping rules", () => {
  it("never leave out a matching sort key (property, against a model)", () => {
    fc.assert(
      fc.property(arb, ({ t, op, a, b, esk, forward, swap }) => {
        const [lo, hi] = op === "between" && cmp(a, b) > 0 ? [b, a] : [a, b]
        const domain: ReadonlyArray<number | string> = t === "N" ? NUMBERS : STRINGS
        const r0 = queryKeyRange(
          {
            KeyConditionExpression: conditionOf(op, swap && op !== "between" && op !== "begins_with"),
            ExpressionAttributeNames: op === "begins_with" ? { "#s": "sk" } : undefined,
            ExpressionAttributeValues: {
              ":p": { S: "x" },
              ":a": av(t, lo),
              ...(op === "between" ? { ":b": av(t, hi) } : {}),
            },
          },
          schemaOf(t),
        )
        assert.ok(r0 !== undefined)
        assert.deepEqual(r0.partitionKey, { S: "x" })
        const start = esk === null ? undefined : esk
        const r = afterStartKey(
          r0,
          start === undefined ? undefined : { pk: { S: "x" }, sk: av(t, start) },
          schemaOf(t),
          forward,
        )
        const cond = keepOf(op, lo, hi)
        const keep = (y: number | string): boolean =>
          cond(y) && (start === undefined || (forward ? cmp(y, start) > 0 : cmp(y, start) < 0))
        const enc = (y: number | string): string => encodeKeyValue(av(t, y))
        for (const y of domain) {
          if (!keep(y)) continue
          assert.ok(r.from === undefined || enc(y) >= r.from, `${y} below from`)
          assert.ok(r.to === undefined || enc(y) <= r.to, `${y} above to`)
        }
        for (const x of domain) {
          if (aboveRange(r, enc(x)))
            for (const y of domain) if (cmp(y, x) >= 0) assert.ok(!keep(y), `above at ${x} skips ${y}`)
          if (belowRange(r, enc(x)))
            for (const y of domain) if (cmp(y, x) < 0) assert.ok(!keep(y), `below at ${x} skips ${y}`)
        }
      }),
      { seed: 20_251_126, numRuns: 400 },
    )
  })

  it("finds the partition key however the condition is written, and widens on what it cannot read", () => {
    const ks = schemaOf("N")
    const r = queryKeyRange(
      {
        KeyConditionExpression: "#k = :v AND #s > :x",
        ExpressionAttributeNames: { "#k": "pk", "#s": "sk" },
        ExpressionAttributeValues: { ":v": { S: "q" }, ":x": { N: "3" } },
      },
      ks,
    )
    assert.deepEqual(r?.partitionKey, { S: "q" })
    assert.equal(r?.from, encodeKeyValue({ N: "3" }))
    assert.equal(r?.fromExclusive, true)
    assert.equal(queryKeyRange({ KeyConditionExpression: "sk > :x" }, ks), undefined)
    // OR is not a key condition (the node rejects it); routing falls back to the whole collection.
    const wide = queryKeyRange(
      {
        KeyConditionExpression: "pk = :v AND (sk < :x OR sk > :x)",
        ExpressionAttributeValues: { ":v": { S: "q" }, ":x": { N: "3" } },
      },
      ks,
    )
    assert.equal(wide?.from, undefined)
    assert.equal(wide?.to, undefined)
  })

  it("places positions inside partitions and checks that answering partitions adjoin", () => {
    const h = "7f".repeat(16)
    assert.deepEqual(positionIn({ start: { hash: "00".repeat(16) } }, h), { hash: h })
    assert.deepEqual(positionIn({ start: { hash: h, sortKey: "k" } }, h), { hash: h, sortKey: "k" })
    const edge = { hash: h, sortKey: "k" }
    assert.ok(adjacent(edge, { start: edge, end: undefined }, true))
    assert.ok(!adjacent(edge, { start: { hash: h }, end: undefined }, true))
    assert.ok(adjacent(edge, { start: { hash: h }, end: edge }, false))
    assert.ok(!adjacent(edge, { start: { hash: h }, end: undefined }, false))
  })
})
