import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { Sim } from "@partita/sim"
import {
  buildRouters,
  buildServices,
  buildStorage,
  CallbackClient,
  SimRuntime,
  type TableCatalog,
} from "../src/index.ts"

describe("composing a cluster from its parts", () => {
  it("routers built over another table catalog see only what it shows", () => {
    const sim = new Sim({ seed: 11 })
    const rt = new SimRuntime(sim)
    const services = buildServices(rt, {})
    const storage = buildStorage(rt, {}, services.memdsIds[0]!)
    // A catalog that shows routers only the tables whose names start with "pub-".
    let asked = 0
    const catalog: TableCatalog = {
      tableInfo: (name) => {
        asked++
        return name.startsWith("pub-") ? storage.meta.tableInfo(name) : undefined
      },
      partitionMap: (name) => (name.startsWith("pub-") ? storage.meta.partitionMap(name) : undefined),
    }
    const routers = buildRouters(rt, { routers: 2 }, catalog, services)
    assert.equal(routers.length, 2)
    const table = (name: string) => ({
      TableName: name,
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" as const }],
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" as const }],
      BillingMode: "PAY_PER_REQUEST" as const,
    })
    assert.equal(storage.meta.createTable(table("pub-orders"))._tag, "Right")
    assert.equal(storage.meta.createTable(table("hidden"))._tag, "Right")
    sim.scheduler.runFor(3000)
    const client = new CallbackClient(storage.meta, routers)
    const results: Record<string, string> = {}
    for (const name of ["pub-orders", "hidden"])
      client.putItem({ TableName: name, Item: { id: { S: "a" }, n: { N: "1" } } }, (r) => {
        results[name] = r.ok ? "ok" : r.error._tag
      })
    sim.scheduler.runFor(2000)
    assert.deepEqual(results, { "pub-orders": "ok", hidden: "ResourceNotFoundException" })
    assert.ok(asked >= 2)
    // The write reached the storage nodes: three replicas hold it.
    let copies = 0
    for (const n of storage.nodes.values())
      for (const r of n.replicas.values()) if (r.tree.size === 1) copies++
    assert.equal(copies, 3)
  })
})
