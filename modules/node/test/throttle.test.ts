import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { CallbackClient, simCluster } from "@partita/node"

const setup = (seed: number) => {
  const c = simCluster(seed, { nodes: 3, routers: 2 })
  const client = new CallbackClient(c.meta, c.routers)
  const t = c.meta.createTable({
    TableName: "metered",
    KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
    AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
    ProvisionedThroughput: { ReadCapacityUnits: 400, WriteCapacityUnits: 200 },
    Partitions: 2,
  })
  assert.equal(t._tag, "Right")
  c.runFor(3000)
  return { c, client }
}

/** Issues `perSecond` PutItems, evenly spaced, for `seconds`; counts outcomes. */
const writeLoad = (s: ReturnType<typeof setup>, perSecond: number, seconds: number) => {
  const out = { ok: 0, throttled: 0, other: 0 }
  const n = perSecond * seconds
  for (let i = 0; i < n; i++) {
    s.c.sim.schedule((i * 1000) / perSecond, () =>
      s.client.putItem(
        { TableName: "metered", Item: { id: { S: `k${i % 50}` }, n: { N: String(i) } } },
        (r) => {
          if (r.ok) out.ok++
          else if (r.error._tag === "ProvisionedThroughputExceededException") out.throttled++
          else out.other++
        },
      ),
    )
  }
  s.c.runFor(seconds * 1000 + 3000)
  return out
}

describe("admission on the request path", () => {
  it("under its provisioned rate, GAC throttles nothing", () => {
    const s = setup(1)
    const r = writeLoad(s, 100, 20) // half the table's 200 WCU
    assert.deepEqual(r, { ok: 2000, throttled: 0, other: 0 })
  })

  it("above its provisioned rate, a table sees ProvisionedThroughputExceededException", () => {
    const s = setup(2)
    const seconds = 10
    const r = writeLoad(s, 500, seconds)
    assert.equal(r.other, 0)
    assert.ok(r.throttled > 0, "nothing throttled")
    // Admitted writes stay near the provisioned 200 WCU/s (bursts and start-up grants aside).
    assert.ok(r.ok <= 200 * seconds * 1.25, `${r.ok} writes admitted in ${seconds} s at 200 WCU`)
    assert.ok(r.ok >= 200 * seconds * 0.75, `only ${r.ok} writes admitted in ${seconds} s at 200 WCU`)
  })

  it("never calls a callback inside the call: a retry loop on a throttled table does not recurse", () => {
    const s = setup(5)
    // Exhaust the table's write allowance, then retry from the callback until 30,000 answers
    // came back: answered synchronously, this recursed once per throttled request.
    let answers = 0
    let throttled = 0
    let inside = false
    let calledInside = 0
    const go = (): void => {
      if (answers >= 30_000) return
      inside = true
      s.client.putItem({ TableName: "metered", Item: { id: { S: `r${answers % 7}` } } }, (r) => {
        if (inside) calledInside++
        answers++
        if (!r.ok) throttled++
        go()
      })
      inside = false
    }
    s.c.sim.schedule(0, () => {
      for (let i = 0; i < 8; i++) go()
    })
    s.c.runFor(200)
    assert.equal(calledInside, 0, "a callback ran inside its call")
    assert.ok(answers >= 30_000, `${answers} answers`)
    assert.ok(throttled > 20_000, `${throttled} throttled`)
  })

  it("batch operations return unprocessed items and keys when throttled", () => {
    const s = setup(3)
    let unprocessedItems = 0
    let processedItems = 0
    let unprocessedKeys = 0
    let gotItems = 0
    for (let b = 0; b < 40; b++) {
      s.c.sim.schedule(b * 5, () => {
        const writes = Array.from({ length: 25 }, (_, i) => ({
          PutRequest: { Item: { id: { S: `b${b}-${i}` } } },
        }))
        s.client.batchWriteItem({ RequestItems: { metered: writes } }, (r) => {
          assert.ok(r.ok)
          const u = r.value.UnprocessedItems.metered?.length ?? 0
          unprocessedItems += u
          processedItems += 25 - u
        })
        const keys = Array.from({ length: 100 }, (_, i) => ({ id: { S: `k${i}` } }))
        s.client.batchGetItem({ RequestItems: { metered: { Keys: keys } } }, (r) => {
          assert.ok(r.ok)
          unprocessedKeys += r.value.UnprocessedKeys.metered?.Keys.length ?? 0
          gotItems += r.value.Responses.metered?.length ?? 0
        })
      })
    }
    s.c.runFor(5000)
    assert.ok(
      unprocessedItems > 0 && processedItems > 0,
      `${processedItems} processed, ${unprocessedItems} unprocessed`,
    )
    assert.equal(processedItems + unprocessedItems, 1000)
    assert.ok(unprocessedKeys > 0, "no unprocessed keys")
    assert.equal(gotItems, 0)
  })
})
