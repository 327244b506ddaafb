import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { type AttributeValue, encodeKeyValue, type Item, itemSize } from "@partita/core"
import { pageBytesMax } from "@partita/expressions"
import { type PageResponse, simCluster } from "@partita/node"
import { hashKeyInto, wordsToHex } from "@partita/partitioner"

/**
 * A Query or Scan page reads at most 1 MB (plus the item that crosses it) in all the partitions
 * it visits together, not 1 MB in each; and Select COUNT counts across partitions.
 */
const BIG = 300_000
const big = (pk: string, n: number): Item => ({
  pk: { S: pk },
  n: { N: String(n) },
  blob: { S: `${n}`.padEnd(BIG, "x") },
})

const hashOf = (v: AttributeValue): string => {
  const w = new Uint32Array(4)
  hashKeyInto("murmur3", v, w, 0)
  return wordsToHex(w)
}

const setup = async (seed: number) => {
  const c = simCluster(seed, { nodes: 6, routers: 2 })
  const t = c.meta.createTable({
    TableName: "big",
    KeySchema: [
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "n", KeyType: "RANGE" },
    ],
    AttributeDefinitions: [
      { AttributeName: "pk", AttributeType: "S" },
      { AttributeName: "n", AttributeType: "N" },
    ],
    BillingMode: "PAY_PER_REQUEST",
    WarmThroughput: { ReadUnitsPerSecond: 40_000, WriteUnitsPerSecond: 40_000 },
    Partitions: 4,
  })
  assert.equal(t._tag, "Right")
  c.runFor(3000)
  const db = c.client()
  /** Writes an item, waiting out throttles (a 300 KB item is 293 WCU; a partition allows 1,000/s). */
  const put = async (item: Item): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        await c.run(db.putItem({ TableName: "big", Item: item }))
        return
      } catch (e) {
        if ((e as { _tag?: string })._tag !== "ProvisionedThroughputExceededException" || attempt > 20)
          throw e
        c.runFor(500)
      }
    }
  }
  return { c, db, put }
}

describe("page size across partitions", () => {
  it("Scan: every page stays within 1 MB plus one item, each item comes once, Count counts everywhere", async () => {
    const { c, db, put } = await setup(21)
    const keys: string[] = []
    for (let i = 0; i < 16; i++) {
      await put(big(`k${i}`, i))
      keys.push(`k${i}`)
    }
    const seen: string[] = []
    let start: Item | undefined
    let pages = 0
    for (; pages < 50; pages++) {
      const r = await c.run(
        db.scan({
          TableName: "big",
          ConsistentRead: true,
          ReturnConsumedCapacity: "TOTAL",
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      )
      const bytes = r.Items.reduce((a, it) => a + itemSize(it), 0)
      assert.ok(bytes < pageBytesMax + BIG + 1000, `page of ${bytes} bytes`)
      seen.push(...r.Items.map((it) => (it.pk as { S: string }).S))
      start = r.LastEvaluatedKey
      if (start === undefined) break
    }
    assert.deepEqual([...seen].sort(), [...keys].sort())
    // 16 items of ~300 KB need at least 4 pages; 1 MB per partition would have allowed fewer.
    assert.ok(pages + 1 >= 4, `${pages + 1} pages`)
    // Select COUNT over the whole table (small items so that one page holds them all).
    for (let i = 0; i < 40; i++) await put({ pk: { S: `s${i}` }, n: { N: "1" } })
    let counted = 0
    start = undefined
    for (let p = 0; p < 50; p++) {
      const r: PageResponse = await c.run(
        db.scan({
          TableName: "big",
          Select: "COUNT",
          ConsistentRead: true,
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      )
      assert.equal(r.Items.length, 0)
      counted += r.Count
      start = r.LastEvaluatedKey
      if (start === undefined) break
    }
    assert.equal(counted, 56)
  })

  it("Query over a collection split by sort key: the page's bytes are counted across its partitions", async () => {
    const { c, db, put } = await setup(22)
    for (let n = 0; n < 12; n++) await put(big("hot", n))
    const hash = hashOf({ S: "hot" })
    const p0 = c.meta.partitionMap("big")!.routeRange({ S: "hot" })[0]!
    assert.ok(c.meta.split("big", p0.id, { hash, sortKey: encodeKeyValue({ N: "2" }) }), "split refused")
    c.runFor(4000)
    assert.ok(
      c.meta.partitionMap("big")!.routeRange({ S: "hot" }).length >= 2,
      "collection spans two partitions",
    )
    for (const forward of [true, false]) {
      const ns: number[] = []
      let start: Item | undefined
      for (let p = 0; p < 50; p++) {
        const r = await c.run(
          db.query({
            TableName: "big",
            KeyConditionExpression: "pk = :p",
            ExpressionAttributeValues: { ":p": { S: "hot" } },
            ScanIndexForward: forward,
            ConsistentRead: true,
            ...(start === undefined ? {} : { ExclusiveStartKey: start }),
          }),
        )
        const bytes = r.Items.reduce((a, it) => a + itemSize(it), 0)
        assert.ok(bytes < pageBytesMax + BIG + 1000, `page of ${bytes} bytes`)
        ns.push(...r.Items.map((it) => Number((it.n as { N: string }).N)))
        start = r.LastEvaluatedKey
        if (start === undefined) break
      }
      const want = Array.from({ length: 12 }, (_, i) => i)
      assert.deepEqual(ns, forward ? want : [...want].reverse())
    }
  })
})
