import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { CallbackClient, type SimCluster, simCluster } from "@partita/node"
import { onDemandTable } from "./support.ts"

/**
 * Regression cases found by the harness's cluster availability suite (`bench availability`):
 * one partition, writes at a steady rate through the routers, faults at fixed times. Each
 * returns the share of writes that succeeded in a window (by the time they were sent).
 */
const TABLE = "avail"

const cluster = (seed: number, heal: boolean): { c: SimCluster; pid: string } => {
  const c = simCluster(seed, { nodes: 9, routers: 3, failureDetectMs: 2000, heal, deadlineMs: 1000 })
  return { c, pid: onDemandTable(c, TABLE, 1) }
}

/** Schedules `perSec` writes a second for `ms` from now; returns the outcomes by send time. */
const writeLoad = (c: SimCluster, client: CallbackClient, perSec: number, ms: number) => {
  const t0 = c.sim.now
  const outcomes: Array<{ at: number; ok: boolean }> = []
  const n = (ms * perSec) / 1000
  for (let i = 0; i < n; i++)
    c.sim.schedule((i * 1000) / perSec, () => {
      const at = c.sim.now - t0
      client.putItem({ TableName: TABLE, Item: { id: { S: `k${i % 500}` }, n: { N: String(i) } } }, (r) =>
        outcomes.push({ at, ok: r.ok }),
      )
    })
  return (fromMs: number, toMs: number): number => {
    const w = outcomes.filter((o) => o.at >= fromMs && o.at < toMs)
    assert.ok(w.length > 0, "no writes in the window")
    return w.filter((o) => o.ok).length / w.length
  }
}

describe("availability of the composed cluster", () => {
  it("writes recover once a lost quorum is back, after routers timed out on a dead replica (no healing)", () => {
    // One follower dies for good, the other is cut off for 8 s under 500 writes/s: the routers'
    // attempts time out and move their leader guess around; once the second follower is back and
    // a leader is elected and published, they must follow it (a guess stuck on the dead replica
    // used to fail every write from then on).
    const { c, pid } = cluster(42, false)
    const share = writeLoad(c, new CallbackClient(c.meta, c.routers), 500, 24_000)
    let cut = -1
    c.sim.schedule(2000, () => {
      const leader = c.leaderOf(pid)
      const followers = c.replicasOf(pid).filter((x) => x.node !== leader)
      c.killNode(followers[0]!.node)
      cut = c.isolate(followers[1]!.node)
    })
    c.sim.schedule(10_000, () => c.heal(cut))
    c.runFor(27_000)
    assert.ok(share(0, 2000) > 0.99)
    assert.ok(share(4000, 9000) < 0.01, "writes succeeded without a quorum")
    const after = share(16_000, 24_000)
    assert.ok(
      after > 0.99,
      `only ${(after * 100).toFixed(1)} % of writes succeeded after the quorum was back`,
    )
  })

  it("an AZ cut off with the leader: routers in the other AZs are served, the heal stays out of the cut AZ", () => {
    // The metadata service sees all three nodes of the cut-off AZ go silent in the same probe
    // round. Covering the leader's replica with a log replica on another node of that same AZ
    // (not yet declared failed when the first was covered) grew the majority side's group to four
    // with two members unreachable: no quorum until the partition healed.
    const { c, pid } = cluster(42, true)
    const outside = c.routers.filter((r) => r.az !== c.nodes.get(c.leaderOf(pid)!)!.az)
    assert.equal(outside.length, 2)
    const share = writeLoad(c, new CallbackClient(c.meta, outside), 300, 16_000)
    let cutAz = ""
    let cut = -1
    c.sim.schedule(2000, () => {
      cutAz = c.nodes.get(c.leaderOf(pid)!)!.az
      cut = c.partitionAz(cutAz)
    })
    c.sim.schedule(12_000, () => c.heal(cut))
    c.runFor(19_000)
    const mid = share(6000, 12_000)
    assert.ok(mid > 0.99, `only ${(mid * 100).toFixed(1)} % of writes from outside the cut-off AZ succeeded`)
    assert.ok(share(13_000, 16_000) > 0.99)
    const heal = c.meta.heals.find((h) => h.partitionId === pid)
    assert.ok(heal !== undefined, "the cut-off leader's replica was not covered")
    assert.notEqual(c.nodes.get(heal.logNode)!.az, cutAz, "log replica placed in the cut-off AZ")
  })
})
