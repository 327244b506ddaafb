import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { Client, simCluster } from "@partita/node"

describe("a simulated cluster", () => {
  it("creates a table, writes and reads items", async () => {
    const c = simCluster(1)
    const client = new Client(c.meta, c.routers)
    await client.createTable({
      TableName: "orders",
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "N" },
      ],
      ProvisionedThroughput: { ReadCapacityUnits: 1000, WriteCapacityUnits: 1000 },
      Partitions: 4,
    })
    c.runFor(3000)
    const put = await c.run(
      client.putItem({
        TableName: "orders",
        Item: { pk: { S: "a" }, sk: { N: "1" }, v: { S: "x" } },
        ReturnConsumedCapacity: "TOTAL",
      }),
    )
    assert.equal(put.ConsumedCapacity?.CapacityUnits, 1)
    const got = await c.run(
      client.getItem({ TableName: "orders", Key: { pk: { S: "a" }, sk: { N: "1" } }, ConsistentRead: true }),
    )
    assert.deepEqual(got.Item, { pk: { S: "a" }, sk: { N: "1" }, v: { S: "x" } })
    await assert.rejects(
      c.run(
        client.putItem({
          TableName: "orders",
          Item: { pk: { S: "a" }, sk: { N: "1" }, v: { S: "y" } },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      ),
      (e: { _tag: string }) => e._tag === "ConditionalCheckFailedException",
    )
    const upd = await c.run(
      client.updateItem({
        TableName: "orders",
        Key: { pk: { S: "a" }, sk: { N: "1" } },
        UpdateExpression: "SET n = if_not_exists(n, :z) + :one",
        ExpressionAttributeValues: { ":z": { N: "0" }, ":one": { N: "1" } },
        ReturnValues: "ALL_NEW",
      }),
    )
    assert.deepEqual(upd.Attributes?.n, { N: "1" })
    for (let i = 2; i <= 5; i++)
      await c.run(client.putItem({ TableName: "orders", Item: { pk: { S: "a" }, sk: { N: String(i) } } }))
    for (let i = 0; i < 20; i++)
      await c.run(client.putItem({ TableName: "orders", Item: { pk: { S: `k${i}` }, sk: { N: "0" } } }))
    const q = await c.run(
      client.query({
        TableName: "orders",
        KeyConditionExpression: "pk = :p AND sk > :s",
        ExpressionAttributeValues: { ":p": { S: "a" }, ":s": { N: "2" } },
        ConsistentRead: true,
      }),
    )
    assert.deepEqual(
      q.Items.map((i) => i.sk),
      [{ N: "3" }, { N: "4" }, { N: "5" }],
    )
    const s = await c.run(client.scan({ TableName: "orders", ConsistentRead: true }))
    assert.equal(s.Count, 25)
    const d = await c.run(client.describeTable({ TableName: "orders" }))
    assert.equal(d.Table.PartitionCount, 4)
  })
})

describe("the log codec", () => {
  it("round-trips items with binary values, nested, and without", async () => {
    const { itemFromText, itemToText } = await import("@partita/node")
    const items = [
      { a: { S: "x" }, n: { N: "1" } },
      { b: { B: new Uint8Array([0, 1, 255]) }, bs: { BS: [new Uint8Array([7]), new Uint8Array([])] } },
      {
        m: { M: { deep: { L: [{ B: new Uint8Array([9, 9]) }, { S: "$b" }] } } },
        t: { M: { $b: { S: "not binary" } } },
      },
    ]
    for (const it of items) assert.deepEqual(itemFromText(itemToText(it as never)), it)
  })
})
