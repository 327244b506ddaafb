import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { CallbackClient, simCluster } from "@partita/node"
import { followerOf, onDemandTable, schedulePuts } from "./support.ts"

const table = (c: ReturnType<typeof simCluster>, partitions: number) => {
  onDemandTable(c, "events", partitions)
}

describe("a split under load", () => {
  it("loses and duplicates nothing, and the routers converge to the new map", () => {
    const c = simCluster(11, { nodes: 6, routers: 3 })
    table(c, 1)
    const client = new CallbackClient(c.meta, c.routers)
    const acked = new Map<string, number>()
    let failed = 0
    let stopped = false
    // 8 writers, each appending to its own counter item: n = 1, 2, 3, ... (conditional on n-1).
    for (let w = 0; w < 8; w++) {
      let n = 0
      const next = (): void => {
        if (stopped) return
        const id = `w${w}`
        const cond =
          n === 0
            ? { ConditionExpression: "attribute_not_exists(id)" }
            : { ConditionExpression: "n = :prev", ExpressionAttributeValues: { ":prev": { N: String(n) } } }
        client.putItem(
          { TableName: "events", Item: { id: { S: id }, n: { N: String(n + 1) } }, ...cond },
          (r) => {
            if (r.ok) {
              n++
              acked.set(id, n)
            } else failed++
            c.sim.schedule(2, next)
          },
        )
      }
      next()
    }
    // Plus a stream of distinct items.
    let written = 0
    for (let i = 0; i < 400; i++)
      c.sim.schedule(i * 10, () =>
        client.putItem({ TableName: "events", Item: { id: { S: `item${i}` } } }, (r) => {
          if (r.ok) written++
        }),
      )
    c.runFor(1000)
    const before = c.meta.partitionMap("events")!.partitions.map((p) => p.id)
    assert.ok(c.meta.split("events", before[0]!), "split refused")
    c.runFor(1500)
    const mid = c.meta.partitionMap("events")!.partitions
    assert.equal(mid.length, 2)
    assert.ok(c.meta.split("events", mid[1]!.id), "second split refused")
    c.runFor(3000)
    stopped = true
    c.runFor(3000)
    const after = c.meta.partitionMap("events")!.partitions
    assert.equal(after.length, 3)
    assert.equal(written, 400)
    assert.equal(failed, 0, "a conditional append failed: a write was lost or applied twice")

    // Every acknowledged counter value is there exactly, every item exactly once.
    let scanned: Array<Record<string, unknown>> = []
    client.scan({ TableName: "events", ConsistentRead: true }, (r) => {
      assert.ok(r.ok)
      scanned = r.value.Items as never
    })
    c.runFor(2000)
    assert.equal(scanned.length, 408)
    const ids = new Set(scanned.map((i) => (i.id as { S: string }).S))
    assert.equal(ids.size, 408)
    for (const [id, n] of acked) {
      const it = scanned.find((i) => (i.id as { S: string }).S === id) as { n: { N: string } }
      assert.equal(it.n.N, String(n))
    }
    // The children hold disjoint parts: each item on exactly one live partition.
    let items = 0
    for (const p of after) {
      const reps = c.replicasOf(p.id).filter((x) => !x.replica.retired)
      const sums = new Set(reps.map((x) => x.replica.summary().checksum))
      assert.equal(sums.size, 1, `replicas of ${p.id} differ`)
      items += reps[0]!.replica.summary().items
    }
    assert.equal(items, 408)

    // Routers converge: after a round of requests through every router, no request is stale.
    const staleBefore = c.routers.map((r) => r.cache.metrics().stalenessDetected)
    for (const r of c.routers)
      for (let i = 0; i < 30; i++)
        r.getItem({ TableName: "events", Key: { id: { S: `item${i}` } } }, () => {})
    c.runFor(1000)
    const staleMid = c.routers.map((r) => r.cache.metrics().stalenessDetected)
    for (const r of c.routers)
      for (let i = 0; i < 100; i++)
        r.getItem({ TableName: "events", Key: { id: { S: `item${i}` } } }, () => {})
    c.runFor(1000)
    assert.deepEqual(
      c.routers.map((r) => r.cache.metrics().stalenessDetected),
      staleMid,
    )
    assert.ok(staleMid.some((x, i) => x >= staleBefore[i]!))
  })
})

/** Kills a follower of the table's first partition, splits it, runs 3 s; the parent and the node. */
const splitWithAFollowerDown = (c: ReturnType<typeof simCluster>): { parent: string; down: string } => {
  const parent = c.meta.partitionMap("events")!.partitions[0]!.id
  const down = followerOf(c, parent)
  c.killNode(down)
  assert.ok(c.meta.split("events", parent), "split refused")
  c.runFor(3000)
  return { parent, down }
}

