import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { Either } from "effect"
import fc from "fast-check"
import {
  BTree,
  jsonCodec,
  NODE_ENTRIES_MAX_DEFAULT,
  type Scalar,
  stringCodec,
  utf8Length,
} from "../src/index.ts"

/** Small deterministic PRNG (xorshift32) so the stress test replays exactly. */
function prng(seed: number): () => number {
  let x = seed | 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 4294967296
  }
}

const pad = (i: number): string => String(i).padStart(6, "0")

describe("point operations", () => {
  it("set returns the previous value, delete the removed one", () => {
    const t = new BTree<number>()
    assert.equal(t.set("a", 1), undefined)
    assert.equal(t.set("a", 2), 1)
    assert.equal(t.get("a"), 2)
    assert.equal(t.has("a"), true)
    assert.equal(t.delete("a"), 2)
    assert.equal(t.delete("a"), undefined)
    assert.equal(t.has("a"), false)
    assert.equal(t.size, 0)
  })

  it("orders keys by UTF-16 code units, as JavaScript < does", () => {
    const t = new BTree<number>({ nodeEntriesMax: 8 })
    const keys = ["b", "a", "\u00e9", "\uffff", "", "ab", "\u0000", "\ud83d\ude00", "Z"]
    for (const [i, k] of keys.entries()) t.set(k, i)
    assert.deepStrictEqual(
      [...t.range()].map(([k]) => k),
      [...keys].sort(),
    )
  })

  it("keeps byte accounting incrementally (UTF-8 key + value size)", () => {
    const t = new BTree<string>({ codec: stringCodec })
    t.set("k1", "hello")
    t.set("\u00e9", "\u4e2d")
    assert.equal(t.bytes, 2 + 5 + 2 + 3)
    t.set("k1", "hi")
    assert.equal(t.bytes, 2 + 2 + 2 + 3)
    t.delete("\u00e9")
    assert.equal(t.bytes, 4)
    assert.equal(utf8Length("\ud83d\ude00"), 4)
  })

  it("utf8Length equals the UTF-8 encoding's length, short and long strings (property)", () => {
    const enc = new TextEncoder()
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (s) => {
        assert.equal(utf8Length(s), enc.encode(s).length)
      }),
    )
  })

  it("rejects bad node sizes", () => {
    assert.throws(() => new BTree({ nodeEntriesMax: 4 }), RangeError)
    assert.throws(() => new BTree({ nodeEntriesMax: 10.5 }), RangeError)
    assert.equal(new BTree().nodeEntriesMax, NODE_ENTRIES_MAX_DEFAULT)
  })
})

describe("range", () => {
  const t = new BTree<number>({ nodeEntriesMax: 8 })
  for (let i = 0; i < 100; i += 2) t.set(pad(i), i)
  const keys = (o: Parameters<typeof t.range>[0]): number[] => [...t.range(o)].map(([, v]) => v)

  it("honours gt/gte/lt/lte on present and absent keys", () => {
    assert.deepStrictEqual(keys({ gte: pad(10), lt: pad(16) }), [10, 12, 14])
    assert.deepStrictEqual(keys({ gt: pad(10), lte: pad(16) }), [12, 14, 16])
    assert.deepStrictEqual(keys({ gt: pad(11), lt: pad(15) }), [12, 14])
    assert.deepStrictEqual(keys({ gte: pad(97) }), [98])
    assert.deepStrictEqual(keys({ gt: pad(98) }), [])
    assert.deepStrictEqual(keys({ lt: pad(0) }), [])
    assert.deepStrictEqual(keys({ gte: pad(20), lte: pad(10) }), [])
  })

  it("walks backwards with reverse and stops at limit", () => {
    assert.deepStrictEqual(keys({ lte: pad(9), reverse: true }), [8, 6, 4, 2, 0])
    assert.deepStrictEqual(keys({ gt: pad(90), reverse: true, limit: 2 }), [98, 96])
    assert.deepStrictEqual(keys({ limit: 0 }), [])
  })

  it("resumes after an ExclusiveStartKey in either direction", () => {
    assert.deepStrictEqual(keys({ after: pad(94) }), [96, 98])
    assert.deepStrictEqual(keys({ after: pad(6), reverse: true }), [4, 2, 0])
    assert.deepStrictEqual(keys({ gte: pad(50), after: pad(10), limit: 2 }), [50, 52])
  })

  it("pages through a range with lastEvaluatedKey", () => {
    const seen: number[] = []
    let after: string | undefined
    let pages = 0
    do {
      const p = t.page({ gte: pad(20), lt: pad(60), limit: 7, ...(after !== undefined ? { after } : {}) })
      seen.push(...p.items.map(([, v]) => v))
      after = p.lastEvaluatedKey
      pages++
    } while (after !== undefined)
    assert.equal(pages, 3)
    assert.deepStrictEqual(
      seen,
      Array.from({ length: 20 }, (_, i) => 20 + 2 * i),
    )
  })

  it("stops forRange when the callback returns false", () => {
    const seen: number[] = []
    const n = t.forRange({ gte: pad(40) }, (_, v) => {
      seen.push(v)
      return v < 44
    })
    assert.deepStrictEqual(seen, [40, 42, 44])
    assert.equal(n, 3)
  })

  it("fails fast when the live tree is written during iteration", () => {
    const u = new BTree<number>()
    u.set("a", 1)
    u.set("b", 2)
    const it = u.range()
    it.next()
    u.set("c", 3)
    assert.throws(() => it.next(), /snapshot/)
    const snapIt = u.snapshot().range()
    u.set("d", 4)
    assert.deepStrictEqual(
      [...snapIt].map(([k]) => k),
      ["a", "b", "c"],
    )
  })
})

