import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { CallbackClient, type ClusterConfig, type SimCluster, simCluster } from "@partita/node"
import { followerOf, onDemandTable } from "./support.ts"

/**
 * Partial disk faults on the nodes' simulated disks (`ClusterConfig.disk`): a power loss in the
 * middle of a WAL write (pieces of it kept, torn or lost), a loss of everything not fsynced, and
 * plain crashes (commit-index frames are written without fsync). Nodes restart and recover from
 * their WAL frames; every acknowledged write must still be there and the replicas identical.
 */
const TABLE = "ledger"

interface Run {
  readonly c: SimCluster
  readonly acked: ReadonlySet<string>
  readonly pid: string
}

const setup = (seed: number, disk: NonNullable<ClusterConfig["disk"]>, config: ClusterConfig = {}): Run => {
  const c = simCluster(seed, {
    nodes: 3,
    routers: 2,
    heal: false,
    disk,
    timing: { compactEntries: 1000 },
    ...config,
  })
  const pid = onDemandTable(c, TABLE, 1)
  const client = new CallbackClient(c.meta, c.routers)
  const acked = new Set<string>()
  // 200 writes a second for 9 s, each a new item.
  for (let i = 0; i < 1800; i++)
    c.sim.schedule(i * 5, () =>
      client.putItem({ TableName: TABLE, Item: { id: { S: `w${i}` }, i: { N: String(i) } } }, (r) => {
        if (r.ok) acked.add(`w${i}`)
      }),
    )
  return { c, pid, acked }
}

/**
 * After a heal: three storage replicas of `pid`, identical, holding every acknowledged write
 * (and more than 1,500 were acknowledged).
 */
const healedWithEverything = (
  c: SimCluster,
  pid: string,
  acked: ReadonlySet<string>,
  label: string,
): void => {
  const storage = c.replicasOf(pid).filter((x) => x.replica.spec.role === "storage")
  assert.equal(storage.length, 3, `${label}: ${storage.length} storage replicas`)
  assert.equal(new Set(storage.map((x) => x.replica.summary().checksum)).size, 1, `${label}: replicas differ`)
  const have = new Set<string>()
  for (const x of storage)
    for (let i = 0; i < x.replica.tree.size; i++)
      have.add((x.replica.tree.at(i)![1].item.id as { S: string }).S)
  assert.deepEqual(
    [...acked].filter((k) => !have.has(k)),
    [],
    `${label}: acknowledged writes lost`,
  )
  assert.ok(acked.size > 1500, `${label}: only ${acked.size} acknowledged`)
}

/** Every node up again, then what a strong scan holds. */
const finish = (run: Run): { lost: string[]; checksums: number; items: number } => {
  const { c, acked, pid } = run
  for (const id of c.nodes.keys()) c.restartNode(id)
  c.runFor(15_000)
  const client = new CallbackClient(c.meta, c.routers)
  const have = new Set<string>()
  let start: Record<string, unknown> | undefined
  let done = false
  for (let page = 0; page < 50 && !done; page++) {
    let answered = false
    client.scan(
      {
        TableName: TABLE,
        ConsistentRead: true,
        ...(start === undefined ? {} : { ExclusiveStartKey: start as never }),
      },
      (r) => {
        answered = true
        assert.ok(r.ok, r.ok ? "" : r.error.message)
        for (const it of r.value.Items) have.add((it.id as { S: string }).S)
        start = r.value.LastEvaluatedKey
        done = start === undefined
      },
    )
    for (let i = 0; i < 200 && !answered; i++) c.runFor(100)
    assert.ok(answered, "the scan was not answered")
  }
  const reps = c.replicasOf(pid)
  return {
    lost: [...acked].filter((k) => !have.has(k)),
    checksums: new Set(reps.map((x) => x.replica.summary().checksum)).size,
    items: reps.length,
  }
}