describe("a split's parent replicas", () => {
  it("are dropped once every member's node holds both children, a lagging one included", () => {
    const c = simCluster(23, { nodes: 3, routers: 1, heal: false })
    table(c, 1)
    const puts = { ok: 0 }
    schedulePuts(
      c,
      new CallbackClient(c.meta, c.routers),
      200,
      5,
      (i) => ({ TableName: "events", Item: { id: { S: `e${i}` } } }),
      puts,
    )
    c.runFor(1500)
    // One member is down through the split: it has not applied the fence, so the others keep
    // their (retired) parent replicas for it.
    const { parent, down } = splitWithAFollowerDown(c)
    const children = c.meta.partitionMap("events")!.partitions.map((p) => p.id)
    assert.equal(children.length, 2)
    assert.equal(
      c.replicasOf(parent).length,
      2,
      "the up members' parents went before the down one had its children",
    )
    assert.ok(c.replicasOf(parent).every((x) => x.replica.retired))
    // Back, it learns the fence from them, makes its children, and the parents go everywhere.
    c.restartNode(down)
    c.runFor(4000)
    assert.deepEqual(c.replicasOf(parent), [])
    for (const n of c.nodes.values())
      assert.equal(n.disks.has(parent), false, `${n.nodeId} keeps the parent's disk`)
    for (const child of children) {
      const reps = c.replicasOf(child)
      assert.equal(reps.length, 3, `${child}: ${reps.length} replicas`)
      assert.equal(
        new Set(reps.map((x) => x.replica.summary().checksum)).size,
        1,
        `${child}: replicas differ`,
      )
    }
    assert.equal(puts.ok, 200)
  })
})

describe("a deleted table", () => {
  it("leaves no replica behind, a split's kept parents included", () => {
    const c = simCluster(24, { nodes: 3, routers: 1, heal: false })
    table(c, 1)
    c.runFor(500)
    const { parent, down } = splitWithAFollowerDown(c)
    assert.ok(c.replicasOf(parent).length > 0, "the parents went before the down member had its children")
    assert.equal(c.meta.deleteTable("events")._tag, "Right")
    c.restartNode(down)
    c.runFor(1000)
    for (const n of c.nodes.values())
      assert.deepEqual([...n.replicas.keys(), ...n.disks.keys()], [], n.nodeId)
  })
})

describe("a failed storage replica", () => {
  it("is covered by a log replica within seconds of simulated time, then rebuilt", () => {
    const failureDetectMs = 1000
    const c = simCluster(21, { nodes: 9, routers: 2, failureDetectMs })
    table(c, 1)
    const client = new CallbackClient(c.meta, c.routers)
    let ok = 0
    for (let i = 0; i < 1500; i++)
      c.sim.schedule(i * 10, () =>
        client.putItem(
          { TableName: "events", Item: { id: { S: `e${i % 100}` }, i: { N: String(i) } } },
          (r) => {
            if (r.ok) ok++
          },
        ),
      )
    c.runFor(2000)
    const pid = c.meta.partitionMap("events")!.partitions[0]!.id
    const victim = followerOf(c, pid)
    const killedAt = c.sim.now
    c.killNode(victim)
    // Every 50 ms: the configuration as the leader has it (members as `<role>` or `<role>~` for a
    // learner), each change once.
    const configs: string[] = []
    for (let t = 0; t < 14_000; t += 50) {
      c.runFor(50)
      const l = c.replicasOf(pid).find((x) => x.replica.core.state === "leader")?.replica
      const shown = (l?.core.latestConfig().members ?? [])
        .map((m) => `${m.role}${m.learner === true ? "~" : ""}`)
        .join(",")
      if (l !== undefined && configs[configs.length - 1] !== shown) configs.push(shown)
    }
    // Each replacement joins as a learner (the quorum stays the three members) and is promoted
    // once caught up: the log replica, then the storage replica (the failed one removed between).
    assert.deepEqual(configs, [
      "storage,storage,storage",
      "storage,storage,storage,log~",
      "storage,storage,storage,log",
      "storage,storage,log",
      "storage,storage,log,storage~",
      "storage,storage,log,storage",
      "storage,storage,storage",
    ])
    const heal = c.meta.heals.find((h) => h.partitionId === pid && h.failedNode === victim)
    assert.ok(heal !== undefined, "no heal started")
    assert.ok(heal.coveredAt !== undefined, "no log replica covered the failed replica")
    const coverMs = heal.coveredAt - killedAt
    // Detection (1 s) plus one probe period and the log replica's catch-up.
    assert.ok(coverMs <= failureDetectMs + 1500, `covered after ${coverMs} ms`)
    assert.ok(heal.rebuiltAt !== undefined && heal.rebuiltAt >= heal.coveredAt, "storage replica not rebuilt")
    assert.equal(ok, 1500)
    // The rebuilt storage replica is identical to the others; the log replica has left.
    const reps = c.replicasOf(pid)
    assert.deepEqual(
      reps.map((r) => r.replica.spec.role),
      ["storage", "storage", "storage"],
    )
    const sums = new Set(reps.map((x) => `${x.replica.summary().checksum}/${x.replica.summary().items}`))
    assert.equal(sums.size, 1)
    assert.ok(reps.some((r) => r.node === heal.storageNode))
    // The same story in the structured events and the metrics.
    const types = new Set(c.meta.events.map((e) => e.type))
    for (const t of ["leader", "node-failed", "log-replica-covered", "storage-replica-rebuilt"])
      assert.ok(types.has(t as never), t)
    const m = c.metrics()
    assert.ok((m.leaderChanges[pid] ?? 0) >= 1)
    assert.equal(m.nodes[victim]!.up, false)
    const put = (
      m.routers.rr0!.tables as Record<
        string,
        { requests: Record<string, number>; latency: Record<string, { p99: number }> }
      >
    ).events!
    assert.ok((put.requests.PutItem ?? 0) > 0 && put.latency.PutItem!.p99 > 0)
  })
})

