import { Client, localClusterWithDataDir } from "@partita/node"

// A real-time cluster keeping its files under `dir`; each call opens what an earlier one left.
export const countVisits = async (dir: string): Promise<number> => {
  const cluster = await localClusterWithDataDir(dir, { nodes: 3, routers: 1 })
  try {
    const db = new Client(cluster.meta, cluster.routers)
    if (!(await db.listTables()).TableNames.includes("visits"))
      await db.createTable({
        TableName: "visits",
        KeySchema: [{ AttributeName: "page", KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: "page", AttributeType: "S" }],
        BillingMode: "PAY_PER_REQUEST",
      })
    await cluster.sleep(1500) // leaders elected (again)
    const r = await db.updateItem({
      TableName: "visits",
      Key: { page: { S: "/" } },
      UpdateExpression: "ADD hits :one",
      ExpressionAttributeValues: { ":one": { N: "1" } },
      ReturnValues: "UPDATED_NEW",
    })
    return Number((r.Attributes?.hits as { N: string } | undefined)?.N)
  } finally {
    cluster.stop()
  }
}
// countVisits(dir) → 1, then 2, then 3: each process (or call) finds the last one's count.
