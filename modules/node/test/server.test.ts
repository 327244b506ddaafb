/**
 * DynamoDB's wire protocol over TCP: a real-time cluster served on 127.0.0.1 (`serveDynamoDB`),
 * used through `RemoteClient`, the Effect layer and raw HTTP requests.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import {
  answerWire,
  Client,
  DynamoDB,
  type LocalCluster,
  localCluster,
  RemoteClient,
  remoteDynamoDBLayer,
  serveDynamoDB,
  serveDynamoDBScoped,
  TARGET_PREFIX,
} from "@partita/node"
import { Effect } from "effect"

const withServer = async (
  f: (remote: RemoteClient, url: string, c: LocalCluster) => Promise<void>,
  options: { maxRequestBytes?: number } = {},
): Promise<void> => {
  const c = localCluster({ nodes: 3, routers: 1 })
  const server = await serveDynamoDB(new Client(c.meta, c.routers), { port: 0, ...options })
  try {
    await f(new RemoteClient(server.url), server.url, c)
  } finally {
    await server.close()
    c.stop()
  }
}

/** A raw wire request: status and parsed body. */
const raw = async (
  url: string,
  target: string | undefined,
  body: string,
  method = "POST",
): Promise<{ status: number; json: { __type?: string; message?: string } & Record<string, unknown> }> => {
  const headers: Record<string, string> = { "content-type": "application/x-amz-json-1.0" }
  if (target !== undefined) headers["x-amz-target"] = target
  const res = await fetch(url, { method, headers, ...(method === "POST" ? { body } : {}) })
  const text = await res.text()
  return { status: res.status, json: text.startsWith("{") ? JSON.parse(text) : { text } }
}

const tagged =
  (tag: string, text?: string) =>
  (e: { _tag?: string; message?: string }): boolean =>
    e._tag === tag && (text === undefined || (e.message ?? "").includes(text))

const orders = {
  TableName: "orders",
  KeySchema: [
    { AttributeName: "customer", KeyType: "HASH" as const },
    { AttributeName: "at", KeyType: "RANGE" as const },
  ],
  AttributeDefinitions: [
    { AttributeName: "customer", AttributeType: "S" as const },
    { AttributeName: "at", AttributeType: "N" as const },
  ],
  BillingMode: "PAY_PER_REQUEST" as const,
}

