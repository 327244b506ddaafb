import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Client, DynamoDB, localCluster, localClusterWithDataDir, simCluster } from "@partita/node"
import { Effect, Either } from "effect"

const schema = {
  KeySchema: [{ AttributeName: "id", KeyType: "HASH" as const }],
  AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" as const }],
}

describe("the client", () => {
  it("offers the control plane: create, describe, list, update, delete, with DynamoDB's errors", async () => {
    const c = simCluster(3, { nodes: 3, routers: 1 })
    const db = new Client(c.meta, c.routers)
    await db.createTable({ TableName: "a-table", ...schema, BillingMode: "PAY_PER_REQUEST" })
    await db.createTable({
      TableName: "b-table",
      ...schema,
      ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
    })
    await assert.rejects(
      db.createTable({ TableName: "a-table", ...schema, BillingMode: "PAY_PER_REQUEST" }),
      (e: { _tag: string }) => e._tag === "ResourceInUseException",
    )
    await assert.rejects(
      db.createTable({ TableName: "c-table", ...schema }),
      (e: { _tag: string }) => e._tag === "ValidationException",
    )
    for (const bad of [0, 257, 2.5, Number.NaN])
      await assert.rejects(
        db.createTable({ TableName: "p-table", ...schema, BillingMode: "PAY_PER_REQUEST", Partitions: bad }),
        (e: { _tag: string; message: string }) =>
          e._tag === "ValidationException" &&
          e.message.startsWith("Partitions must be an integer from 1 to 256"),
      )
    assert.deepEqual((await db.listTables()).TableNames, ["a-table", "b-table"])
    const d = await db.describeTable({ TableName: "b-table" })
    assert.equal(d.Table.BillingModeSummary.BillingMode, "PROVISIONED")
    assert.deepEqual(d.Table.ProvisionedThroughput, { ReadCapacityUnits: 5, WriteCapacityUnits: 5 })
    const u = await db.updateTable({
      TableName: "b-table",
      ProvisionedThroughput: { ReadCapacityUnits: 50, WriteCapacityUnits: 20 },
    })
    assert.equal(u.TableDescription.ProvisionedThroughput.WriteCapacityUnits, 20)
    await db.deleteTable({ TableName: "a-table" })
    assert.deepEqual((await db.listTables()).TableNames, ["b-table"])
    await assert.rejects(
      db.describeTable({ TableName: "a-table" }),
      (e: { _tag: string }) => e._tag === "ResourceNotFoundException",
    )
    await assert.rejects(
      c.run(db.getItem({ TableName: "a-table", Key: { id: { S: "x" } } })),
      (e: { _tag: string }) => e._tag === "ResourceNotFoundException",
    )
    await assert.rejects(
      c.run(db.getItem({ TableName: "b-table", Key: { nope: { S: "x" } } })),
      (e: { _tag: string }) => e._tag === "ValidationException",
    )
  })

  it("keeps tables apart: two tables, and a table created again, never share a partition", async () => {
    // Three nodes: every partition of every table has a replica on each. Partition ids used to be
    // per table (p0, p1, ...), so the second table's p0 was the first table's replica.
    const c = simCluster(4, { nodes: 3, routers: 1 })
    const db = new Client(c.meta, c.routers)
    for (const t of ["left", "right"])
      await db.createTable({ TableName: t, ...schema, BillingMode: "PAY_PER_REQUEST", Partitions: 2 })
    c.runFor(3000)
    const ids = ["left", "right"].flatMap((t) => c.meta.partitionMap(t)!.partitions.map((p) => p.id))
    assert.equal(new Set(ids).size, 4, ids.join(", "))
    for (const t of ["left", "right"])
      for (let i = 0; i < 20; i++)
        await c.run(db.putItem({ TableName: t, Item: { id: { S: `k${i}` }, from: { S: t } } }))
    for (const t of ["left", "right"]) {
      const page = await c.run(db.scan({ TableName: t, ConsistentRead: true }))
      assert.equal(page.Items.length, 20)
      for (const item of page.Items) assert.deepEqual(item.from, { S: t })
    }
    // Deleted and created again under the same name: new partitions, empty.
    await db.deleteTable({ TableName: "left" })
    await db.createTable({ TableName: "left", ...schema, BillingMode: "PAY_PER_REQUEST", Partitions: 2 })
    c.runFor(3000)
    const again = c.meta.partitionMap("left")!.partitions.map((p) => p.id)
    for (const id of again) assert.ok(!ids.includes(id), `${id} reused`)
    assert.equal((await c.run(db.scan({ TableName: "left", ConsistentRead: true }))).Items.length, 0)
    assert.equal((await c.run(db.scan({ TableName: "right", ConsistentRead: true }))).Items.length, 20)
  })

  it("runs as an Effect service, with typed errors", async () => {
    const c = simCluster(4, { nodes: 3, routers: 2 })
    const program = Effect.gen(function* () {
      const db = yield* DynamoDB
      yield* db.createTable({ TableName: "fxt", ...schema, BillingMode: "PAY_PER_REQUEST" })
      yield* Effect.sync(() => c.runFor(3000))
      return yield* db.putItem({
        TableName: "fxt",
        Item: { id: { S: "1" }, n: { N: "1" } },
        ReturnConsumedCapacity: "TOTAL",
      })
    })
    const put = await c.run(
      Effect.runPromise(program.pipe(Effect.provide(DynamoDB.layer(c.meta, c.routers)))),
    )
    assert.deepEqual(put.ConsumedCapacity, { TableName: "fxt", CapacityUnits: 1, WriteCapacityUnits: 1 })
    const failed = await c.run(
      Effect.runPromise(
        Effect.either(
          Effect.flatMap(DynamoDB, (db) =>
            db.putItem({
              TableName: "fxt",
              Item: { id: { S: "1" } },
              ConditionExpression: "attribute_not_exists(id)",
            }),
          ),
        ).pipe(Effect.provide(DynamoDB.layer(c.meta, c.routers))),
      ),
    )
    assert.ok(Either.isLeft(failed) && failed.left._tag === "ConditionalCheckFailedException")
  })

  it("batches: BatchWriteItem then BatchGetItem, eventually consistent reads, scan pages", async () => {
    const c = simCluster(5, { nodes: 6, routers: 2 })
    const db = new Client(c.meta, c.routers)
    await db.createTable({ TableName: "btt", ...schema, BillingMode: "PAY_PER_REQUEST", Partitions: 3 })
    c.runFor(3000)
    for (let b = 0; b < 4; b++) {
      const w = await c.run(
        db.batchWriteItem({
          RequestItems: {
            btt: Array.from({ length: 25 }, (_, i) => ({
              PutRequest: { Item: { id: { S: `i${b * 25 + i}` } } },
            })),
          },
        }),
      )
      assert.deepEqual(w.UnprocessedItems, {})
    }
    const g = await c.run(
      db.batchGetItem({
        RequestItems: {
          btt: {
            Keys: Array.from({ length: 100 }, (_, i) => ({ id: { S: `i${i}` } })),
            ConsistentRead: true,
          },
        },
      }),
    )
    assert.equal(g.Responses.btt?.length, 100)
    c.runFor(500)
    const ev = await c.run(db.getItem({ TableName: "btt", Key: { id: { S: "i7" } } }))
    assert.deepEqual(ev.Item, { id: { S: "i7" } })
    // Paged scan over three partitions: every item exactly once.
    const seen = new Set<string>()
    let start: Record<string, unknown> | undefined
    let pages = 0
    do {
      const p = await c.run(
        db.scan({ TableName: "btt", Limit: 15, ExclusiveStartKey: start as never, ConsistentRead: true }),
      )
      for (const it of p.Items) {
        const id = (it.id as { S: string }).S
        assert.ok(!seen.has(id), `${id} twice`)
        seen.add(id)
      }
      start = p.LastEvaluatedKey as never
      pages++
    } while (start !== undefined && pages < 50)
    assert.equal(seen.size, 100)
    assert.ok(pages >= 7)
    await assert.rejects(
      c.run(
        db.batchWriteItem({
          RequestItems: {
            btt: Array.from({ length: 26 }, (_, i) => ({ DeleteRequest: { Key: { id: { S: `i${i}` } } } })),
          },
        }),
      ),
      (e: { _tag: string }) => e._tag === "ValidationException",
    )
  })
})

