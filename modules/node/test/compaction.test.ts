import assert from "node:assert/strict"
import { describe, it } from "node:test"
import {
  CallbackClient,
  decodeCommand,
  IDLE_COMPACT_MS,
  type PutItemRequest,
  runScenario,
  simCluster,
} from "@partita/node"
import { ObjectStore, rebuildFromArchive } from "@partita/paxos"
import { Effect } from "effect"
import { followerOf, onDemandTable, schedulePuts } from "./support.ts"

/** Put `i` writes item `<prefix><i mod keys>` of `table`, with `n` = i. */
const numbered =
  (table: string, prefix: string, keys: number) =>
  (i: number): PutItemRequest => ({
    TableName: table,
    Item: { id: { S: `${prefix}${i % keys}` }, n: { N: String(i) } },
  })

describe("log compaction", () => {
  it("compacts behind B-tree snapshots; a replica that fell behind catches up from a snapshot", () => {
    const c = simCluster(41, { nodes: 3, routers: 1, heal: false, timing: { compactEntries: 50 } })
    const pid = onDemandTable(c, "compact")
    const client = new CallbackClient(c.meta, c.routers)
    const leader = c.leaderOf(pid)!
    const lagging = followerOf(c, pid)
    c.killNode(lagging)
    const puts = { ok: 0 }
    schedulePuts(c, client, 600, 5, numbered("compact", "k", 150), puts)
    c.runFor(5000)
    assert.equal(puts.ok, 600)
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

  it("compacts by size before the entry count when the log outgrows the tree", () => {
    // Default compactEntries (4,096); 1,400 writes of ~1 KB over 40 keys: the log passes
    // max(1 MiB, 8 x the ~40 KB tree) near 1,000 entries, so the size rule compacts first.
    const c = simCluster(43, { nodes: 3, routers: 1, heal: false })
    const pid = onDemandTable(c, "sized")
    const client = new CallbackClient(c.meta, c.routers)
    const blob = "b".repeat(1000)
    const puts = { ok: 0 }
    schedulePuts(
      c,
      client,
      1400,
      4,
      (i) => ({ TableName: "sized", Item: { id: { S: `k${i % 40}` }, blob: { S: blob } } }),
      puts,
    )
    c.runFor(8000)
    assert.equal(puts.ok, 1400)
    for (const { replica } of c.replicasOf(pid)) {
      assert.ok(replica.counters.compactions >= 1, `${replica.counters.compactions} compactions`)
      assert.ok(replica.core.firstLogIndex() > 900, `log starts at ${replica.core.firstLogIndex()}`)
    }
  })

  it("compacts an idle partition's log: writes that stop do not leave their log behind", () => {
    // 300 writes over 30 keys: far below both rules (4,096 entries; 1 MiB). Idle for
    // IDLE_COMPACT_MS, every storage replica compacts through what it applied.
    const c = simCluster(44, { nodes: 3, routers: 1, heal: false })
    const pid = onDemandTable(c, "idle")
    const client = new CallbackClient(c.meta, c.routers)
    const puts = { ok: 0 }
    schedulePuts(c, client, 300, 5, numbered("idle", "k", 30), puts)
    c.runFor(1600)
    assert.equal(puts.ok, 300)
    for (const { replica } of c.replicasOf(pid)) assert.equal(replica.counters.compactions, 0)
    c.runFor(IDLE_COMPACT_MS + 500)
    const sums = new Set<string>()
    for (const { replica } of c.replicasOf(pid)) {
      assert.ok(replica.counters.compactions >= 1, `${replica.counters.compactions} compactions`)
      assert.ok(replica.core.firstLogIndex() > 300, `log starts at ${replica.core.firstLogIndex()}`)
      sums.add(`${replica.summary().checksum}/${replica.summary().items}`)
    }
    assert.equal(sums.size, 1)
    // Writes go on from the snapshot, and a restarted replica recovers from it.
    const other = followerOf(c, pid)
    c.killNode(other)
    schedulePuts(c, client, 20, 5, (i) => ({ TableName: "idle", Item: { id: { S: `z${i}` } } }), puts)
    c.runFor(500)
    c.restartNode(other)
    c.runFor(3000)
    assert.equal(puts.ok, 320)
    const after = new Set(
      c.replicasOf(pid).map((x) => `${x.replica.summary().checksum}/${x.replica.summary().items}`),
    )
    assert.equal(after.size, 1, [...after].join(" "))
    assert.equal(c.node(other).replicas.get(pid)!.summary().items, 50)
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

describe("the WAL archive", () => {
  it("every storage replica archives the same segments; the archive rebuilds the replicas' items", async () => {
    const c = simCluster(43, {
      nodes: 3,
      routers: 1,
      archive: { entriesPerSegment: 64 },
      timing: { compactEntries: 100 },
    })
    onDemandTable(c, "arch")
    const client = new CallbackClient(c.meta, c.routers)
    const puts = { ok: 0 }
    schedulePuts(c, client, 700, 4, numbered("arch", "a", 90), puts)
    c.runFor(5000)
    assert.equal(puts.ok, 700)
    const pid = c.meta.partitionMap("arch")!.partitions[0]!.id
    const reps = c.replicasOf(pid)
    for (const { replica } of reps) {
      assert.equal(replica.archiveErrors, 0)
      assert.ok(replica.counters.compactions >= 3)
      assert.ok(
        replica.core.firstLogIndex() - 1 <= replica.archiver!.archivedThrough,
        "log truncated past the archive",
      )
    }
    const id = { table: "arch", partition: pid }
    const through = Math.min(...reps.map((r) => r.replica.archiver!.archivedThrough))
    const rebuilt = await Effect.runPromise(
      rebuildFromArchive(id, through, new Map<string, string>(), (m, e) => {
        if (e.kind === 0) {
          const cmd = decodeCommand(e.data)
          if (cmd.kind === "write") {
            if (cmd.text === undefined) m.delete(cmd.key)
            else m.set(cmd.key, cmd.text)
          }
        }
        return m
      }).pipe(Effect.provideService(ObjectStore, c.objectStore!.service())),
    )
    assert.equal(rebuilt.through, through)
    // Every archived write is in the replicas (the archive lags by less than a segment).
    const tree = reps[0]!.replica.tree
    let same = 0
    for (const [k, text] of rebuilt.state) {
      const v = tree.get(k)
      assert.ok(v !== undefined)
      if (v.text === text) same++
    }
    assert.ok(rebuilt.state.size === 90 && same > 0)
  })
})
