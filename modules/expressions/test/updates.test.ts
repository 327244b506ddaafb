/**
 * Table-driven update expression cases from DynamoDB's documented behaviour (Update
 * expressions: SET, REMOVE, ADD, DELETE; arithmetic; if_not_exists; list_append; overlapping
 * paths). Each case gives the expression and the expected new item as a change to `base`
 * (attributes set or removed at the top level), or the expected error tag.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import type { AttributeValue, Item } from "@partita/core"
import { applyUpdateExpression } from "@partita/expressions"
import { Either } from "effect"
import { base, type Change, updateCases, V } from "./cases/updates.ts"
import { placeholdersFor, show } from "./fixtures.ts"

const applyChange = (item: Item, change: Change): Item => {
  const out: Record<string, AttributeValue> = { ...item, ...change.set }
  for (const k of change.del ?? []) delete out[k]
  return out
}

describe("update expressions (table)", () => {
  it(`has at least 150 cases (${updateCases.length})`, () => {
    assert.ok(updateCases.length >= 150)
  })
  for (const k of updateCases) {
    it(`${k.expr} → ${k.expect === V ? V : "ok"}${k.msg !== undefined ? ` (${k.msg})` : ""}`, () => {
      const pool = placeholdersFor([k.expr])
      const names = "names" in k ? k.names : pool.names
      const values = "values" in k ? k.values : pool.values
      const item = k.item ?? base
      const before = show(item)
      const r = applyUpdateExpression(k.expr, item, { names, values })
      assert.equal(show(item), before, "the input item is never mutated")
      if (k.expect === V) {
        assert.ok(Either.isLeft(r), `expected ValidationException, got ${show(r)}`)
        assert.equal(r.left._tag, V)
        if (k.msg !== undefined) assert.ok(r.left.message.includes(k.msg), r.left.message)
      } else {
        assert.ok(Either.isRight(r), `expected success, got ${show(r)}`)
        assert.deepEqual(r.right, applyChange(item, k.expect))
      }
    })
  }
})
