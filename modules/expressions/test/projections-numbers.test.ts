/**
 * Table-driven projection expression and number cases (DynamoDB's Projection expressions and
 * Number data type documentation: 38 digits of precision, magnitude 1E-130 … 9.99…E+125).
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import {
  addNumbers,
  canonicalNumber,
  compareNumbers,
  projectItem,
  subtractNumbers,
} from "@partita/expressions"
import { Either } from "effect"
import { numberCases, projectionCases, V } from "./cases/projections-numbers.ts"
import { namePool, sample, show } from "./fixtures.ts"

describe("projection expressions (table)", () => {
  for (const k of projectionCases) {
    it(`${k.expr || "<empty>"} → ${k.expect === V ? V : show(k.expect)}`, () => {
      const names =
        "names" in k
          ? k.names
          : Object.fromEntries(
              [...k.expr.matchAll(/#[A-Za-z0-9_]+/g)].flatMap((m) =>
                namePool[m[0]] ? [[m[0], namePool[m[0]]!]] : [],
              ),
            )
      const r = projectItem(
        k.expr,
        sample,
        names !== undefined && Object.keys(names).length > 0 ? names : undefined,
      )
      if (k.expect === V) {
        assert.ok(Either.isLeft(r), show(r))
        if (k.msg !== undefined) assert.ok(r.left.message.includes(k.msg), r.left.message)
      } else {
        assert.ok(Either.isRight(r), show(r))
        assert.deepEqual(r.right, k.expect)
      }
    })
  }
})

describe("numbers (table)", () => {
  for (const k of numberCases) {
    it(`${k.op}(${k.a}${k.b === undefined ? "" : `, ${k.b}`}) → ${String(k.expect).slice(0, 40)}`, () => {
      const r: Either.Either<string | number, { _tag: string }> =
        k.op === "canon"
          ? canonicalNumber(k.a)
          : k.op === "add"
            ? addNumbers(k.a, k.b!)
            : k.op === "sub"
              ? subtractNumbers(k.a, k.b!)
              : compareNumbers(k.a, k.b!)
      if (k.expect === V) {
        assert.ok(Either.isLeft(r), show(r))
        assert.equal(r.left._tag, V)
      } else {
        assert.ok(Either.isRight(r), show(r))
        assert.equal(r.right, k.expect)
      }
    })
  }
})
