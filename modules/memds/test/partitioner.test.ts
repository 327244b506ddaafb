import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { PartitionMap, splitAt } from "@partita/partitioner"
import { Either } from "effect"
import {
  applyOp,
  hashFromHex,
  hashFromWords,
  MemDSNode,
  PerkleStore,
  routingKey,
  tableOps,
} from "../src/index.ts"

const placement = (id: string) => ({
  replicas: ["az1", "az2", "az3"].map((az, i) => ({ nodeId: `sn-${id}-${i}`, az })),
  leaderHint: `sn-${id}-0`,
})

describe("MemDS fed from @partita/partitioner maps", () => {
  it("routes every key to the same partition as PartitionMap.route, through splits", () => {
    let map = PartitionMap.make(
      { table: "orders", hash: "murmur3", policy: "even", provisioned: { rcu: 3000, wcu: 3000 } },
      37,
    )
    // split inside an item collection (by sort key) and at a plain hash midpoint
    const p5 = map.partitions[5]!
    map = Either.getOrThrow(splitAt(map, p5.id, { hash: p5.start.hash, sortKey: "m" }, "consumption")).map
    const p9 = map.partitions[9]!
    const mid = ((BigInt(`0x${p9.start.hash}`) + BigInt(`0x${p9.end!.hash}`)) / 2n)
      .toString(16)
      .padStart(32, "0")
    map = Either.getOrThrow(splitAt(map, p9.id, { hash: mid }, "size")).map

    const node = new MemDSNode({ id: "m0", peers: [], sequencer: true })
    node.publish(tableOps(node.store, "orders", map.partitions, placement))
    assert.equal(node.store.table("orders").length, map.partitions.length)
    // a second pass finds nothing to change
    assert.equal(tableOps(node.store, "orders", map.partitions, placement).length, 0)

    const words = new Uint32Array(4)
    const handle = node.store.tableHandle("orders")
    for (let i = 0; i < 3000; i++) {
      const pk = { S: `customer#${i}` }
      const sk = i % 3 === 0 ? undefined : String.fromCharCode(97 + (i % 26))
      // every key of the split collection too
      const key = i % 10 === 0 ? { S: "x" } : pk
      map.hashInto(key, words)
      const want = map.route(key, sk)
      const got = node.store.route(routingKey("orders", hashFromWords(words), sk), handle)
      assert.equal(got?.entry.partitionId, want.id, `key ${i}`)
      assert.equal(got?.entry.epoch, want.epoch)
    }
    // the sort-key split's collection: keys at exactly p5's start hash on both sides of "m"
    const at = hashFromHex(p5.start.hash)
    const left = node.store.route(routingKey("orders", at, "a"), handle)
    const right = node.store.route(routingKey("orders", at, "z"), handle)
    assert.notEqual(left?.entry.partitionId, right?.entry.partitionId)
  })

  it("a table change is published as the minimal ops", () => {
    const map = PartitionMap.make(
      { table: "t", hash: "md5", policy: "even", provisioned: { rcu: 100, wcu: 100 } },
      8,
    )
    const store = new PerkleStore()
    for (const op of tableOps(store, "t", map.partitions, placement)) applyOp(store, op)
    const next = Either.getOrThrow(splitAt(map, "p3", { hash: "7" + "0".repeat(31) }, "size")).map
    const ops = tableOps(store, "t", next.partitions, placement)
    // the left child takes over the parent's start, the right child adds a boundary
    assert.equal(ops.length, 2)
    assert.ok(ops.every((o) => o.kind === "put"))
  })
})