describe("a real-time cluster in one process", () => {
  it("serves writes and reads on host time", async () => {
    const c = localCluster({ nodes: 3, routers: 1 })
    try {
      const db = new Client(c.meta, c.routers)
      await db.createTable({ TableName: "rtt", ...schema, BillingMode: "PAY_PER_REQUEST" })
      await c.sleep(1500) // election + lease wait on real time
      await db.putItem({ TableName: "rtt", Item: { id: { S: "a" }, v: { N: "1" } } })
      const r = await db.getItem({ TableName: "rtt", Key: { id: { S: "a" } }, ConsistentRead: true })
      assert.deepEqual(r.Item, { id: { S: "a" }, v: { N: "1" } })
    } finally {
      c.stop()
    }
  })

  it("archives its WAL as files under a data directory", async () => {
    const dir = mkdtempSync(join(tmpdir(), "partita-node-"))
    const c = await localClusterWithDataDir(dir, { nodes: 3, routers: 1, archive: { entriesPerSegment: 8 } })
    try {
      const db = new Client(c.meta, c.routers)
      await db.createTable({ TableName: "files", ...schema, BillingMode: "PAY_PER_REQUEST" })
      await c.sleep(1500)
      for (let i = 0; i < 40; i++) await db.putItem({ TableName: "files", Item: { id: { S: `f${i}` } } })
      await c.sleep(200)
      const pid = c.meta.partitionMap("files")!.partitions[0]!.id
      const files = readdirSync(join(dir, "archive", "files", pid, "wal"))
      assert.ok(files.filter((f) => f.endsWith(".seg")).length >= 4, files.join(", "))
      for (const { replica } of c.replicasOf(pid)) assert.equal(replica.archiveErrors, 0)
    } finally {
      c.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("keeps every replica's WAL as files under its data directory; a node restarts from them, rot included", async () => {
    const dir = mkdtempSync(join(tmpdir(), "partita-wal-"))
    const c = await localClusterWithDataDir(dir, { nodes: 3, routers: 1 })
    try {
      const db = new Client(c.meta, c.routers)
      await db.createTable({ TableName: "durable", ...schema, BillingMode: "PAY_PER_REQUEST" })
      await c.sleep(1500)
      const put = async (from: number, to: number) => {
        for (let i = from; i < to; i++)
          await db.putItem({ TableName: "durable", Item: { id: { S: `d${i}` }, n: { N: String(i) } } })
      }
      await put(0, 30)
      const pid = c.meta.partitionMap("durable")!.partitions[0]!.id
      const nodes = ["sn0", "sn1", "sn2"]
      // Every replica's log is a file on its node's disk, holding at least the 30 items.
      for (const n of nodes) assert.ok(statSync(join(dir, "nodes", n, "wal", pid)).size > 30 * 40, n)
      const victim = nodes.find((n) => n !== c.leaderOf(pid))!
      const caughtUp = async (items: number) => {
        for (let i = 0; i < 40; i++) {
          const r = c.replicasOf(pid).find((x) => x.node === victim)?.replica
          const l = c.replicasOf(pid).find((x) => x.replica.isLeader())?.replica
          if (r !== undefined && l !== undefined && r.summary().items === items) {
            assert.equal(r.summary().checksum, l.summary().checksum)
            return
          }
          await c.sleep(100)
        }
        assert.fail(`${victim} did not catch up to ${items} items`)
      }
      // A crash and a restart: the replica reads its log back from the file.
      c.killNode(victim)
      await put(30, 35)
      const before = c.nodes.get(victim)!.walRecoveries.length
      c.restartNode(victim)
      const rec = c.nodes.get(victim)!.walRecoveries.slice(before)
      assert.equal(rec.length, 1)
      assert.ok(rec[0]!.entries >= 30 && !rec[0]!.corrupt, JSON.stringify(rec))
      await caughtUp(35)
      // Bit rot in the file while the node is down: the recovery finds it by the frames' CRCs, trusts
      // only what it can, and the replica is repaired from the others.
      c.killNode(victim)
      assert.equal(c.rotWal(victim, 1, 300), 1)
      await put(35, 40)
      c.restartNode(victim)
      const rotted = c.nodes.get(victim)!.walRecoveries.at(-1)!
      assert.ok(rotted.corrupt, JSON.stringify(rotted))
      await caughtUp(40)
      const page = await db.scan({ TableName: "durable", ConsistentRead: true })
      assert.equal(page.Items.length, 40)
    } finally {
      c.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