describe("automatic splits", () => {
  it("split for consumption: a partition written above 80 % of its limit splits live, at the traffic median", () => {
    const c = simCluster(31, { nodes: 6, routers: 2, autoSplit: { consumption: { windowMs: 2000 } } })
    table(c, 1)
    const client = new CallbackClient(c.meta, c.routers)
    let ok = 0
    let failed = 0
    // ~950 writes/s over many keys: above 0.8 x 1,000 WCU.
    for (let i = 0; i < 9500; i++)
      c.sim.schedule(i * (1000 / 950), () =>
        client.putItem({ TableName: "events", Item: { id: { S: `c${i % 2000}` } } }, (r) => {
          if (r.ok) ok++
          else failed++
        }),
      )
    c.runFor(14_000)
    const parts = c.meta.partitionMap("events")!.partitions
    assert.ok(parts.length >= 2, `no split (${parts.length} partition)`)
    assert.ok(c.meta.events.some((e) => e.type === "split"))
    assert.equal(ok + failed, 9500)
    assert.ok(failed < 200, `${failed} writes failed`)
    let items = 0
    for (const p of parts)
      items += c
        .replicasOf(p.id)
        .find((x) => !x.replica.retired)!
        .replica.summary().items
    assert.equal(items, 2000)
  })

  it("split for size: a partition past the size threshold splits at its median by bytes", () => {
    const c = simCluster(32, { nodes: 3, routers: 1, autoSplit: { sizeBytes: 100_000 } })
    table(c, 1)
    const client = new CallbackClient(c.meta, c.routers)
    const blob = "y".repeat(1000)
    let ok = 0
    for (let i = 0; i < 300; i++)
      c.sim.schedule(i * 5, () =>
        client.putItem({ TableName: "events", Item: { id: { S: `s${i}` }, blob: { S: blob } } }, (r) => {
          if (r.ok) ok++
        }),
      )
    c.runFor(8000)
    assert.equal(ok, 300)
    const parts = c.meta.partitionMap("events")!.partitions
    assert.ok(parts.length >= 3, `${parts.length} partitions for ~300 KB at a 100 KB threshold`)
    for (const p of parts)
      assert.ok(
        c
          .replicasOf(p.id)
          .find((x) => !x.replica.retired)!
          .replica.bytes() <= 200_000,
      )
  })
})

describe("a node that loses its disk", () => {
  it("comes back empty; its replicas are re-created elsewhere, three AZs again, identical", () => {
    const c = simCluster(51, { nodes: 6, routers: 2, failureDetectMs: 1500 })
    table(c, 3)
    const client = new CallbackClient(c.meta, c.routers)
    let ok = 0
    for (let i = 0; i < 300; i++)
      c.sim.schedule(i * 10, () =>
        client.putItem({ TableName: "events", Item: { id: { S: `d${i % 40}` } } }, (r) => {
          if (r.ok) ok++
        }),
      )
    c.runFor(500)
    c.wipeNode("sn1")
    c.runFor(800) // back before the failure detector fires: alive, but empty
    c.restartNode("sn1")
    c.runFor(12_000)
    assert.equal(ok, 300)
    assert.ok(c.meta.events.some((e) => e.type === "replica-lost" && e.node === "sn1"))
    let items = 0
    for (const p of c.meta.partitionMap("events")!.partitions) {
      const reps = c.replicasOf(p.id)
      assert.equal(reps.length, 3, `${p.id}: ${reps.map((r) => r.node).join(",")}`)
      assert.equal(new Set(reps.map((r) => c.dir.azOf(r.node))).size, 3, `${p.id} not in 3 AZs`)
      assert.equal(new Set(reps.map((r) => r.replica.summary().checksum)).size, 1)
      items += reps[0]!.replica.summary().items
    }
    assert.equal(items, 40)
  })
})