describe("bulk load", () => {
  it("builds the same content and checksum as repeated set", () => {
    const keys = Array.from({ length: 5000 }, (_, i) => pad(i))
    const a = BTree.fromSorted(
      keys,
      keys.map((_, i) => i),
    )
    const b = new BTree<number>()
    for (let i = keys.length - 1; i >= 0; i--) b.set(keys[i]!, i)
    const c = new BTree<number>().bulkLoad(keys.map((k, i) => [k, i] as const))
    a.checkInvariants()
    c.checkInvariants()
    assert.equal(a.size, 5000)
    assert.equal(a.checksum(), b.checksum())
    assert.equal(c.checksum(), b.checksum())
    assert.equal(a.bytes, b.bytes)
    assert.deepStrictEqual(
      [...a.range({ gte: pad(100), limit: 3 })],
      [...b.range({ gte: pad(100), limit: 3 })],
    )
  })

  it("rejects unsorted or duplicate keys and a non-empty target", () => {
    assert.throws(() => BTree.fromSorted(["b", "a"], [1, 2]), RangeError)
    assert.throws(() => BTree.fromSorted(["a", "a"], [1, 2]), RangeError)
    const t = new BTree<number>()
    t.set("x", 1)
    assert.throws(() => t.bulkLoad([["y", 2]]), RangeError)
  })

  it("stays valid when written after loading", () => {
    const keys = Array.from({ length: 3000 }, (_, i) => pad(2 * i))
    const t = BTree.fromSorted(
      keys,
      keys.map((_, i) => i),
      { nodeEntriesMax: 16, fill: 1 },
    )
    for (let i = 0; i < 6000; i += 3) t.set(pad(i), -i)
    for (let i = 0; i < 6000; i += 5) t.delete(pad(i))
    t.checkInvariants()
  })
})

describe("snapshots and clones", () => {
  it("a snapshot keeps its content, size and checksum while the tree changes", () => {
    const t = new BTree<number>({ nodeEntriesMax: 8 })
    for (let i = 0; i < 500; i++) t.set(pad(i), i)
    const snap = t.snapshot()
    const before = snap.checksum()
    for (let i = 0; i < 500; i += 2) t.delete(pad(i))
    for (let i = 0; i < 500; i += 3) t.set(pad(i), -1)
    for (let i = 500; i < 800; i++) t.set(pad(i), i)
    assert.equal(snap.size, 500)
    assert.equal(snap.checksum(), before)
    assert.deepStrictEqual(
      [...snap.range()].map(([, v]) => v),
      Array.from({ length: 500 }, (_, i) => i),
    )
    snap.checkInvariants()
    t.checkInvariants()
    assert.notEqual(t.checksum(), before)
  })

  it("clones diverge independently", () => {
    const a = new BTree<number>({ nodeEntriesMax: 8 })
    for (let i = 0; i < 200; i++) a.set(pad(i), i)
    const b = a.clone()
    a.set(pad(1), 100)
    b.delete(pad(2))
    assert.equal(a.get(pad(1)), 100)
    assert.equal(b.get(pad(1)), 1)
    assert.equal(a.get(pad(2)), 2)
    assert.equal(b.get(pad(2)), undefined)
    a.checkInvariants()
    b.checkInvariants()
  })
})

describe("size statistics", () => {
  it("reports height, nodes and a byte split point", () => {
    const t = new BTree<string>({ codec: stringCodec, nodeEntriesMax: 16 })
    for (let i = 0; i < 1000; i++) t.set(pad(i), "x".repeat(i < 500 ? 1 : 9))
    const s = t.stats()
    assert.equal(s.size, 1000)
    assert.ok(s.height >= 3)
    assert.ok(s.nodes > s.leaves && s.leaves >= 1000 / 16)
    assert.ok(s.heapBytesEstimate > 0)
    // bytes: 500 * (6 + 1) + 500 * (6 + 9) = 11000; half is 5500, reached in the heavy tail
    assert.equal(t.bytes, 11000)
    const split = t.keyAtByteOffset(t.bytes / 2)!
    const left = t.rangeSummary(undefined, split).bytes
    assert.ok(left < 5500 && left + 15 >= 5500, `left ${left}`)
    assert.equal(new BTree().keyAtByteOffset(1), undefined)
  })
})

