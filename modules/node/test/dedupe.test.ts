import assert from "node:assert/strict"
import { describe, it } from "node:test"
import fc from "fast-check"
import { RequestIdSet } from "../src/internal/dedupe.ts"

/** The model: a set of strings with first-in-first-out eviction past `max`. */
class Model {
  order: string[] = []
  constructor(readonly max: number) {}
  has(id: string): boolean {
    return this.order.includes(id)
  }
  add(id: string): void {
    if (this.has(id)) return
    this.order.push(id)
    if (this.order.length > this.max) this.order.shift()
  }
}

const idArb = fc.oneof(
  // router-style ids, the common case
  fc
    .tuple(fc.constantFrom("rr0", "rr1", "rr12", "a:b", ""), fc.nat({ max: 40 }))
    .map(([p, n]) => `${p}:${n}`),
  // near the edges of the numeric form: leading zeros, big sequences, no digits
  fc.constantFrom(
    "rr0:007",
    "rr0:0",
    "rr0:00",
    "rr0:68719476735",
    "rr0:68719476736",
    "rr0:99999999999",
    "rr0:123456789012",
    "rr0:",
    "w1",
    "x",
    "rr0:1a",
    "rr0:-1",
    ":",
    "rr0:1:2",
  ),
  fc.string({ maxLength: 6 }),
)

describe("RequestIdSet", () => {
  it("behaves as a FIFO-bounded set of strings and gives the same ids back in order", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.tuple(fc.constantFrom("add", "has", "clear", "view"), idArb), { maxLength: 120 }),
        (max, ops) => {
          const s = new RequestIdSet(max)
          const m = new Model(max)
          const views: Array<[() => string[], string[]]> = []
          for (const [op, id] of ops) {
            if (op === "add") {
              s.add(id)
              m.add(id)
            } else if (op === "has") assert.equal(s.has(id), m.has(id), `has(${JSON.stringify(id)})`)
            else if (op === "clear") {
              s.clear()
              m.order = []
            } else views.push([s.view(), [...m.order]])
            assert.equal(s.size, m.order.length)
          }
          assert.deepEqual(s.toArray(), m.order)
          for (const id of m.order) assert.ok(s.has(id))
          // A view made earlier still gives the ids held at that moment.
          for (const [v, want] of views) assert.deepEqual(v(), want)
        },
      ),
      { numRuns: 400 },
    )
  })

  it("keeps router ids as numbers (no string per id held)", () => {
    const s = new RequestIdSet(1000)
    for (let i = 0; i < 1000; i++) s.add(`rr${i % 3}:${i}`)
    const stored = (s as unknown as { order: unknown[] }).order
    assert.ok(stored.every((k) => typeof k === "number"))
    assert.deepEqual(s.toArray().slice(0, 3), ["rr0:0", "rr1:1", "rr2:2"])
    assert.equal(s.has("rr1:1"), true)
    assert.equal(s.has("rr0:1"), false)
    assert.equal(s.has("rr9:1"), false)
  })
})
