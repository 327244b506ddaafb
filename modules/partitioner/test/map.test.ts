import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { Either } from "effect"
import fc from "fast-check"
import {
  type Boundary,
  compareBoundary,
  decodePartitionMap,
  hashMidpoint,
  hexToWords,
  type Partition,
  PartitionMap,
  positionMin,
  setProvisionedThroughput,
  splitAt,
  wordsToHex,
} from "../src/index.ts"
import { bigBetween, int, rng } from "./util.ts"

const space = 1n << 128n
const hex = (v: bigint) => v.toString(16).padStart(32, "0")
const big = (h: string) => BigInt("0x" + h)

function reference(partitions: ReadonlyArray<Partition>, key: Boundary): number {
  let found = -1
  for (let i = 0; i < partitions.length; i++) if (compareBoundary(partitions[i]!.start, key) <= 0) found = i
  return found
}

function routeKey(map: PartitionMap, key: Boundary): number {
  const w = new Uint32Array(4)
  hexToWords(key.hash, w)
  const i = map.locate(w[0]!, w[1]!, w[2]!, w[3]!, key.sortKey)
  // The route path (bucket shortcut) must agree with the search.
  assert.equal(map.routeHashed(w, 0, key.sortKey), map.partitions[i])
  // The index form agrees, and its epoch (typed array) is the partition's.
  const j = map.routeIndexHashed(w, 0, key.sortKey)
  assert.equal(j, i)
  assert.equal(map.epochAt(j), map.partitions[i]!.epoch)
  assert.equal(map.partitionAt(j), map.partitions[i])
  return i
}

const sortKeys = ["a", "b", "bb", "c", "m", "z"]

/** A random key inside partition p (may equal its start), or a random key anywhere. */
function randomKey(r: () => number, p: Partition | undefined): Boundary {
  const sortKey = r() < 0.5 ? undefined : sortKeys[int(r, sortKeys.length)]
  if (p === undefined) return { hash: hex(bigBetween(r, 0n, space)), sortKey }
  const lo = big(p.start.hash)
  const hi = p.end === undefined ? space : big(p.end.hash) + 1n
  const kind = r()
  if (kind < 0.3) return { hash: p.start.hash, sortKey }
  return { hash: hex(bigBetween(r, lo, hi)), sortKey }
}

const config = {
  table: "t",
  hash: "murmur3" as const,
  policy: "even" as const,
  provisioned: { rcu: 3000, wcu: 1000 },
}

