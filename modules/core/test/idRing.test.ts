import assert from "node:assert/strict"
import { describe, it } from "node:test"
import fc from "fast-check"
import { IdRing } from "../src/index.ts"

type Op =
  | { readonly k: "add" }
  | { readonly k: "take"; readonly back: number }
  | { readonly k: "delete"; readonly back: number }
  | { readonly k: "set"; readonly back: number }
  | { readonly k: "sweep"; readonly upTo: number }

const ops: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ k: "add" as const }) },
  { weight: 3, arbitrary: fc.nat(400).map((back) => ({ k: "take" as const, back })) },
  { weight: 1, arbitrary: fc.nat(400).map((back) => ({ k: "delete" as const, back })) },
  { weight: 1, arbitrary: fc.nat(400).map((back) => ({ k: "set" as const, back })) },
  { weight: 1, arbitrary: fc.nat(50).map((upTo) => ({ k: "sweep" as const, upTo })) },
)

describe("IdRing", () => {
  it("behaves like an insertion-ordered Map for increasing ids (property, against a Map)", () => {
    fc.assert(
      fc.property(fc.array(ops, { maxLength: 600 }), fc.integer({ min: 0, max: 2 ** 40 }), (script, base) => {
        const ring = new IdRing<string>(16)
        const model = new Map<number, string>()
        let next = base
        for (const op of script) {
          const id = next - 1 - ("back" in op ? op.back : 0)
          switch (op.k) {
            case "add":
              ring.set(next, `v${next}`)
              model.set(next, `v${next}`)
              next++
              break
            case "take": {
              const want = model.get(id)
              model.delete(id)
              assert.equal(ring.take(id), want)
              break
            }
            case "delete":
              assert.equal(ring.delete(id), model.delete(id))
              break
            case "set":
              // Overwrite a held id (ids below the base are never held).
              if (model.has(id)) {
                ring.set(id, `w${id}`)
                model.set(id, `w${id}`)
              }
              break
            case "sweep": {
              // Take the oldest `upTo` entries, in id order, as a router's sweep does.
              let n = 0
              ring.forEachOldest((rid, v) => {
                if (n++ >= op.upTo) return false
                assert.equal(v, model.get(rid))
                ring.delete(rid)
                model.delete(rid)
                return true
              })
              break
            }
          }
          assert.equal(ring.size, model.size)
        }
        const ids = [...model.keys()].sort((a, b) => a - b)
        assert.deepEqual(
          ring.valuesInOrder(),
          ids.map((i) => model.get(i)),
        )
        for (const i of ids) assert.equal(ring.get(i), model.get(i))
        assert.equal(ring.get(next), undefined)
        assert.equal(ring.has(base - 1), false)
      }),
      { numRuns: 300 },
    )
  })

  it("rejects ids that are not non-negative safe integers, and clears", () => {
    const ring = new IdRing<number>()
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) assert.throws(() => ring.set(bad, 0), RangeError)
    ring.set(3, 3)
    ring.set(9000, 9000)
    assert.equal(ring.size, 2)
    ring.clear()
    assert.equal(ring.size, 0)
    assert.equal(ring.get(3), undefined)
    assert.deepEqual(ring.valuesInOrder(), [])
    ring.set(9001, 1)
    assert.deepEqual(ring.valuesInOrder(), [1])
  })
})
