import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { readCostMilli } from "@partita/admission"
import { type AttributeValue, encodeKeyValue, type Item, itemSize } from "@partita/core"
import { CallbackClient, type Client, type QueryRequest, type SimCluster, simCluster } from "@partita/node"
import { hashKeyInto, wordsToHex } from "@partita/partitioner"
import { createCompositeTable } from "./support.ts"

/**
 * One hot item collection split by sort key, live (two splits inside the collection while it is
 * written), then queried whole and by ranges crossing the boundaries, forward and backward, with
 * pagination, filters and counts; every answer compared with a simple model (the collection's
 * items in sort-key order).
 */
const TABLE = "events"
const HOT = "hot"
const BASE_ITEMS = 60
const LIVE_ITEMS = 30
const PAGE_LIMITS = [undefined, 1, 7, 25] as const

const hashOf = (v: AttributeValue): string => {
  const w = new Uint32Array(4)
  hashKeyInto("murmur3", v, w, 0)
  return wordsToHex(w)
}

const item = (c: string, n: number): Item => ({
  c: { S: c },
  n: { N: String(n) },
  v: { S: `value-${n}-${"x".repeat(n % 13)}` },
  even: { BOOL: n % 2 === 0 },
})

interface Setup {
  readonly c: SimCluster
  readonly db: Client
  /** The hot collection, in sort-key order. */
  readonly model: ReadonlyArray<Item>
}

const setup = async (seed: number): Promise<Setup> => {
  const c = simCluster(seed, { nodes: 6, routers: 2 })
  createCompositeTable(c, TABLE, ["c", "S"], ["n", "N"], 1)
  c.runFor(3000)
  const db = c.client()
  for (let n = 0; n < BASE_ITEMS; n++) await c.run(db.putItem({ TableName: TABLE, Item: item(HOT, n) }))
  for (const other of ["a", "b", "zz"])
    for (let n = 0; n < 5; n++) await c.run(db.putItem({ TableName: TABLE, Item: item(other, n) }))
  // Live: writes to the hot collection keep coming while it is split twice by sort key.
  const hash = hashOf({ S: HOT })
  const live = new CallbackClient(c.meta, c.routers)
  let written = 0
  for (let i = 0; i < LIVE_ITEMS; i++)
    c.sim.schedule(i * 40, () =>
      live.putItem({ TableName: TABLE, Item: item(HOT, BASE_ITEMS + i) }, (r) => {
        if (r.ok) written++
      }),
    )
  // And queries of the whole collection, both ways, all through the splits: each answer is in
  // order, without duplicates, and holds every item written before the splits began.
  const during: string[] = []
  let answered = 0
  for (let i = 0; i < 60; i++)
    c.sim.schedule(i * 100, () =>
      live.query(
        {
          TableName: TABLE,
          KeyConditionExpression: "c = :c",
          ExpressionAttributeValues: { ":c": { S: HOT } },
          ScanIndexForward: i % 2 === 0,
          ConsistentRead: i % 3 !== 0,
        },
        (r) => {
          if (!r.ok) return void during.push(`query ${i}: ${r.error._tag}`)
          answered++
          const ns = r.value.Items.map(nOf)
          const sorted = [...ns].sort((a, b) => (i % 2 === 0 ? a - b : b - a))
          if (new Set(ns).size !== ns.length || ns.some((n, j) => n !== sorted[j]))
            during.push(`query ${i}: out of order or duplicated: ${ns.join(",")}`)
          for (let n = 0; n < BASE_ITEMS; n++)
            if (!ns.includes(n)) during.push(`query ${i}: item ${n} missing`)
        },
      ),
    )
  const first = c.meta.partitionMap(TABLE)!.partitions[0]!
  assert.ok(c.meta.split(TABLE, first.id, { hash, sortKey: encodeKeyValue({ N: "20" }) }), "split refused")
  c.runFor(2500)
  const right = c.meta.partitionMap(TABLE)!.partitions.find((p) => p.start.sortKey !== undefined)!
  assert.ok(
    c.meta.split(TABLE, right.id, { hash, sortKey: encodeKeyValue({ N: "45" }) }),
    "second split refused",
  )
  c.runFor(4000)
  assert.equal(written, LIVE_ITEMS)
  assert.deepEqual(during, [])
  assert.equal(answered, 60)
  // The collection now spans three partitions.
  const parts = c.meta.partitionMap(TABLE)!.routeRange({ S: HOT })
  assert.equal(parts.length, 3)
  const model = Array.from({ length: BASE_ITEMS + LIVE_ITEMS }, (_, n) => item(HOT, n))
  return { c, db, model }
}

/** Every page of a query, following LastEvaluatedKey. */
const queryAll = async (
  s: Setup,
  input: Omit<QueryRequest, "TableName">,
): Promise<{ items: Item[]; count: number; scanned: number; pages: number }> => {
  const items: Item[] = []
  let count = 0
  let scanned = 0
  let start: Item | undefined
  let pages = 0
  for (; pages < 500; ) {
    const r = await s.c.run(
      s.db.query({
        TableName: TABLE,
        ...input,
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      }),
    )
    pages++
    items.push(...r.Items)
    count += r.Count
    scanned += r.ScannedCount
    if (input.Limit !== undefined) assert.ok(r.ScannedCount <= input.Limit, "page over its Limit")
    start = r.LastEvaluatedKey
    if (start === undefined) break
  }
  return { items, count, scanned, pages }
}

