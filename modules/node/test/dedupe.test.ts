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
          const views: Array<[() => { ids: string[] }, string[]]> = []
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
          for (const [v, want] of views) assert.deepEqual(v().ids, want)
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

  it("forgets ids stamped more than the window before the newest stamp, as a model does", () => {
    // The model: (id, stamp) pairs in order; a stamp is the running maximum (a smaller one is
    // raised to it), none (NaN) before any; evict from the front past `max` or while the front's
    // stamp is more than `window` before the newest.
    const stampArb = fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined })
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.tuple(fc.constantFrom("add", "has", "snapshot"), idArb, stampArb), { maxLength: 150 }),
        (max, window, ops) => {
          const s = new RequestIdSet(max, window)
          const order: Array<{ id: string; t: number }> = []
          let newest = Number.NEGATIVE_INFINITY
          for (const [op, id, stamp] of ops) {
            if (op === "add") {
              const added = s.addIfAbsent(id, stamp)
              const held = order.some((e) => e.id === id)
              assert.equal(added, !held)
              if (held) continue
              let t = Number.NaN
              if (stamp !== undefined) {
                newest = Math.max(newest, stamp)
                t = newest
              } else if (newest !== Number.NEGATIVE_INFINITY) t = newest
              order.push({ id, t })
              while (order.length > max || (order.length > 0 && order[0]!.t < newest - window)) order.shift()
            } else if (op === "has")
              assert.equal(
                s.has(id),
                order.some((e) => e.id === id),
              )
            else {
              // A copy (a snapshot, a split child) holds the same ids and forgets them the same way.
              const e = s.entries()
              assert.deepEqual(
                e.ids,
                order.map((x) => x.id),
              )
              assert.deepEqual(
                e.stamps,
                order.map((x) => x.t),
              )
              const copy = new RequestIdSet(max, window)
              copy.addAll(e.ids, e.stamps)
              assert.deepEqual(copy.entries(), e)
              assert.equal(
                copy.newestStamp,
                order.some((x) => !Number.isNaN(x.t)) ? newest : copy.newestStamp,
              )
            }
            assert.equal(s.size, order.length)
          }
          assert.deepEqual(
            s.toArray(),
            order.map((x) => x.id),
          )
        },
      ),
      { numRuns: 400 },
    )
  })

  it("stays small at a steady rate: the window, not the count, bounds it", () => {
    const s = new RequestIdSet(100_000, 30_000)
    // 1,000 writes/s for 5 minutes of stamps: 30 s of them are held.
    for (let i = 0; i < 300_000; i++) s.add(`rr${i % 3}:${i}`, Math.floor(i / 1000) * 1000)
    assert.ok(s.size >= 30_000 && s.size <= 31_000, `held ${s.size}`)
    assert.equal(s.has("rr0:0"), false)
    assert.equal(s.has("rr2:299999"), true)
    // The arrays behind it are trimmed as the front is evicted.
    const order = (s as unknown as { order: unknown[] }).order
    assert.ok(order.length <= 2 * s.size + 1024, `order array of ${order.length}`)
  })
})
