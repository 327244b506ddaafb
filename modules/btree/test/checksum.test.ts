import assert from "node:assert/strict"
import { describe, it } from "node:test"
import {
  addChecksums,
  BTree,
  ChecksumAccumulator,
  checksumToLanes,
  EMPTY_CHECKSUM,
  type ItemHashMemo,
  lanesToChecksum,
  type Scalar,
  subtractChecksums,
} from "../src/index.ts"
import { HASH_OUT, hashItem } from "../src/internal/hash.ts"

function prng(seed: number): () => number {
  let x = seed | 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 4294967296
  }
}

const N = 3000
const key = (i: number): string => `pk#${String(i * 37).padStart(7, "0")}`
const value = (i: number): Scalar =>
  i % 3 === 0 ? i : i % 3 === 1 ? `v${i}` : new Uint8Array([i & 255, i >> 8])

function shuffled(n: number, seed: number): number[] {
  const rnd = prng(seed)
  const a = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1))
    ;[a[i], a[j]] = [a[j]!, a[i]!]
  }
  return a
}

describe("checksums", () => {
  it("are equal for equal content built in different orders, shapes and histories", () => {
    const ascending = new BTree<Scalar>({ nodeEntriesMax: 8 })
    for (let i = 0; i < N; i++) ascending.set(key(i), value(i))
    const random = new BTree<Scalar>({ nodeEntriesMax: 64 })
    for (const i of shuffled(N, 7)) random.set(key(i), value(i))
    const bulk = BTree.fromSorted(
      Array.from({ length: N }, (_, i) => key(i)),
      Array.from({ length: N }, (_, i) => value(i)),
      { nodeEntriesMax: 13, fill: 1 },
    )
    // A history with extra items, overwrites and deletes that end at the same content.
    const churned = new BTree<Scalar>({ nodeEntriesMax: 9 })
    for (const i of shuffled(N + 500, 11)) churned.set(key(i), "temp")
    for (let i = N; i < N + 500; i++) churned.delete(key(i))
    for (const i of shuffled(N, 13)) churned.set(key(i), value(i))
    const acc = new ChecksumAccumulator<Scalar>()
    for (const i of shuffled(N, 17)) acc.add(key(i), value(i))

    const want = ascending.checksum()
    assert.match(want, /^[0-9a-f]{32}$/)
    assert.equal(random.checksum(), want)
    assert.equal(bulk.checksum(), want)
    assert.equal(churned.checksum(), want)
    assert.equal(acc.checksum(), want)
    assert.notEqual(ascending.stats().nodes, random.stats().nodes, "shapes really differ")
  })

  it("change after any single insert, overwrite or delete, and come back when undone", () => {
    const t = new BTree<Scalar>({ nodeEntriesMax: 16 })
    for (let i = 0; i < 500; i++) t.set(key(i), value(i))
    const base = t.checksum()
    const seen = new Set<string>([base])
    for (let i = 0; i < 500; i++) {
      const old = t.set(key(i), `changed${i}`)!
      const c1 = t.checksum()
      assert.ok(!seen.has(c1), `overwrite of item ${i} collided`)
      seen.add(c1)
      t.set(key(i), old)
      t.delete(key(i))
      const c2 = t.checksum()
      assert.ok(!seen.has(c2), `delete of item ${i} collided`)
      seen.add(c2)
      t.set(key(i), old)
      t.set(`${key(i)}x`, 0)
      const c3 = t.checksum()
      assert.ok(!seen.has(c3), `insert next to item ${i} collided`)
      seen.add(c3)
      t.delete(`${key(i)}x`)
      assert.equal(t.checksum(), base)
    }
  })

  it("distinguish values of different types and key/value boundaries", () => {
    const one = (k: string, v: Scalar): string => {
      const t = new BTree<Scalar>()
      t.set(k, v)
      return t.checksum()
    }
    const sums = [
      one("a", "1"),
      one("a", 1),
      one("a", new Uint8Array([0x31])),
      one("a1", ""),
      one("", "a1"),
      one("a", "1\u0000"),
      one("a\u0000", "1"),
    ]
    assert.equal(new Set(sums).size, sums.length)
  })

  it("of adjacent ranges add up to the whole, and equal those of the items in them", () => {
    const t = new BTree<Scalar>({ nodeEntriesMax: 8 })
    for (const i of shuffled(N, 3)) t.set(key(i), value(i))
    const rnd = prng(99)
    assert.equal(t.rangeChecksum(), t.checksum())
    assert.equal(t.rangeChecksum(undefined, undefined), t.checksum())
    for (let trial = 0; trial < 200; trial++) {
      const cuts = [0, 1, 2].map(() => `pk#${String(Math.floor(rnd() * N * 37)).padStart(7, "0")}`).sort()
      const [a, b, c] = cuts as [string, string, string]
      assert.equal(addChecksums(t.rangeChecksum(a, b), t.rangeChecksum(b, c)), t.rangeChecksum(a, c))
      assert.equal(addChecksums(t.rangeChecksum(undefined, a), t.rangeChecksum(a)), t.checksum())
      assert.equal(subtractChecksums(t.checksum(), t.rangeChecksum(a)), t.rangeChecksum(undefined, a))
      const acc = new ChecksumAccumulator<Scalar>()
      let count = 0
      t.forRange({ gte: a, lt: c }, (k, v) => {
        acc.add(k, v)
        count++
      })
      const s = t.rangeSummary(a, c)
      assert.equal(s.checksum, acc.checksum())
      assert.equal(s.count, count)
      assert.equal(s.bytes, acc.summary().bytes)
    }
    assert.equal(t.rangeChecksum("z", "a"), EMPTY_CHECKSUM)
  })

  it("narrow a difference between two replicas to the differing key by bisection", () => {
    const a = new BTree<Scalar>()
    for (let i = 0; i < N; i++) a.set(key(i), value(i))
    const b = a.clone()
    b.set(key(1234), "bit rot")
    // Bisect by position (rank/at are O(log n)): each step halves the range whose checksums differ.
    let lo = 0
    let hi = a.size
    let steps = 0
    const keyAt = (i: number): string | undefined => a.at(i)?.[0]
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1
      if (a.rangeChecksum(keyAt(lo), keyAt(mid)) !== b.rangeChecksum(keyAt(lo), keyAt(mid))) hi = mid
      else lo = mid
      steps++
    }
    assert.equal(keyAt(lo), key(1234))
    assert.equal(a.rank(key(1234)), 1234)
    assert.ok(steps <= 12)
  })

  it("lanes round-trip through the hex form", () => {
    const c = lanesToChecksum(-1, 0, 0x7fffffff, -0x80000000)
    assert.equal(c, "ffffffff000000007fffffff80000000")
    assert.deepStrictEqual(checksumToLanes(c), [-1, 0, 0x7fffffff, -0x80000000])
    assert.throws(() => checksumToLanes("xyz"), RangeError)
  })
})

