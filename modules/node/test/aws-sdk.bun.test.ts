/**
 * The AWS SDK for JavaScript v3 (`@aws-sdk/client-dynamodb`) against `serveDynamoDB`: the
 * SDK's own request signing, serialization, error classes and paginators, unchanged, talk to a
 * Partita cluster. (Bun only: the SDK is a dev dependency resolved from node_modules.)
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  paginateQuery,
  ResourceNotFoundException,
  BatchWriteItemCommand,
  BatchGetItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb"
import { Client, localCluster, serveDynamoDB } from "@partita/node"

describe("the AWS SDK v3 against serveDynamoDB", () => {
  it("creates a table, writes, reads, pages and fails as against DynamoDB", async () => {
    const c = localCluster({ nodes: 3, routers: 1 })
    const server = await serveDynamoDB(new Client(c.meta, c.routers), { port: 0 })
    const sdk = new DynamoDBClient({
      endpoint: server.url,
      region: "local",
      credentials: { accessKeyId: "partita", secretAccessKey: "partita" },
      maxAttempts: 1,
    })
    try {
      const made = await sdk.send(
        new CreateTableCommand({
          TableName: "events",
          KeySchema: [
            { AttributeName: "feed", KeyType: "HASH" },
            { AttributeName: "seq", KeyType: "RANGE" },
          ],
          AttributeDefinitions: [
            { AttributeName: "feed", AttributeType: "S" },
            { AttributeName: "seq", AttributeType: "N" },
          ],
          BillingMode: "PAY_PER_REQUEST",
        }),
      )
      assert.equal(made.TableDescription?.TableStatus, "ACTIVE")
      assert.deepEqual((await sdk.send(new ListTablesCommand({}))).TableNames, ["events"])
      const described = await sdk.send(new DescribeTableCommand({ TableName: "events" }))
      assert.equal(described.Table?.KeySchema?.[1]?.AttributeName, "seq")

      const body = new Uint8Array([0, 255, 1, 254])
      await sdk.send(
        new PutItemCommand({
          TableName: "events",
          Item: { feed: { S: "s1" }, seq: { N: "1" }, body: { B: body }, tags: { SS: ["a", "b"] } },
        }),
      )
      const got = await sdk.send(
        new GetItemCommand({
          TableName: "events",
          Key: { feed: { S: "s1" }, seq: { N: "1" } },
          ConsistentRead: true,
          ReturnConsumedCapacity: "TOTAL",
        }),
      )
      assert.deepEqual(got.Item?.body?.B, body)
      assert.deepEqual(new Set(got.Item?.tags?.SS), new Set(["a", "b"]))
      assert.equal(got.ConsumedCapacity?.CapacityUnits, 1)

      const up = await sdk.send(
        new UpdateItemCommand({
          TableName: "events",
          Key: { feed: { S: "s1" }, seq: { N: "1" } },
          UpdateExpression: "ADD hits :one",
          ExpressionAttributeValues: { ":one": { N: "1" } },
          ReturnValues: "UPDATED_NEW",
        }),
      )
      assert.deepEqual(up.Attributes, { hits: { N: "1" } })

      // DynamoDB's errors arrive as the SDK's own exception classes.
      const failed = await sdk
        .send(
          new PutItemCommand({
            TableName: "events",
            Item: { feed: { S: "s1" }, seq: { N: "1" } },
            ConditionExpression: "attribute_not_exists(feed)",
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          }),
        )
        .then(
          () => undefined,
          (e: unknown) => e,
        )
      assert.ok(failed instanceof ConditionalCheckFailedException, String(failed))
      assert.deepEqual((failed as ConditionalCheckFailedException).Item?.body?.B, body)
      const missing = await sdk.send(new GetItemCommand({ TableName: "nope", Key: { id: { S: "x" } } })).then(
        () => undefined,
        (e: unknown) => e,
      )
      assert.ok(missing instanceof ResourceNotFoundException, String(missing))
      const invalid = await sdk
        .send(new PutItemCommand({ TableName: "events", Item: { feed: { S: "x" } } }))
        .then(
          () => undefined,
          (e: unknown) => e as { name: string; $metadata?: { httpStatusCode?: number } },
        )
      assert.equal(invalid?.name, "ValidationException")
      assert.equal(invalid?.$metadata?.httpStatusCode, 400)

      // A batch, then the SDK's Query paginator across pages.
      for (let from = 2; from < 60; from += 25) {
        const w = await sdk.send(
          new BatchWriteItemCommand({
            RequestItems: {
              events: Array.from({ length: Math.min(25, 60 - from) }, (_, i) => ({
                PutRequest: { Item: { feed: { S: "s1" }, seq: { N: String(from + i) } } },
              })),
            },
          }),
        )
        assert.deepEqual(w.UnprocessedItems ?? {}, {})
      }
      const seqs: number[] = []
      let pages = 0
      for await (const page of paginateQuery(
        { client: sdk, pageSize: 7 },
        {
          TableName: "events",
          KeyConditionExpression: "feed = :s",
          ExpressionAttributeValues: { ":s": { S: "s1" } },
          ConsistentRead: true,
        },
      )) {
        pages++
        for (const x of page.Items ?? []) seqs.push(Number(x.seq?.N))
      }
      assert.deepEqual(
        seqs,
        Array.from({ length: 59 }, (_, i) => i + 1),
      )
      assert.ok(pages >= 9)
      const g = await sdk.send(
        new BatchGetItemCommand({
          RequestItems: {
            events: { Keys: [{ feed: { S: "s1" }, seq: { N: "1" } }], ConsistentRead: true },
          },
        }),
      )
      assert.deepEqual(g.Responses?.events?.[0]?.body?.B, body)
      await sdk.send(
        new DeleteItemCommand({ TableName: "events", Key: { feed: { S: "s1" }, seq: { N: "1" } } }),
      )
      const scan = await sdk.send(new ScanCommand({ TableName: "events", ConsistentRead: true }))
      assert.equal(scan.Count, 58)
      assert.equal(server.counters.internal, 0)
    } finally {
      sdk.destroy()
      await server.close()
      c.stop()
    }
  })
})
