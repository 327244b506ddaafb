import { Client, simCluster } from "@partita/node"

// A 9-node, 3-AZ cluster with 2 routers, MemDS and GAC, on virtual time (seed 42).
export const quickstart = async (): Promise<unknown> => {
  const cluster = simCluster(42, { nodes: 9, routers: 2 })
  const db = new Client(cluster.meta, cluster.routers)
  await db.createTable({
    TableName: "orders",
    KeySchema: [
      { AttributeName: "customer", KeyType: "HASH" },
      { AttributeName: "order", KeyType: "RANGE" },
    ],
    AttributeDefinitions: [
      { AttributeName: "customer", AttributeType: "S" },
      { AttributeName: "order", AttributeType: "N" },
    ],
    ProvisionedThroughput: { ReadCapacityUnits: 100, WriteCapacityUnits: 100 },
    Partitions: 4,
  })
  cluster.runFor(3000) // leaders elected, routes published to MemDS

  // `cluster.run(p)` drives virtual time until the promise settles.
  await cluster.run(
    db.putItem({
      TableName: "orders",
      Item: { customer: { S: "ada" }, order: { N: "1" }, spent: { N: "30" } },
    }),
  )
  await cluster.run(
    db.updateItem({
      TableName: "orders",
      Key: { customer: { S: "ada" }, order: { N: "1" } },
      UpdateExpression: "SET spent = spent + :d",
      ConditionExpression: "spent < :max",
      ExpressionAttributeValues: { ":d": { N: "12" }, ":max": { N: "100" } },
    }),
  )
  const got = await cluster.run(
    db.getItem({
      TableName: "orders",
      Key: { customer: { S: "ada" }, order: { N: "1" } },
      ConsistentRead: true,
      ReturnConsumedCapacity: "TOTAL",
    }),
  )
  // Kill the partition's leader: the next write waits for a new leader, then succeeds.
  const pid = cluster.meta
    .partitionMap("orders")!
    .partitions.find((p) => cluster.leaderOf(p.id) !== undefined)!.id
  cluster.killLeader(pid)
  const q = await cluster.run(
    db.query({
      TableName: "orders",
      KeyConditionExpression: "customer = :c",
      ExpressionAttributeValues: { ":c": { S: "ada" } },
    }),
  )
  return { spent: got.Item?.spent, capacity: got.ConsumedCapacity?.CapacityUnits, count: q.Count }
}
// → { spent: { N: "42" }, capacity: 1, count: 1 }
