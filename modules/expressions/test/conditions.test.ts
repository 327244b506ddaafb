/**
 * Table-driven condition expression cases, written from DynamoDB's documented behaviour
 * (Comparison operator and function reference; Condition expressions; Expression attribute
 * names and values; Reserved words). Each case: expression, expected truth value or error tag,
 * optional item and explicit placeholders (default: the sample item and the placeholders the
 * expression mentions, from the pools in fixtures.ts).
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { evaluateCondition } from "@partita/expressions"
import { Either } from "effect"
import { conditionCases, V } from "./cases/conditions.ts"
import { placeholdersFor, sample, show } from "./fixtures.ts"

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