describe("PartitionMap", () => {
  it("starts with equal ranges covering the key space, version 1, epoch 1", () => {
    const map = PartitionMap.make(config, 4)
    assert.equal(map.version, 1)
    assert.deepEqual(
      map.partitions.map((p) => p.start.hash),
      [positionMin, "4".padEnd(32, "0"), "8".padEnd(32, "0"), "c".padEnd(32, "0")],
    )
    assert.ok(map.partitions.every((p) => p.epoch === 1))
    assert.equal(map.partitions[3]!.end, undefined)
  })

  it("rejects data with a gap, an overlap or a wrong first start", () => {
    const data = PartitionMap.make(config, 2).toData()
    const [a, b] = data.partitions as [Partition, Partition]
    const gap = { ...a, end: { hash: "1".padEnd(32, "0") } }
    assert.throws(() => PartitionMap.fromData({ ...data, partitions: [gap, b] }), /ends where/)
    assert.throws(() => PartitionMap.fromData({ ...data, partitions: [b, a] }), /invariant/)
    assert.throws(
      () => PartitionMap.fromData({ ...data, partitions: [{ ...b, end: undefined }] }),
      /starts at 0/,
    )
  })

  it("routes keys at and around boundaries like a linear scan", () => {
    let map = PartitionMap.make(config, 3)
    const p = map.partitions[1]!
    map = Either.getOrThrow(splitAt(map, p.id, { hash: p.start.hash, sortKey: "m" }, "consumption")).map
    const start = map.partitions[2]!.start
    for (const sortKey of [undefined, "a", "m", "ma", "z"]) {
      const key = { hash: start.hash, sortKey }
      assert.equal(routeKey(map, key), reference(map.partitions, key), String(sortKey))
    }
    assert.equal(routeKey(map, { hash: start.hash, sortKey: "l" }), 1)
    assert.equal(routeKey(map, { hash: start.hash, sortKey: "m" }), 2)
  })

  it("route() hashes with the table's hash function", () => {
    const map = PartitionMap.make(config, 16)
    const w = new Uint32Array(4)
    map.hashInto({ S: "alice" }, w)
    assert.equal(map.route({ S: "alice" }), map.partitions[w[0]! >>> 28])
    assert.equal(map.route("alice"), map.route({ S: "alice" }))
    assert.equal(map.partitionAt(map.routeIndex({ S: "alice" })), map.route({ S: "alice" }))
  })

  it("routeRange returns the partitions of an item collection in order, or all for a scan", () => {
    let map = PartitionMap.make(config, 2)
    const h = "8".padEnd(32, "0")
    for (const sk of ["d", "k", "s"]) {
      const owner = map.partitions[routeKey(map, { hash: h, sortKey: sk })]!
      map = Either.getOrThrow(splitAt(map, owner.id, { hash: h, sortKey: sk }, "consumption")).map
    }
    const w = new Uint32Array(4)
    hexToWords(h, w)
    const ids = (ps: ReadonlyArray<Partition>) => ps.map((p) => p.start.sortKey ?? "-")
    assert.deepEqual(ids(map.routeRangeHashed(w, 0)), ["-", "d", "k", "s"])
    assert.deepEqual(ids(map.routeRangeHashed(w, 0, { from: "e", to: "m" })), ["d", "k"])
    assert.deepEqual(ids(map.routeRangeHashed(w, 0, { from: "k" })), ["k", "s"])
    assert.deepEqual(ids(map.routeRangeHashed(w, 0, { to: "c" })), ["-"])
    assert.equal(map.routeRange(undefined).length, map.size)
  })

  it("round-trips through its plain data", () => {
    const map = PartitionMap.make(config, 5)
    const again = PartitionMap.fromData(JSON.parse(JSON.stringify(map.toData())))
    assert.equal(JSON.stringify(again.toData()), JSON.stringify(map.toData()))
    assert.equal(again.route("k").id, map.route("k").id)
  })

  it("names partitions with the table's id prefix, on creation and on every kind of split", () => {
    const map = PartitionMap.make({ ...config, idPrefix: "t7." }, 2)
    assert.deepEqual(
      map.partitions.map((p) => p.id),
      ["t7.p0", "t7.p1"],
    )
    const split = splitAt(map, "t7.p1", hashMidpoint(map.partitions[1]!)!, "consumption")
    assert.ok(Either.isRight(split))
    assert.deepEqual(
      split.right.map.partitions.map((p) => p.id),
      ["t7.p0", "t7.p2", "t7.p3"],
    )
    const grown = setProvisionedThroughput(split.right.map, { rcu: 3000, wcu: 5000 })
    assert.ok(grown.map.partitions.every((p) => p.id.startsWith("t7.p")))
    assert.equal(new Set(grown.map.partitions.map((p) => p.id)).size, grown.map.partitions.length)
    // Kept through plain data and its schema; a map without a prefix has none in its data.
    const decoded = decodePartitionMap(JSON.parse(JSON.stringify(grown.map.toData())))
    assert.ok(Either.isRight(decoded))
    assert.equal(decoded.right.idPrefix, "t7.")
    assert.equal("idPrefix" in PartitionMap.make(config, 1).toData(), false)
  })

  it("isCurrent rejects a stale epoch or a split-away partition", () => {
    const map = PartitionMap.make(config, 1)
    const next = Either.getOrThrow(splitAt(map, "p0", hashMidpoint(map.partitions[0]!)!, "size")).map
    assert.ok(map.isCurrent("p0", 1))
    assert.ok(!next.isCurrent("p0", 1))
    assert.ok(next.isCurrent("p1", 2) && next.isCurrent("p2", 2))
    assert.ok(!next.isCurrent("p1", 1))
  })
})

