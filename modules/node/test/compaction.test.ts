import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { CallbackClient, runScenario, simCluster } from "@partita/node"

describe("log compaction", () => {
  it("compacts behind B-tree snapshots; a replica that fell behind catches up from a snapshot", () => {
    const c = simCluster(41, { nodes: 3, routers: 1, heal: false, timing: { compactEntries: 50 } })
    const t = c.meta.createTable({
      TableName: "compact",
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
      BillingMode: "PAY_PER_REQUEST",
    })
    assert.equal(t._tag, "Right")
    c.runFor(3000)
    const client = new CallbackClient(c.meta, c.routers)
    const pid = c.meta.partitionMap("compact")!.partitions[0]!.id
    const leader = c.leaderOf(pid)!
    const lagging = c.replicasOf(pid).find((x) => x.node !== leader)!.node
    c.killNode(lagging)
    let ok = 0
    for (let i = 0; i < 600; i++)
      c.sim.schedule(i * 5, () =>
        client.putItem(
          { TableName: "compact", Item: { id: { S: `k${i % 150}` }, n: { N: String(i) } } },
          (r) => {
            if (r.ok) ok++
          },
        ),
      )
    c.runFor(5000)
    assert.equal(ok, 600)
    const lead = c.node(leader).replicas.get(pid)!
    assert.ok(lead.counters.compactions >= 5, `${lead.counters.compactions} compactions`)
    assert.ok(lead.core.firstLogIndex() > 500, "the leader's log was not truncated")
    // The lagging replica restarts from its (old) disk; the entries it misses are gone: snapshot.
    c.restartNode(lagging)
    c.runFor(4000)
    const reps = c.replicasOf(pid)
    const sums = new Set(reps.map((x) => `${x.replica.summary().checksum}/${x.replica.summary().items}`))
    assert.equal(sums.size, 1, [...sums].join(" "))
    assert.equal(c.node(lagging).replicas.get(pid)!.summary().items, 150)
    // And it recovers from its own snapshot + log after another crash.
    c.killNode(lagging)
    c.runFor(100)
    c.restartNode(lagging)
    c.runFor(2000)
    assert.equal(c.node(lagging).replicas.get(pid)!.summary().checksum, reps[0]!.replica.summary().checksum)
  })

  it("keeps the end-to-end guarantees with aggressive compaction", () => {
    for (let s = 1; s <= 20; s++) {
      const r = runScenario({
        seed: s,
        durationMs: 4000,
        faultKinds: ["kill-leader", "partition-az", "crash-node", "split"],
        cluster: { timing: { compactEntries: 40 } },
      })
      assert.equal(r.linearizable, "linearizable", `seed ${s}`)
      assert.deepEqual(r.divergent, [], `seed ${s}`)
    }
  })
})