describe("item hash of byte values (pinned)", () => {
  it("hashes byte values of every length 0..130 to the pinned fingerprint (format is stable)", () => {
    // Checkpoint footers and replicas' checksums depend on these exact values; a faster
    // implementation must reproduce them (the 2026-11-26 rewrite of absorbBytes did).
    let acc = 0
    for (let n = 0; n <= 130; n++) {
      const b = new Uint8Array(n)
      for (let i = 0; i < n; i++) b[i] = (i * 131 + n * 7 + 3) & 255
      hashItem(`key${n}`, b)
      for (let j = 0; j < 4; j++) acc = (Math.imul(acc, 31) + HASH_OUT[j]!) | 0
    }
    assert.equal(acc, -311943695)
  })

  it("hashes a byte range (ByteRange) exactly as the same bytes alone, at every offset and length", () => {
    // A replica's item body is a range of its log entry: its hash must not depend on what
    // precedes it (the pinned fingerprint above covers the bytes-alone form).
    for (let n = 0; n <= 70; n++) {
      const b = new Uint8Array(n)
      for (let i = 0; i < n; i++) b[i] = (i * 131 + n * 7 + 3) & 255
      hashItem(`key${n}`, b)
      const whole = [HASH_OUT[0], HASH_OUT[1], HASH_OUT[2], HASH_OUT[3]]
      for (let at = 0; at <= 19; at++) {
        const data = new Uint8Array(at + n)
        for (let i = 0; i < at; i++) data[i] = (i * 17 + 250) & 255
        data.set(b, at)
        hashItem(`key${n}`, { rangeData: data, rangeStart: at })
        assert.deepEqual([HASH_OUT[0], HASH_OUT[1], HASH_OUT[2], HASH_OUT[3]], whole, `n=${n} at=${at}`)
      }
    }
    // and differs from the whole array's hash once there is a prefix
    const data = new Uint8Array([9, 1, 2, 3])
    hashItem("k", data)
    const all = HASH_OUT[0]
    hashItem("k", { rangeData: data, rangeStart: 1 })
    assert.notEqual(HASH_OUT[0], all)
  })
})

