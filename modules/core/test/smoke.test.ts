import { describe, it } from "node:test"
import assert from "node:assert/strict"
import type { Item } from "@partita/core"
import { Effect } from "effect"
import fc from "fast-check"

describe("smoke", () => {
  it("runs", () => {
    const i: Item = { a: { S: "x" } }
    assert.equal(Effect.runSync(Effect.succeed(1)), 1)
    fc.assert(fc.property(fc.integer(), (n) => n + 0 === n))
    assert.ok(i)
  })
})