describe("partial disk faults", () => {
  it("a node losing power mid-write, or losing what it had not fsynced, recovers from its WAL; nothing acknowledged is lost", () => {
    let torn = 0
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const run = setup(seed, {})
      const { c, pid } = run
      const leader = c.leaderOf(pid)!
      const [f1, f2] = [...c.nodes.keys()].filter((n) => n !== leader) as [string, string]
      // Power losses at the next WAL write: a follower (pieces kept or torn), the other follower
      // (nothing un-fsynced kept), then the leader; each back a second later. Then a plain crash.
      c.sim.schedule(1000, () => c.crashDuringNextWrite(f1, "random"))
      c.sim.schedule(2000, () => c.restartNode(f1))
      c.sim.schedule(3000, () => c.crashDuringNextWrite(f2, "lose-all"))
      c.sim.schedule(4000, () => c.restartNode(f2))
      c.sim.schedule(5000, () => c.crashDuringNextWrite(leader, "random"))
      c.sim.schedule(6000, () => c.restartNode(leader))
      c.sim.schedule(7000, () => c.killNode(f1))
      c.sim.schedule(7500, () => c.restartNode(f1))
      c.runFor(10_000)
      const res = finish(run)
      assert.deepEqual(res.lost, [], `seed ${seed}: acknowledged writes lost`)
      assert.equal(res.items, 3)
      assert.equal(res.checksums, 1, `seed ${seed}: replicas differ`)
      const recs = [...c.nodes.values()].flatMap((n) => n.walRecoveries)
      assert.ok(recs.length >= 4, `seed ${seed}: ${recs.length} WAL recoveries`)
      assert.ok(recs.every((r) => !r.corrupt))
      torn += recs.filter((r) => r.tornBytes > 0).length
    }
    assert.ok(torn > 0, "no recovery cut a torn tail")
  })

  // Both followers lose power at their next write, losing what they had not fsynced, and then the
  // leader crashes: what was acknowledged lives only on the followers' fsynced logs.
  const bothFollowersThenLeader = (seed: number, disk: NonNullable<ClusterConfig["disk"]>) => {
    const run = setup(seed, disk)
    const { c, pid } = run
    const leader = c.leaderOf(pid)!
    const followers = [...c.nodes.keys()].filter((n) => n !== leader)
    c.sim.schedule(2000, () => {
      for (const f of followers) c.crashDuringNextWrite(f, "lose-all")
    })
    c.sim.schedule(2300, () => c.killNode(leader))
    c.runFor(10_000)
    return { run, res: finish(run) }
  }

  it("acknowledged writes survive when both followers lose their un-fsynced writes and the leader dies", () => {
    for (const seed of [11, 12, 13]) {
      const { run, res } = bothFollowersThenLeader(seed, {})
      assert.ok(run.acked.size > 300, `seed ${seed}: only ${run.acked.size} writes acknowledged`)
      assert.deepEqual(res.lost, [], `seed ${seed}: acknowledged writes lost`)
      assert.equal(res.checksums, 1)
    }
  })

  it("bit rot in a node's WAL, even in its first frame (the snapshot marker), is found at recovery; nothing acknowledged is lost", () => {
    for (const [seed, at] of [
      [21, 0],
      [22, 3],
      [23, undefined],
      [24, undefined],
    ] as const) {
      const run = setup(seed, {})
      const { c, pid } = run
      const leader = c.leaderOf(pid)!
      const [f1, f2] = [...c.nodes.keys()].filter((n) => n !== leader) as [string, string]
      // A follower, the other follower, then the leader: each crashed, its WAL rotted, restarted.
      let flipped = 0
      c.sim.schedule(2000, () => {
        c.killNode(f1)
        flipped += c.rotWal(f1, 3, at)
      })
      c.sim.schedule(3000, () => c.restartNode(f1))
      c.sim.schedule(4500, () => {
        c.killNode(f2)
        flipped += c.rotWal(f2, 3, at)
      })
      c.sim.schedule(5500, () => c.restartNode(f2))
      c.sim.schedule(7000, () => {
        c.killNode(leader)
        flipped += c.rotWal(leader, 3, at)
      })
      c.sim.schedule(8000, () => c.restartNode(leader))
      c.runFor(10_000)
      const res = finish(run)
      assert.ok(flipped >= 3, `seed ${seed}: ${flipped} bits flipped`)
      assert.ok(run.acked.size > 300, `seed ${seed}: only ${run.acked.size} writes acknowledged`)
      assert.deepEqual(res.lost, [], `seed ${seed}: acknowledged writes lost`)
      assert.equal(res.checksums, 1, `seed ${seed}: replicas differ`)
      const recs = [...c.nodes.values()].flatMap((n) => n.walRecoveries)
      assert.ok(
        recs.some((r) => r.corrupt),
        `seed ${seed}: no recovery found the damage: ${JSON.stringify(recs)}`,
      )
    }
  })

  it("a replica whose WAL fsync fails stops, is given up by its node and replaced; nothing acknowledged is lost", () => {
    for (const seed of [31, 32, 33]) {
      // Six nodes and healing on: the replica given up is replaced.
      const { c, pid, acked } = setup(seed, {}, { nodes: 6, heal: true, failureDetectMs: 1500 })
      const victim = followerOf(c, pid)
      c.sim.schedule(2000, () => c.failNextFsync(victim, 1))
      c.runFor(25_000)
      const node = c.node(victim)
      assert.equal(node.counters.walFsyncFailures, 1, `seed ${seed}`)
      assert.ok(
        c.meta.heals.some((h) => h.partitionId === pid && h.failedNode === victim),
        `seed ${seed}: no heal of ${victim}: ${JSON.stringify(c.meta.heals)}`,
      )
      healedWithEverything(c, pid, acked, `seed ${seed}`)
    }
  })

  it("a replica that found corruption holds its votes through a second crash before its repair", () => {
    // The first recovery rewrites the log clean, so the second finds no corruption: the hold
    // must come from what the first one recorded (the spec file, or the durable object).
    for (const stateFiles of [true, false]) {
      const run = setup(51, { stateFiles })
      const { c, pid } = run
      const f = followerOf(c, pid)
      let held: boolean[] = []
      c.sim.schedule(2000, () => {
        c.killNode(f)
        c.rotWal(f, 3, 100)
        c.restartNode(f)
        const first = c.node(f).replicas.get(pid)!.core.isRepairing()
        c.killNode(f)
        c.restartNode(f)
        held = [first, c.node(f).replicas.get(pid)!.core.isRepairing()]
      })
      c.runFor(10_000)
      assert.deepEqual(held, [true, true], `stateFiles ${stateFiles}`)
      const res = finish(run)
      assert.deepEqual(res.lost, [], `stateFiles ${stateFiles}: acknowledged writes lost`)
      assert.equal(res.checksums, 1, `stateFiles ${stateFiles}: replicas differ`)
    }
  })

  it("a damaged state file (snapshot, spec) is found at the restart: the replica is left out and healed; nothing acknowledged is lost", () => {
    // The state beside the WAL (`stateFiles.ts`) is read back at every restart; each file is
    // checksummed. One bit flipped in a follower's snapshot file, or in its spec file, while it is
    // down: the restart leaves that replica out, and the heal rebuilds it elsewhere.
    for (const [seed, suffix] of [
      [41, ".snap."],
      [42, ".json"],
    ] as const) {
      const { c, pid, acked } = setup(
        seed,
        {},
        { nodes: 6, heal: true, failureDetectMs: 1500, timing: { compactEntries: 100 } },
      )
      const victim = followerOf(c, pid)
      const disk = c.node(victim).options.disk!
      let damaged = ""
      c.sim.schedule(2000, () => {
        c.killNode(victim)
        damaged = disk.list(`state/${pid}`).find((f) => f.includes(suffix))!
        disk.corrupt(damaged, 20, 3)
      })
      c.sim.schedule(2500, () => c.restartNode(victim))
      c.runFor(25_000)
      assert.ok(damaged !== "", `seed ${seed}: no ${suffix} file`)
      assert.deepEqual(c.node(victim).unreadable, [pid], `seed ${seed}`)
      assert.equal(c.metrics().nodes[victim]!.unreadableReplicas, 1)
      healedWithEverything(c, pid, acked, `seed ${seed}`)
    }
  })

  it("the same check catches a node that acknowledges before its fsync (canary)", () => {
    const { run, res } = bothFollowersThenLeader(11, { canaryNoFsync: true })
    assert.ok(run.acked.size > 300)
    assert.ok(res.lost.length > 0, "the canary went unnoticed")
  })
})
