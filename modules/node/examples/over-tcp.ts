import { Client, localCluster, RemoteClient, serveDynamoDB } from "@partita/node"

// A cluster served on DynamoDB's wire protocol; `RemoteClient` (or an AWS SDK) in any process uses it.
export const overTcp = async (): Promise<unknown> => {
  const cluster = localCluster({ nodes: 3, routers: 1 })
  const server = await serveDynamoDB(new Client(cluster.meta, cluster.routers), { port: 0 })
  try {
    const db = new RemoteClient(server.url) // e.g. http://127.0.0.1:40411
    await db.createTable({
      TableName: "files",
      KeySchema: [{ AttributeName: "path", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "path", AttributeType: "S" }],
      BillingMode: "PAY_PER_REQUEST",
    })
    // Binaries are bytes here and base64 on the wire.
    const bytes = new Uint8Array([0xca, 0xfe])
    await db.putItem({ TableName: "files", Item: { path: { S: "/a" }, data: { B: bytes } } })
    const got = await db.getItem({ TableName: "files", Key: { path: { S: "/a" } }, ConsistentRead: true })
    const refused = await db.getItem({ TableName: "nope", Key: { path: { S: "/a" } } }).catch((e) => e._tag)
    return { data: got.Item?.data, refused }
  } finally {
    await server.close()
    cluster.stop()
  }
}
