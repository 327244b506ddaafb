/** The parsed-expression cache: keyed by text, bounded, least recently used evicted first. */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { compileCondition, ExpressionCache } from "@partita/expressions"
import { Either } from "effect"

describe("ExpressionCache", () => {
  it("serves one parse to every request with the same text, whatever its placeholders", () => {
    const cache = new ExpressionCache(8)
    const a = compileCondition("x = :v", { values: { ":v": { N: "1" } } }, cache)
    const b = compileCondition("x = :v", { values: { ":v": { S: "s" } } }, cache)
    assert.ok(Either.isRight(a) && Either.isRight(b))
    assert.equal(a.right({ x: { N: "1" } }), true)
    assert.equal(b.right({ x: { N: "1" } }), false)
    assert.equal(cache.misses, 1)
    assert.equal(cache.hits, 1)
    assert.equal(cache.size, 1)
  })
  it("keys by expression kind as well as text", () => {
    const cache = new ExpressionCache(8)
    cache.condition("a = :v")
    cache.condition("a = :v", "FilterExpression")
    cache.projection("a")
    assert.equal(cache.size, 3)
  })
  it("evicts the least recently used entry when full", () => {
    const cache = new ExpressionCache(2)
    cache.condition("a = :v")
    cache.condition("b = :v")
    cache.condition("a = :v") // a is now the most recent
    cache.condition("c = :v") // evicts b
    assert.equal(cache.size, 2)
    const misses = cache.misses
    cache.condition("a = :v")
    assert.equal(cache.misses, misses, "a stayed")
    cache.condition("b = :v")
    assert.equal(cache.misses, misses + 1, "b was evicted")
  })
  it("caches parse failures too", () => {
    const cache = new ExpressionCache(4)
    const first = compileCondition("a = = :v", { values: { ":v": { N: "1" } } }, cache)
    const second = compileCondition("a = = :v", { values: { ":v": { N: "1" } } }, cache)
    assert.ok(Either.isLeft(first) && Either.isLeft(second))
    assert.equal(second.left._tag, "ValidationException")
    assert.equal(second.left.message, first.left.message)
    assert.equal(cache.misses, 1)
    assert.equal(cache.hits, 1)
  })
  it("stays within its bound under many distinct texts", () => {
    const cache = new ExpressionCache(16)
    for (let i = 0; i < 1000; i++) cache.update(`SET a${i} = :v`)
    assert.equal(cache.size, 16)
  })
  it("refuses a zero capacity", () => {
    assert.throws(() => new ExpressionCache(0), RangeError)
  })
})
