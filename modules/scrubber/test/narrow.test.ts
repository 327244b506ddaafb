import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { BTree, type Scalar } from "@partita/btree"
import fc from "fast-check"
import { Narrowing, answerRequest, narrow, viewSource } from "../src/index.ts"

const key = (i: number) => `k${String(i).padStart(6, "0")}`

const baseTree = (n: number, seed: number): BTree<Scalar> => {
  const keys: string[] = []
  const values: Scalar[] = []
  for (let i = 0; i < n; i++) {
    keys.push(key(i * 2)) // even keys exist; odd keys are free for inserts
    values.push(i % 3 === 0 ? i * seed : `v${i}-${seed}`)
  }
  return BTree.fromSorted(keys, values)
}

describe("narrowing", () => {
  it("finds nothing when the replicas agree, after one summary each", () => {
    const t = baseTree(1000, 7)
    const r = narrow([viewSource(t), viewSource(t.clone()), viewSource(t.clone())])
    assert.equal(r.differences.length, 0)
    assert.equal(r.checksumsExchanged, 3)
  })

  it("the narrowed key set equals exactly the corrupted keys (random corruptions)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.array(
          fc.record({
            replica: fc.integer({ min: 0, max: 2 }),
            slot: fc.nat(),
            how: fc.constantFrom("change", "delete", "insert"),
          }),
          { minLength: 0, maxLength: 40 },
        ),
        (n, corruptions) => {
          const base = baseTree(n, 3)
          const trees = [base.clone(), base.clone(), base.clone()]
          const corrupted = new Set<string>()
          for (const c of corruptions) {
            const t = trees[c.replica]!
            if (c.how === "insert") {
              const k = key((c.slot % n) * 2 + 1)
              t.set(k, `new-${c.slot}`)
            } else {
              const k = key((c.slot % n) * 2)
              if (c.how === "delete") t.delete(k)
              else t.set(k, `changed-${c.slot}-${c.replica}`)
            }
          }
          // Ground truth: keys whose values are not the same on all three trees.
          const all = new Set<string>()
          for (const t of trees) for (const [k] of t.range()) all.add(k)
          for (const k of all) {
            const vs = trees.map((t) => t.get(k))
            if (!(vs[0] === vs[1] && vs[1] === vs[2])) corrupted.add(k)
          }
          const r = narrow(trees.map((t) => viewSource(t)))
          assert.deepEqual(
            r.differences.map((d) => d.key),
            [...corrupted].sort(),
          )
          // Cost: O(d log n) summaries, never the data.
          const d = corrupted.size
          const bound = 3 + d * 2 * 3 * (2 * Math.ceil(Math.log2(n + 2)) + 4)
          assert.ok(r.checksumsExchanged <= bound, `${r.checksumsExchanged} > ${bound}`)
        },
      ),
      { numRuns: 150, seed: 42 },
    )
  })

  it("exchanges O(log n) checksums for one difference in a large tree", () => {
    const n = 200_000
    const base = baseTree(n, 1)
    const bad = base.clone()
    bad.set(key(2 * 123_457), "rot")
    const r = narrow([viewSource(base), viewSource(base.clone()), viewSource(bad)])
    assert.deepEqual(
      r.differences.map((d) => d.key),
      [key(2 * 123_457)],
    )
    // ~ 2 summaries x 3 participants per level, ~log2(n) levels.
    assert.ok(r.checksumsExchanged < 6 * 2 * Math.log2(n), `exchanged ${r.checksumsExchanged}`)
    assert.ok(r.bytesExchanged < 32 * 1024)
  })

  it("runs as a request/answer state machine (the same result as the driver)", () => {
    const a = baseTree(500, 2)
    const b = a.clone()
    b.delete(key(40))
    b.set(key(41), "extra")
    const sources = [viewSource(a), viewSource(b)]
    const st = new Narrowing(2, [
      sources[0]!.summary(undefined, undefined),
      sources[1]!.summary(undefined, undefined),
    ])
    let rounds = 0
    while (!st.done) {
      st.answer(st.requests().map((q) => answerRequest(sources, q)))
      rounds++
    }
    assert.deepEqual(
      st.result().differences.map((d) => d.key),
      [key(40), key(41)],
    )
    assert.deepEqual(st.result(), narrow(sources))
    assert.equal(st.result().rounds, rounds)
  })

  it("rejects a split key outside the range (a lying participant)", () => {
    const a = baseTree(100, 2)
    const b = a.clone()
    b.set(key(10), "x")
    const st = new Narrowing(
      2,
      [viewSource(a).summary(undefined, undefined), viewSource(b).summary(undefined, undefined)],
      {
        lo: key(4),
        hi: key(20),
      },
    )
    const [q] = st.requests()
    assert.equal(q?.kind, "split")
    assert.throws(() => st.answer([{ kind: "split", task: q!.task, key: key(30) }]))
  })
})