describe("PartitionMap under arbitrary sequences of splits (property)", () => {
  it("always covers the key space without gap or overlap, routes like a linear scan, and only grows versions and epochs", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 40 }),
        (seed, initial, steps) => {
          const r = rng(seed)
          let map = PartitionMap.make(config, initial)
          for (let step = 0; step < steps; step++) {
            const before = map
            let update: PartitionMap
            if (r() < 0.1) {
              update = setProvisionedThroughput(map, { rcu: 1000 + int(r, 20_000), wcu: int(r, 9000) }).map
            } else {
              const p = map.partitions[int(r, map.size)]!
              const key = r() < 0.3 ? (hashMidpoint(p) ?? randomKey(r, p)) : randomKey(r, p)
              const inside =
                compareBoundary(p.start, key) < 0 && (p.end === undefined || compareBoundary(key, p.end) < 0)
              const result = splitAt(map, p.id, key, r() < 0.5 ? "size" : "consumption")
              assert.equal(Either.isRight(result), inside)
              if (Either.isLeft(result)) continue
              const { children, parent } = result.right.change
              assert.ok(children.every((c) => c.epoch > parent.epoch))
              update = result.right.map
            }
            map = update
            assert.ok(map.version > before.version, "version grows on every change")
            // Cover: starts strictly increase from 0 and each end is the next start (fromData asserts it too).
            assert.equal(map.partitions[0]!.start.hash, positionMin)
            for (let i = 1; i < map.size; i++) {
              assert.equal(compareBoundary(map.partitions[i - 1]!.end!, map.partitions[i]!.start), 0)
            }
            // Route agrees with the reference; the epoch owning any key never decreases.
            const probes: Boundary[] = []
            for (const p of map.partitions) probes.push(p.start, randomKey(r, p))
            for (let i = 0; i < 8; i++) probes.push(randomKey(r, undefined))
            for (const key of probes) {
              const i = routeKey(map, key)
              assert.equal(i, reference(map.partitions, key))
              const j = routeKey(before, key)
              assert.ok(map.partitions[i]!.epoch >= before.partitions[j]!.epoch)
            }
          }
        },
      ),
      { numRuns: 150 },
    )
  })

  it("routeRange equals the partitions a linear scan finds between the range ends", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        const r = rng(seed)
        let map = PartitionMap.make(config, 2)
        const h = hex(bigBetween(r, 0n, space))
        for (let i = 0; i < 6; i++) {
          const key = { hash: h, sortKey: sortKeys[int(r, sortKeys.length)] }
          const owner = map.partitions[reference(map.partitions, key)]!
          const split = splitAt(map, owner.id, key, "consumption")
          if (Either.isRight(split)) map = split.right.map
        }
        const from = r() < 0.3 ? undefined : sortKeys[int(r, sortKeys.length)]
        const to = r() < 0.3 ? undefined : sortKeys[int(r, sortKeys.length)]
        if (from !== undefined && to !== undefined && from > to) return
        const w = new Uint32Array(4)
        hexToWords(h, w)
        const got = map.routeRangeHashed(w, 0, { from, to }).map((p) => p.id)
        const expected = map.partitions
          .filter((p) => {
            // p intersects {(h, s) : from ≤ s ≤ to}
            const lowKey = { hash: h, sortKey: from }
            const startsBeforeHigh =
              to === undefined
                ? compareBoundary(p.start, { hash: h }) <= 0 || p.start.hash === h
                : compareBoundary(p.start, { hash: h, sortKey: to }) <= 0
            const endsAfterLow = p.end === undefined || compareBoundary(p.end, lowKey) > 0
            return startsBeforeHigh && endsAfterLow
          })
          .map((p) => p.id)
        assert.deepEqual(got, expected)
        assert.equal(wordsToHex(w), h)
      }),
      { numRuns: 200 },
    )
  })
})

describe("decodePartitionMap", () => {
  it("decodes stored JSON into an equal map", () => {
    const map = PartitionMap.make(config, 3)
    const decoded = decodePartitionMap(JSON.parse(JSON.stringify(map.toData())))
    assert.ok(Either.isRight(decoded))
    assert.equal(JSON.stringify(decoded.right.toData()), JSON.stringify(map.toData()))
  })

  it("fails with a ParseError on malformed input and InvalidPartitionMap on a broken cover", () => {
    const data = JSON.parse(JSON.stringify(PartitionMap.make(config, 2).toData()))
    const bad = decodePartitionMap({ ...data, hash: "sha1" })
    assert.ok(Either.isLeft(bad) && bad.left._tag === "ParseError")
    const gap = decodePartitionMap({ ...data, partitions: [data.partitions[1]] })
    assert.ok(Either.isLeft(gap) && gap.left._tag === "InvalidPartitionMap")
  })
})
