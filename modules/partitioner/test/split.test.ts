import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { Either } from "effect"
import {
  AccessStats,
  type Boundary,
  hashKeyInto,
  medianSplit,
  PartitionMap,
  setProvisionedThroughput,
  splitForConsumption,
  splitForSize,
  wordsToHex,
} from "../src/index.ts"
import { int, rng, zipf } from "./util.ts"

const table = (policy: "even" | "per-partition-limit", wcu = 1000, rcu = 3000) =>
  PartitionMap.make({ table: "t", hash: "murmur3", policy, provisioned: { rcu, wcu } }, 1)

/** Precomputed hashes for n partition keys `user#i`. */
function hashes(n: number): Uint32Array {
  const out = new Uint32Array(n * 4)
  for (let i = 0; i < n; i++) hashKeyInto("murmur3", `user#${i}`, out, i * 4)
  return out
}

/** Shares of a recorded stream that each partition of `map` receives. */
function shares(
  map: PartitionMap,
  stream: ReadonlyArray<[Uint32Array, number, string | undefined]>,
): number[] {
  const counts = new Array<number>(map.size).fill(0)
  for (const [h, at, sk] of stream) counts[map.locate(h[at]!, h[at + 1]!, h[at + 2]!, h[at + 3]!, sk)]!++
  return counts.map((c) => c / stream.length)
}

describe("splitForConsumption", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`splits Zipfian (θ = 0.99) traffic so each child gets 50 % ± 10 % (seed ${seed})`, () => {
      const r = rng(seed)
      const keys = 10_000
      const h = hashes(keys)
      const next = zipf(r, keys, 0.99)
      const stats = new AccessStats({ seed })
      const stream: Array<[Uint32Array, number, string | undefined]> = []
      for (let i = 0; i < 100_000; i++) {
        const k = next()
        stats.record(h, k * 4, undefined, 1, 0)
        stream.push([h, k * 4, undefined])
      }
      const map = table("per-partition-limit")
      const result = splitForConsumption(map, "p0", stats, { windowMs: 30_000 })
      assert.ok(Either.isRight(result), JSON.stringify(Either.isLeft(result) && result.left))
      const { map: next2, change } = result.right
      assert.equal(next2.size, 2)
      assert.equal(change.reason, "consumption")
      for (const s of shares(next2, stream)) assert.ok(s >= 0.4 && s <= 0.6, `child share ${s}`)
    })
  }

  for (const seed of [11, 12, 13]) {
    it(`splits one hot item collection by sort key, each child 50 % ± 10 % (seed ${seed})`, () => {
      const r = rng(seed)
      const h = hashes(1000)
      const hot = 7 * 4
      const sortKeys = Array.from({ length: 500 }, (_, i) => `ts#${String(i).padStart(5, "0")}`)
      const pickSortKey = zipf(r, sortKeys.length, 0.5)
      const stats = new AccessStats({ seed })
      const stream: Array<[Uint32Array, number, string | undefined]> = []
      for (let i = 0; i < 60_000; i++) {
        const toHot = r() < 0.9
        const at = toHot ? hot : int(r, 1000) * 4
        const sk = sortKeys[toHot ? pickSortKey() : int(r, sortKeys.length)]!
        stats.record(h, at, sk, 0, 1)
        stream.push([h, at, sk])
      }
      const map = table("per-partition-limit")
      const result = splitForConsumption(map, "p0", stats, { windowMs: 60_000 })
      assert.ok(Either.isRight(result), JSON.stringify(Either.isLeft(result) && result.left))
      const { map: next, change } = result.right
      // The split key lies inside the hot collection: same hash, a sort key.
      assert.equal(change.splitKey.hash, wordsToHex(h, hot))
      assert.notEqual(change.splitKey.sortKey, undefined)
      for (const s of shares(next, stream)) assert.ok(s >= 0.4 && s <= 0.6, `child share ${s}`)
    })
  }

  it("reports a single hot item as HotKey and does not split", () => {
    const r = rng(7)
    const h = hashes(100)
    const stats = new AccessStats({ seed: 7 })
    for (let i = 0; i < 20_000; i++) stats.record(h, r() < 0.7 ? 0 : (1 + int(r, 99)) * 4, "item", 1, 0)
    const result = splitForConsumption(table("even", 1000, 3000), "p0", stats, { windowMs: 1000 })
    assert.ok(Either.isLeft(result))
    assert.equal(result.left._tag, "HotKey")
    if (result.left._tag !== "HotKey") return
    assert.deepEqual(result.left.key, { hash: wordsToHex(h, 0), sortKey: "item" })
    assert.ok(result.left.share > 0.6 && result.left.share < 0.8, `share ${result.left.share}`)
  })

  it("reports sequential access (ascending sort keys) instead of splitting", () => {
    const h = hashes(1)
    const stats = new AccessStats()
    for (let i = 0; i < 5000; i++) stats.record(h, 0, `t#${String(i).padStart(8, "0")}`, 0, 1)
    const result = splitForConsumption(table("even"), "p0", stats, { windowMs: 1000 })
    assert.ok(Either.isLeft(result))
    assert.equal(result.left._tag, "SequentialAccess")
  })

  it("does nothing below the threshold share of the partition limit", () => {
    const h = hashes(100)
    const stats = new AccessStats()
    for (let i = 0; i < 700; i++) stats.record(h, (i % 100) * 4, undefined, 0, 1)
    // 700 WCU/s < 0.8 × 1,000
    const result = splitForConsumption(table("even"), "p0", stats, { windowMs: 1000 })
    assert.ok(Either.isLeft(result))
    assert.equal(result.left._tag, "BelowThreshold")
    // 900 WCU/s > 0.8 × 1,000
    for (let i = 0; i < 200; i++) stats.record(h, (i % 100) * 4, undefined, 0, 1)
    assert.ok(Either.isRight(splitForConsumption(table("even"), "p0", stats, { windowMs: 1000 })))
  })

  it("reports an unknown partition", () => {
    const result = splitForConsumption(table("even"), "p9", new AccessStats(), { windowMs: 1000 })
    assert.ok(Either.isLeft(result) && result.left._tag === "UnknownPartition")
  })
})

