import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { CallbackClient, type SimCluster, simCluster } from "@partita/node"
import { onDemandTable } from "./support.ts"

/**
 * Two replicas of one partition fail close together, so their heals overlap; then the survivor
 * loses its disk. Healing used to remove each failed member as soon as its log replica had caught
 * up: the partition went to one storage member and two log replicas, and the survivor's disk loss
 * then left no replica able to lead (the data only on the removed members). Now a failed member
 * is removed only while two other storage members hold the data (else its replacement storage
 * replica joins first), and heals of one partition run one after the other.
 */
const TABLE = "orders"
const WRITES = 2000
const WRITE_EVERY_MS = 10

interface Run {
  readonly c: SimCluster
  readonly pid: string
  readonly acked: ReadonlySet<string>
  /** Fewest storage members seen in the leader's configuration (sampled every 50 ms). */
  readonly minStorageMembers: number
  readonly survivor: string
}

const run = (seed: number): Run => {
  const c = simCluster(seed, { nodes: 9, routers: 2, failureDetectMs: 1000, timing: { compactEntries: 50 } })
  const pid = onDemandTable(c, TABLE, 1)
  const client = new CallbackClient(c.meta, c.routers)
  const acked = new Set<string>()
  for (let i = 0; i < WRITES; i++)
    c.sim.schedule(i * WRITE_EVERY_MS, () =>
      client.putItem({ TableName: TABLE, Item: { id: { S: `k${i}` }, n: { N: String(i) } } }, (r) => {
        if (r.ok) acked.add(`k${i}`)
      }),
    )
  const a = c.leaderOf(pid)!
  const [b, cc] = c
    .replicasOf(pid)
    .map((x) => x.node)
    .filter((n) => n !== a) as [string, string]
  assert.equal(new Set([a, b, cc].map((n) => c.dir.azOf(n))).size, 3)
  // Two followers in two AZs die 100 ms apart; the first comes back 1.8 s later (after both are
  // declared failed, while both heals run); the survivor loses its disk 2.6 s after the first
  // kill (when the old heals had left it the only storage member) and returns empty; the second
  // failed node comes back with its disk 1.5 s after that.
  c.sim.schedule(1000, () => c.killNode(b))
  c.sim.schedule(1100, () => c.killNode(cc))
  c.sim.schedule(2800, () => c.restartNode(b))
  c.sim.schedule(3600, () => c.wipeNode(a))
  c.sim.schedule(4600, () => c.restartNode(a))
  c.sim.schedule(5100, () => c.restartNode(cc))
  let minStorageMembers = 3
  for (let ms = 0; ms < 30_000; ms += 50) {
    c.runFor(50)
    const l = c.replicasOf(pid).find((x) => x.replica.core.state === "leader")
    if (l === undefined) continue
    const storage = l.replica.core.latestConfig().members.filter((m) => m.role === "storage").length
    minStorageMembers = Math.min(minStorageMembers, storage)
  }
  return { c, pid, acked, minStorageMembers, survivor: a }
}

describe("two heals of one partition at once, then the survivor's disk lost", () => {
  for (const seed of [1, 2, 3])
    it(`loses no acknowledged write and the partition serves again (seed ${seed})`, async () => {
      const { c, pid, acked, minStorageMembers, survivor } = run(seed)
      assert.ok(
        minStorageMembers >= 2,
        `the leader's configuration fell to ${minStorageMembers} storage member(s)`,
      )
      assert.ok(acked.size > WRITES / 2, `only ${acked.size} writes acknowledged`)
      assert.equal(c.meta.pendingHealCount(), 0, "heals still pending")
      // Serves again: a new write and a strong scan of everything acknowledged.
      const client = c.client()
      await c.run(client.putItem({ TableName: TABLE, Item: { id: { S: "after" } } }), 15_000)
      const items: string[] = []
      let start: Record<string, unknown> | undefined
      for (let page = 0; page < 20; page++) {
        const r = await c.run(
          client.scan({
            TableName: TABLE,
            ConsistentRead: true,
            ...(start === undefined ? {} : { ExclusiveStartKey: start as never }),
          }),
          15_000,
        )
        for (const it of r.Items) items.push((it.id as { S: string }).S)
        start = r.LastEvaluatedKey
        if (start === undefined) break
      }
      const have = new Set(items)
      const lost = [...acked].filter((k) => !have.has(k))
      assert.deepEqual(lost, [], "acknowledged writes lost")
      assert.ok(have.has("after"))
      // Three identical storage replicas in the configuration again, in three AZs; the
      // survivor's lost replica was noticed and replaced.
      c.runFor(2000)
      const leader = c.replicasOf(pid).find((x) => x.replica.isLeader())!
      const members = leader.replica.core.latestConfig().members
      assert.deepEqual(
        members.map((m) => m.role),
        ["storage", "storage", "storage"],
      )
      const reps = members.map((m) => c.nodes.get(c.dir.nodeOf(m.id)!)!.replicas.get(pid)!)
      assert.equal(new Set(reps.map((r) => r.summary().checksum)).size, 1, "replicas differ")
      assert.equal(reps[0]!.summary().items, have.size)
      assert.equal(new Set(members.map((m) => c.dir.azOf(c.dir.nodeOf(m.id)!))).size, 3)
      assert.ok(c.meta.events.some((e) => e.type === "replica-lost" && e.node === survivor))
    })
})