describe("item hash memo (ValueCodec.hashMemo)", () => {
  /** A value with a memo slot, as a store whose trees share value objects would define it. */
  interface Memoed extends ItemHashMemo {
    readonly text: string
  }
  const memoed = (text: string): Memoed => ({
    text,
    memoKey: undefined,
    memo0: 0,
    memo1: 0,
    memo2: 0,
    memo3: 0,
    memoAscii: 0,
  })
  const base = {
    sizeOf: (v: Memoed) => v.text.length,
    digest: (v: Memoed) => v.text,
    encode: (v: Memoed) => new TextEncoder().encode(v.text),
    decode: (b: Uint8Array) => memoed(new TextDecoder().decode(b)),
  }
  let memoDigests = 0
  const withMemo = {
    ...base,
    digest: (v: Memoed) => {
      memoDigests++
      return v.text
    },
    hashMemo: (v: Memoed) => v,
  }

  it("gives every tree the checksum it has without the memo, and hashes a shared value once per key", () => {
    const rnd = prng(11)
    const shared = new BTree<Memoed>({ codec: withMemo, storeItemHashes: true })
    const shared2 = new BTree<Memoed>({ codec: withMemo, storeItemHashes: true })
    const plain = new BTree<Memoed>({ codec: base, storeItemHashes: true })
    let sets = 0
    memoDigests = 0
    for (let i = 0; i < 4000; i++) {
      const k = key(Math.floor(rnd() * 500))
      const v = memoed(`v${Math.floor(rnd() * 50)}`)
      shared.set(k, v)
      shared2.set(k, v)
      // The same object under another key: its memo must not be taken for this key's hash.
      const other = key(Math.floor(rnd() * 500))
      shared.set(other, v)
      shared2.set(other, v)
      sets += 2
      plain.set(k, memoed(v.text))
      plain.set(other, memoed(v.text))
      if (rnd() < 0.1) {
        shared.delete(k)
        shared2.delete(k)
        plain.delete(k)
      }
    }
    assert.deepEqual(shared.checksum(), plain.checksum())
    assert.deepEqual(shared2.checksum(), plain.checksum())
    const fresh = new BTree<Memoed>({ codec: base })
    for (const [k, v] of plain.range({})) fresh.set(k, v)
    assert.deepEqual(shared.checksum(), fresh.checksum())
    // The second tree's sets of a value under the key it was just hashed under read nothing: one
    // digest per pair of sets (fewer when both keys drawn are the same), against two without it.
    assert.ok(
      memoDigests <= sets && memoDigests > sets * 0.9,
      `${memoDigests} digests for ${sets} pairs of sets`,
    )
  })
})