const nOf = (i: Item): number => Number((i.n as { N: string }).N)

interface Case {
  readonly name: string
  readonly cond: string
  readonly values: Record<string, AttributeValue>
  readonly keep: (n: number) => boolean
}

const CASES: ReadonlyArray<Case> = [
  { name: "whole collection", cond: "c = :c", values: {}, keep: () => true },
  {
    name: "BETWEEN across both boundaries",
    cond: "c = :c AND n BETWEEN :lo AND :hi",
    values: { ":lo": { N: "15" }, ":hi": { N: "50" } },
    keep: (n) => n >= 15 && n <= 50,
  },
  {
    name: "< crossing the first boundary",
    cond: "c = :c AND n < :x",
    values: { ":x": { N: "25" } },
    keep: (n) => n < 25,
  },
  { name: "> at a boundary", cond: "c = :c AND n > :x", values: { ":x": { N: "20" } }, keep: (n) => n > 20 },
  {
    name: ">= at a boundary",
    cond: "c = :c AND n >= :x",
    values: { ":x": { N: "45" } },
    keep: (n) => n >= 45,
  },
  {
    name: "<= at a boundary",
    cond: "c = :c AND #n <= :x",
    values: { ":x": { N: "45" } },
    keep: (n) => n <= 45,
  },
  {
    name: "= inside the middle partition",
    cond: "c = :c AND n = :x",
    values: { ":x": { N: "30" } },
    keep: (n) => n === 30,
  },
  {
    name: "a range inside one partition",
    cond: "c = :c AND n BETWEEN :lo AND :hi",
    values: { ":lo": { N: "50" }, ":hi": { N: "70" } },
    keep: (n) => n >= 50 && n <= 70,
  },
]

describe("Query over an item collection split by sort key", () => {
  it("returns what the model holds: every range, both directions, every page size", async () => {
    const s = await setup(5)
    for (const cs of CASES)
      for (const forward of [true, false])
        for (const limit of PAGE_LIMITS) {
          const what = `${cs.name}, ${forward ? "forward" : "backward"}, Limit ${limit ?? "none"}`
          const r = await queryAll(s, {
            KeyConditionExpression: cs.cond,
            ExpressionAttributeValues: { ":c": { S: HOT }, ...cs.values },
            ...(cs.cond.includes("#n") ? { ExpressionAttributeNames: { "#n": "n" } } : {}),
            ScanIndexForward: forward,
            ConsistentRead: true,
            ...(limit === undefined ? {} : { Limit: limit }),
          })
          const want = s.model.filter((i) => cs.keep(nOf(i)))
          if (!forward) want.reverse()
          assert.deepEqual(r.items.map(nOf), want.map(nOf), what)
          assert.deepEqual(r.items, want, what)
          assert.equal(r.count, want.length, what)
          assert.equal(r.scanned, want.length, what)
        }
  })

  it("filters, counts and sums consumed capacity over the partitions it visits", async () => {
    const s = await setup(6)
    const values = { ":c": { S: HOT }, ":t": { BOOL: true } }
    // FilterExpression after Limit: pages hold only the even items, ScannedCount counts both.
    for (const forward of [true, false]) {
      const r = await queryAll(s, {
        KeyConditionExpression: "c = :c",
        FilterExpression: "even = :t",
        ExpressionAttributeValues: values,
        ScanIndexForward: forward,
        Limit: 9,
        ConsistentRead: true,
      })
      const want = s.model.filter((i) => nOf(i) % 2 === 0)
      if (!forward) want.reverse()
      assert.deepEqual(r.items.map(nOf), want.map(nOf))
      assert.equal(r.scanned, s.model.length)
    }
    // Select COUNT over the whole collection in one request.
    const counted = await s.c.run(
      s.db.query({
        TableName: TABLE,
        KeyConditionExpression: "c = :c AND n BETWEEN :lo AND :hi",
        ExpressionAttributeValues: { ":c": { S: HOT }, ":lo": { N: "10" }, ":hi": { N: "80" } },
        Select: "COUNT",
      }),
    )
    assert.equal(counted.Count, 71)
    assert.equal(counted.Items.length, 0)
    assert.equal(counted.LastEvaluatedKey, undefined)
    // Consumed capacity: the bytes of all three partitions' items, charged as one read.
    for (const [consistent, mode] of [
      [true, "strong"],
      [false, "eventual"],
    ] as const) {
      const r = await s.c.run(
        s.db.query({
          TableName: TABLE,
          KeyConditionExpression: "c = :c",
          ExpressionAttributeValues: { ":c": { S: HOT } },
          ConsistentRead: consistent,
          ReturnConsumedCapacity: "TOTAL",
        }),
      )
      assert.equal(r.Items.length, s.model.length)
      const bytes = s.model.reduce((a, i) => a + itemSize(i), 0)
      assert.equal(r.ConsumedCapacity?.CapacityUnits, readCostMilli(bytes, mode) / 1000)
    }
    // Other collections are untouched by the split.
    const other = await queryAll(s, {
      KeyConditionExpression: "c = :c",
      ExpressionAttributeValues: { ":c": { S: "zz" } },
      ScanIndexForward: false,
    })
    assert.deepEqual(other.items.map(nOf), [4, 3, 2, 1, 0])
  })
})