describe("DynamoDB over TCP (serveDynamoDB, RemoteClient)", () => {
  it("serves every operation, binaries as base64 on the wire and bytes on both ends", async () => {
    await withServer(async (db) => {
      assert.equal((await db.createTable(orders)).TableDescription.TableName, "orders")
      for (const name of ["t-c", "t-a", "t-b"]) await db.createTable({ ...orders, TableName: name })
      // ListTables pages in name order.
      const first = await db.listTables({ Limit: 2 })
      assert.deepEqual(first, { TableNames: ["orders", "t-a"], LastEvaluatedTableName: "t-a" })
      assert.deepEqual(await db.listTables({ ExclusiveStartTableName: "t-a" }), {
        TableNames: ["t-b", "t-c"],
      })
      await assert.rejects(db.listTables({ Limit: 0 }), tagged("ValidationException", "Limit"))
      assert.equal((await db.describeTable({ TableName: "orders" })).Table.KeySchema.length, 2)

      const blob = new Uint8Array([0, 1, 2, 250, 255])
      const item = {
        customer: { S: "ada" },
        at: { N: "1" },
        photo: { B: blob },
        thumbs: { BS: [new Uint8Array([9]), new Uint8Array([8, 7])] },
        meta: {
          M: { raw: { B: new Uint8Array([42]) }, tags: { L: [{ B: new Uint8Array([1, 2]) }, { S: "x" }] } },
        },
      }
      await db.putItem({ TableName: "orders", Item: item })
      const got = await db.getItem({
        TableName: "orders",
        Key: { customer: { S: "ada" }, at: { N: "1" } },
        ConsistentRead: true,
        ReturnConsumedCapacity: "TOTAL",
      })
      assert.deepEqual(got.Item, item)
      assert.ok(got.Item!.photo && "B" in got.Item!.photo && got.Item!.photo.B instanceof Uint8Array)
      assert.equal(got.ConsumedCapacity?.CapacityUnits, 1)
      // A missing item: an empty answer.
      assert.equal(
        (await db.getItem({ TableName: "orders", Key: { customer: { S: "nobody" }, at: { N: "1" } } })).Item,
        undefined,
      )

      // UpdateItem with a binary in ExpressionAttributeValues and ReturnValues.
      const updated = await db.updateItem({
        TableName: "orders",
        Key: { customer: { S: "ada" }, at: { N: "1" } },
        UpdateExpression: "SET photo = :p, n = :n",
        ExpressionAttributeValues: { ":p": { B: new Uint8Array([7, 7]) }, ":n": { N: "5" } },
        ReturnValues: "ALL_NEW",
      })
      assert.deepEqual(updated.Attributes?.photo, { B: new Uint8Array([7, 7]) })
      // A failed condition comes back as the typed error, with the old item when asked for.
      await assert.rejects(
        db.putItem({
          TableName: "orders",
          Item: { customer: { S: "ada" }, at: { N: "1" } },
          ConditionExpression: "attribute_not_exists(customer)",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
        (e: { _tag: string; item?: { photo?: unknown } }) =>
          e._tag === "ConditionalCheckFailedException" &&
          JSON.stringify(e.item?.photo) === JSON.stringify({ B: new Uint8Array([7, 7]) }) &&
          (e.item?.photo as { B: unknown } | undefined)?.B instanceof Uint8Array,
      )

      // Without ReturnValuesOnConditionCheckFailure the error carries no item.
      await assert.rejects(
        db.deleteItem({
          TableName: "orders",
          Key: { customer: { S: "ada" }, at: { N: "1" } },
          ConditionExpression: "attribute_not_exists(customer)",
        }),
        (e: { _tag: string; item?: unknown }) =>
          e._tag === "ConditionalCheckFailedException" && e.item === undefined,
      )

      // BatchWriteItem, BatchGetItem.
      const w = await db.batchWriteItem({
        RequestItems: {
          orders: Array.from({ length: 20 }, (_, i) => ({
            PutRequest: {
              Item: { customer: { S: "bob" }, at: { N: String(i) }, b: { B: new Uint8Array([i]) } },
            },
          })),
        },
      })
      assert.deepEqual(w.UnprocessedItems, {})
      const g = await db.batchGetItem({
        RequestItems: {
          orders: {
            Keys: [3, 5, 99].map((i) => ({ customer: { S: "bob" }, at: { N: String(i) } })),
            ConsistentRead: true,
          },
        },
      })
      assert.deepEqual(
        g.Responses.orders!.map((x) => (x.b as { B: Uint8Array }).B[0]).sort((a, b) => a! - b!),
        [3, 5],
      )

      // Query in pages (LastEvaluatedKey carried back as ExclusiveStartKey), then Scan.
      const seen: number[] = []
      let start: Record<string, never> | undefined
      let pages = 0
      do {
        const page = await db.query({
          TableName: "orders",
          KeyConditionExpression: "customer = :c AND #at >= :from",
          ExpressionAttributeNames: { "#at": "at" },
          ExpressionAttributeValues: { ":c": { S: "bob" }, ":from": { N: "4" } },
          Limit: 6,
          ConsistentRead: true,
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        })
        pages++
        for (const x of page.Items) seen.push(Number((x.at as { N: string }).N))
        start = page.LastEvaluatedKey as typeof start
      } while (start !== undefined)
      assert.deepEqual(
        seen,
        Array.from({ length: 16 }, (_, i) => i + 4),
      )
      assert.ok(pages >= 3)
      const all = await db.scan({ TableName: "orders", ConsistentRead: true })
      assert.equal(all.Count, 21)

      await db.deleteItem({ TableName: "orders", Key: { customer: { S: "ada" }, at: { N: "1" } } })
      assert.equal(
        (
          await db.getItem({
            TableName: "orders",
            Key: { customer: { S: "ada" }, at: { N: "1" } },
            ConsistentRead: true,
          })
        ).Item,
        undefined,
      )
      await db.createTable({
        TableName: "prov",
        KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
        ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
      })
      const up = await db.updateTable({
        TableName: "prov",
        ProvisionedThroughput: { ReadCapacityUnits: 50, WriteCapacityUnits: 20 },
      })
      assert.equal(up.TableDescription.ProvisionedThroughput.WriteCapacityUnits, 20)
      await db.deleteTable({ TableName: "prov" })
      await assert.rejects(db.describeTable({ TableName: "prov" }), tagged("ResourceNotFoundException"))
      await assert.rejects(
        db.putItem({ TableName: "prov", Item: { id: { S: "x" } } }),
        tagged("ResourceNotFoundException"),
      )
    })
  })

  it("answers bad requests with DynamoDB's errors and goes on serving", async () => {
    await withServer(
      async (db, url) => {
        await db.createTable({ ...orders, TableName: "ttt" })
        const unknown = await raw(url, "DynamoDB_20120810.TransactWriteItems", "{}")
        assert.equal(unknown.status, 400)
        assert.equal(unknown.json.__type, "com.amazon.coral.service#UnknownOperationException")
        assert.match(unknown.json.message!, /TransactWriteItems/)
        const missing = await raw(url, undefined, "{}")
        assert.equal(missing.json.__type, "com.amazon.coral.service#UnknownOperationException")
        assert.match(missing.json.message!, /X-Amz-Target/)
        const notJson = await raw(url, `${TARGET_PREFIX}GetItem`, "{not json")
        assert.equal(notJson.status, 400)
        assert.equal(notJson.json.__type, "com.amazon.coral.service#SerializationException")
        const notObject = await raw(url, `${TARGET_PREFIX}GetItem`, "[1,2]")
        assert.match(notObject.json.message!, /JSON object/)
        const badBase64 = await raw(
          url,
          `${TARGET_PREFIX}PutItem`,
          JSON.stringify({
            TableName: "ttt",
            Item: { customer: { S: "a" }, at: { N: "1" }, b: { B: "not base64!" } },
          }),
        )
        assert.equal(badBase64.json.__type, "com.amazon.coral.service#SerializationException")
        assert.match(badBase64.json.message!, /request\.Item\.b\.B: binary values must be base64/)
        // A key attribute missing: the operation's own validation, DynamoDB's ValidationException.
        const noKey = await raw(
          url,
          `${TARGET_PREFIX}PutItem`,
          JSON.stringify({ TableName: "ttt", Item: { x: { S: "1" } } }),
        )
        assert.equal(noKey.status, 400)
        assert.equal(noKey.json.__type, "com.amazon.coral.validate#ValidationException")
        // Numbers in N as numbers, not text: refused, nothing stored.
        const numeric = await raw(
          url,
          `${TARGET_PREFIX}PutItem`,
          JSON.stringify({ TableName: "ttt", Item: { customer: { S: "a" }, at: { N: 1 } } }),
        )
        assert.equal(numeric.status, 400)
        const tooBig = await raw(
          url,
          `${TARGET_PREFIX}PutItem`,
          JSON.stringify({ TableName: "ttt", pad: "x".repeat(5000) }),
        )
        assert.equal(tooBig.status, 413)
        assert.match(tooBig.json.message!, /over the limit of 4096/)
        const put = await raw(url, `${TARGET_PREFIX}ListTables`, "", "PUT")
        assert.equal(put.status, 405)
        const health = await fetch(`${url}/`)
        assert.equal(health.status, 200)
        assert.match(await health.text(), /healthy/)
        // Still serving, and nothing was written by the refused requests.
        const scan = await db.scan({ TableName: "ttt", ConsistentRead: true })
        assert.equal(scan.Count, 0)
        // The body of a request with an empty body is `{}`: ListTables answers.
        const empty = await raw(url, `${TARGET_PREFIX}ListTables`, "")
        assert.deepEqual(empty.json, { TableNames: ["ttt"] })
      },
      { maxRequestBytes: 4096 },
    )
  })

  it("answers an exception inside an operation with a 500 and goes on", async () => {
    const c = localCluster({ nodes: 3, routers: 1 })
    try {
      const db = new Client(c.meta, c.routers)
      const broken = Object.create(db) as Client
      broken.getItem = () => {
        throw new TypeError("broken on purpose")
      }
      const counters = { ok: 0, errors: 0, refused: 0, internal: 0 }
      const a = await answerWire(broken, `${TARGET_PREFIX}GetItem`, '{"TableName":"t","Key":{}}', counters)
      assert.equal(a.status, 500)
      assert.match(
        (a.body as { message: string }).message,
        /GetItem failed inside the server: broken on purpose/,
      )
      const b = await answerWire(broken, `${TARGET_PREFIX}ListTables`, "{}", counters)
      assert.equal(b.status, 200)
      assert.deepEqual(counters, { ok: 1, errors: 0, refused: 0, internal: 1 })
    } finally {
      c.stop()
    }
  })

  it("throttles over the wire as in process: typed errors, unprocessed batch items", async () => {
    await withServer(async (db) => {
      await db.createTable({
        TableName: "slow",
        KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
        ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 },
      })
      const tags = new Set<string>()
      let unprocessed = 0
      for (let round = 0; round < 10 && (unprocessed === 0 || tags.size === 0); round++) {
        const writes = await Promise.allSettled(
          Array.from({ length: 40 }, (_, i) =>
            db.putItem({ TableName: "slow", Item: { id: { S: `k${i}` }, pad: { S: "x".repeat(2000) } } }),
          ),
        )
        for (const w of writes) if (w.status === "rejected") tags.add((w.reason as { _tag: string })._tag)
        const batch = await db.batchWriteItem({
          RequestItems: {
            slow: Array.from({ length: 25 }, (_, i) => ({
              PutRequest: { Item: { id: { S: `b${i}` }, pad: { S: "y".repeat(2000) } } },
            })),
          },
        })
        unprocessed += batch.UnprocessedItems.slow?.length ?? 0
        if (batch.UnprocessedItems.slow !== undefined) {
          const u = batch.UnprocessedItems.slow[0]!
          assert.ok("PutRequest" in u && u.PutRequest.Item.id !== undefined)
        }
      }
      assert.ok(unprocessed > 0, "a batch over the table's rate left items unprocessed")
      assert.ok(
        [...tags].every(
          (t) => t === "ProvisionedThroughputExceededException" || t === "ThrottlingException",
        ) && tags.size > 0,
        `throttles came back as DynamoDB's errors: ${[...tags].join(", ")}`,
      )
    })
  })

  it("composes in Effect: a scoped server and the DynamoDB service from its endpoint", async () => {
    const c = localCluster({ nodes: 3, routers: 1 })
    let url = ""
    try {
      const program = Effect.gen(function* () {
        const server = yield* serveDynamoDBScoped(new Client(c.meta, c.routers), { port: 0 })
        url = server.url
        return yield* Effect.gen(function* () {
          const ddb = yield* DynamoDB
          yield* ddb.createTable({
            TableName: "fx-table",
            KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
            AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
            BillingMode: "PAY_PER_REQUEST",
          })
          yield* ddb.putItem({ TableName: "fx-table", Item: { id: { S: "a" }, v: { N: "1" } } })
          const missing = yield* Effect.flip(ddb.getItem({ TableName: "nope", Key: { id: { S: "a" } } }))
          const got = yield* ddb.getItem({
            TableName: "fx-table",
            Key: { id: { S: "a" } },
            ConsistentRead: true,
          })
          return { got: got.Item, missing: missing._tag, tables: (yield* ddb.listTables()).TableNames }
        }).pipe(Effect.provide(remoteDynamoDBLayer(server.url)))
      })
      const out = await Effect.runPromise(Effect.scoped(program))
      assert.deepEqual(out, {
        got: { id: { S: "a" }, v: { N: "1" } },
        missing: "ResourceNotFoundException",
        tables: ["fx-table"],
      })
      // The scope closed the server: a call now fails with a typed, retryable error.
      await assert.rejects(
        new RemoteClient(url, { timeoutMs: 2000 }).listTables(),
        (e: { _tag: string; message: string; retryable: boolean }) =>
          e._tag === "InternalServerError" && e.message.includes("no answer") && e.retryable,
      )
    } finally {
      c.stop()
    }
  })

  it("refuses to start on a port that is taken, with a typed error", async () => {
    const c = localCluster({ nodes: 3, routers: 1 })
    const db = new Client(c.meta, c.routers)
    const a = await serveDynamoDB(db, { port: 0 })
    try {
      await assert.rejects(
        serveDynamoDB(db, { port: a.port }),
        tagged("ServerStartError", `127.0.0.1:${a.port}`),
      )
    } finally {
      await a.close()
      c.stop()
    }
  })
})