describe("codecs", () => {
  it("json values are hashed by their JSON text", () => {
    const t = new BTree<{ a: number }>({ codec: jsonCodec() })
    t.set("k", { a: 1 })
    const c1 = t.checksum()
    t.set("k", { a: 2 })
    assert.notEqual(t.checksum(), c1)
    t.set("k", { a: 1 })
    assert.equal(t.checksum(), c1)
  })

  it("the default codec refuses values it cannot hash", () => {
    const t = new BTree<any>()
    assert.throws(() => t.set("k", { a: 1 }), TypeError)
  })
})

describe("seeded stress against a Map", () => {
  for (const max of [8, 13, 64]) {
    it(`random inserts, overwrites, deletes and snapshots agree (nodeEntriesMax ${max})`, () => {
      const rnd = prng(0x5eed + max)
      const t = new BTree<number>({ nodeEntriesMax: max })
      const m = new Map<string, number>()
      const snaps: Array<{ view: ReturnType<typeof t.snapshot>; sum: string; size: number }> = []
      const KEY_SPACE = 3000
      for (let phase = 0; phase < 6; phase++) {
        const insertBias = phase % 2 === 0 ? 0.8 : 0.2
        for (let op = 0; op < 8000; op++) {
          const k = pad(Math.floor(rnd() * KEY_SPACE))
          if (rnd() < insertBias) {
            const v = Math.floor(rnd() * 1000)
            assert.equal(t.set(k, v), m.get(k))
            m.set(k, v)
          } else {
            assert.equal(t.delete(k), m.get(k))
            m.delete(k)
          }
          if (op % 2000 === 0) snaps.push({ view: t.snapshot(), sum: t.checksum(), size: t.size })
        }
        t.checkInvariants()
        assert.equal(t.size, m.size)
        for (const [k, v] of m) assert.equal(t.get(k), v)
      }
      for (const s of snaps) {
        assert.equal(s.view.size, s.size)
        assert.equal(s.view.checksum(), s.sum)
        s.view.checkInvariants()
      }
    })
  }
})

describe("storeItemHashes", () => {
  it("keeps the same checksums as a tree that re-hashes, through sets, deletes, splits and merges", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 300 }), fc.string({ maxLength: 40 })), {
          maxLength: 400,
        }),
        fc.constantFrom(8, 9, 16, 64),
        (ops, max) => {
          const a = new BTree<Scalar>({ nodeEntriesMax: max, storeItemHashes: true })
          const b = new BTree<Scalar>({ nodeEntriesMax: max })
          for (const [del, k, v] of ops) {
            const key = `k${k.toString().padStart(4, "0")}`
            if (del) assert.equal(a.delete(key), b.delete(key))
            else assert.equal(a.set(key, v), b.set(key, v))
          }
          a.checkInvariants()
          assert.deepEqual(a.checksum(), b.checksum())
          assert.deepEqual(a.rangeChecksum("k0100", "k0200"), b.rangeChecksum("k0100", "k0200"))
          // A clone writes copy-on-write leaves: their hash arrays are copies, not shared.
          const c = a.clone()
          c.set("k0000", "changed")
          c.delete("k0001")
          c.checkInvariants()
          a.checkInvariants()
          assert.deepEqual(a.checksum(), b.checksum())
        },
      ),
      { numRuns: 300 },
    )
  })

  it("bulk loads, checkpoint loads and clear keep hashes in the leaves", () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `k${i.toString().padStart(5, "0")}`)
    const values = keys.map((k) => `value of ${k}`)
    const t = BTree.fromSorted<Scalar>(keys, values, { storeItemHashes: true, nodeEntriesMax: 16 })
    t.checkInvariants()
    for (let i = 0; i < 1000; i += 3) t.set(keys[i]!, `new ${i}`)
    for (let i = 1; i < 1000; i += 3) t.delete(keys[i]!)
    t.checkInvariants()
    const plain = BTree.fromSorted<Scalar>(keys, values, { nodeEntriesMax: 16 })
    for (let i = 0; i < 1000; i += 3) plain.set(keys[i]!, `new ${i}`)
    for (let i = 1; i < 1000; i += 3) plain.delete(keys[i]!)
    assert.deepEqual(t.checksum(), plain.checksum())
    const back = BTree.fromCheckpointBytes<Scalar>(t.toCheckpointBytes(), { storeItemHashes: true })
    assert.ok(Either.isRight(back))
    back.right.checkInvariants()
    back.right.set("k00002", "again")
    back.right.checkInvariants()
    t.clear()
    t.set("a", 1)
    t.checkInvariants()
  })
})