describe("AccessStats", () => {
  it("keeps a bounded sample whose weights estimate the total traffic", () => {
    const h = hashes(5000)
    const r = rng(3)
    const stats = new AccessStats({ capacity: 256, seed: 9 })
    let total = 0
    for (let i = 0; i < 50_000; i++) {
      const rcu = 1 + int(r, 8)
      total += rcu / 3000
      stats.record(h, int(r, 5000) * 4, undefined, rcu, 0)
    }
    const samples = stats.samples()
    assert.equal(samples.length, 256)
    const estimate = samples.reduce((s, x) => s + x.weight, 0)
    assert.ok(Math.abs(estimate / total - 1) < 0.15, `estimate/total ${estimate / total}`)
    assert.ok(stats.ascendingShare > 0.4 && stats.ascendingShare < 0.6)
    stats.reset()
    assert.equal(stats.samples().length, 0)
    assert.equal(stats.readUnits, 0)
  })

  it("is exact while fewer accesses than slots were recorded", () => {
    const h = hashes(10)
    const stats = new AccessStats({ capacity: 64 })
    for (let i = 0; i < 10; i++) stats.record(h, i * 4, undefined, i + 1, 0)
    const weights = stats
      .samples()
      .map((s) => Math.round(s.weight * 3000))
      .sort((a, b) => a - b)
    assert.deepEqual(weights, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  })
})

describe("splitForSize", () => {
  const h = hashes(400)
  const samples = Array.from({ length: 400 }, (_, i) => ({
    hash: wordsToHex(h, i * 4),
    bytes: 1000 + (i % 7) * 100,
  }))

  it("splits above the threshold at the median key by bytes", () => {
    const map = table("even")
    const result = splitForSize(map, "p0", samples, { thresholdBytes: 100_000 })
    assert.ok(Either.isRight(result))
    const { map: next, change } = result.right
    assert.equal(change.reason, "size")
    const bytes = [0, 0]
    for (const s of samples) bytes[next.partitions[0]!.end!.hash <= s.hash ? 1 : 0]! += s.bytes
    const share = bytes[0]! / (bytes[0]! + bytes[1]!)
    assert.ok(Math.abs(share - 0.5) < 0.01, `left share ${share}`)
    assert.ok(Math.abs(change.leftShare! - share) < 1e-9)
  })

  it("does not split at or below the threshold", () => {
    const total = samples.reduce((s, x) => s + x.bytes, 0)
    const result = splitForSize(table("even"), "p0", samples, { thresholdBytes: total })
    assert.ok(Either.isLeft(result) && result.left._tag === "BelowThreshold")
  })

  it("refuses when all bytes belong to one key", () => {
    const one = [{ hash: samples[0]!.hash, bytes: 10 }]
    const result = splitForSize(table("even"), "p0", one, { thresholdBytes: 1 })
    assert.ok(Either.isLeft(result) && result.left._tag === "NoSplitPoint")
  })
})

describe("medianSplit", () => {
  it("picks the key that best halves the weight", () => {
    const map = table("even")
    const p = map.partitions[0]!
    const k = (hash: string, sortKey?: string): Boundary => ({ hash: hash.padEnd(32, "0"), sortKey })
    const m = medianSplit(p, [
      { key: k("0"), weight: 5 },
      { key: k("1"), weight: 1 },
      { key: k("2"), weight: 1 },
      { key: k("3"), weight: 3 },
    ])!
    assert.deepEqual(m.key, k("1"))
    assert.equal(m.leftWeight, 5)
    assert.equal(m.heaviestShare, 0.5)
  })
})

describe("throughput allocation", () => {
  it("reproduces the paper's worked example under `even` (and 5,000/8 = 625, not the printed 675)", () => {
    let map = PartitionMap.make(
      { table: "t", hash: "md5", policy: "even", provisioned: { rcu: 0, wcu: 3200 } },
      4,
    )
    assert.deepEqual(
      map.partitions.map((p) => p.allocation.wcu),
      [800, 800, 800, 800],
    )
    map = setProvisionedThroughput(map, { rcu: 0, wcu: 3600 }).map
    assert.deepEqual(
      map.partitions.map((p) => p.allocation.wcu),
      [900, 900, 900, 900],
    )
    const raised = setProvisionedThroughput(map, { rcu: 0, wcu: 6000 })
    map = raised.map
    assert.equal(map.size, 8)
    assert.equal(raised.change.splits.length, 4)
    assert.ok(map.partitions.every((p) => p.allocation.wcu === 750))
    map = setProvisionedThroughput(map, { rcu: 0, wcu: 5000 }).map
    assert.equal(map.size, 8, "partitions never merge")
    assert.ok(map.partitions.every((p) => p.allocation.wcu === 625))
  })

  it("dilutes throughput on a split for size under `even`", () => {
    let map = PartitionMap.make(
      { table: "t", hash: "md5", policy: "even", provisioned: { rcu: 0, wcu: 1000 } },
      4,
    )
    const h = hashes(100)
    const inP0 = Array.from({ length: 100 }, (_, i) => ({ hash: wordsToHex(h, i * 4), bytes: 10 })).filter(
      (s) => s.hash < "4".padEnd(32, "0"),
    )
    map = Either.getOrThrow(splitForSize(map, "p0", inP0, { thresholdBytes: 1 })).map
    assert.deepEqual(
      map.partitions.map((p) => p.allocation.wcu),
      [125, 125, 250, 250, 250],
    )
  })

  it("re-spreads the table's throughput over all partitions on a split for consumption under `even`", () => {
    const map = PartitionMap.make(
      { table: "t", hash: "md5", policy: "even", provisioned: { rcu: 0, wcu: 1000 } },
      4,
    )
    const h = hashes(2000)
    const stats = new AccessStats()
    for (let i = 0; i < 2000; i++)
      if (wordsToHex(h, i * 4) < "4".padEnd(32, "0")) stats.record(h, i * 4, undefined, 0, 2)
    const next = Either.getOrThrow(
      splitForConsumption(map, "p0", stats, { windowMs: 1000, thresholdShare: 0.1 }),
    ).map
    assert.ok(next.partitions.every((p) => p.allocation.wcu === 200))
  })

  it("gives every partition the partition maximum under `per-partition-limit`", () => {
    let map = PartitionMap.make(
      { table: "t", hash: "md5", policy: "per-partition-limit", provisioned: { rcu: 0, wcu: 3200 } },
      4,
    )
    map = setProvisionedThroughput(map, { rcu: 0, wcu: 6000 }).map
    assert.equal(map.size, 4)
    assert.ok(map.partitions.every((p) => p.allocation.wcu === 1000 && p.allocation.rcu === 3000))
  })
})
