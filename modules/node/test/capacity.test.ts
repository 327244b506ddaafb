import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { writeCostMilli } from "@partita/admission"
import { itemSize } from "@partita/core"
import {
  CallbackClient,
  type ClusterConfig,
  type CreateTableInput,
  type SimCluster,
  simCluster,
} from "@partita/node"

/**
 * Capacity on the request path: on-demand tables go through GAC at twice their previous peak and
 * stop at the partition maximum (1,000 WCU); adaptive capacity lets a hot partition of a table
 * whose rate is split evenly borrow the table's unused throughput.
 */
const TABLE = "metered"
/** A payload that makes every item cost 8 WCU (8 KB, rounded up per KB): fewer simulated writes. */
const PAYLOAD = "x".repeat(7900)

interface Table {
  readonly c: SimCluster
  readonly client: CallbackClient
}

const table = (
  seed: number,
  config: ClusterConfig,
  partitions: number,
  provisioned?: { readonly rcu: number; readonly wcu: number },
  extra: Pick<CreateTableInput, "WarmThroughput" | "OnDemandThroughput"> = {},
): Table => {
  const c = simCluster(seed, { nodes: 6, routers: 2, ...config })
  const t = c.meta.createTable({
    TableName: TABLE,
    KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
    AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
    ...(provisioned === undefined
      ? { BillingMode: "PAY_PER_REQUEST" as const }
      : {
          ProvisionedThroughput: { ReadCapacityUnits: provisioned.rcu, WriteCapacityUnits: provisioned.wcu },
        }),
    Partitions: partitions,
    ...extra,
  })
  assert.equal(t._tag, "Right")
  c.runFor(3000)
  return { c, client: new CallbackClient(c.meta, c.routers) }
}

/** `n` keys that route to the table's partition `index`. */
const keysOf = (s: Table, index: number, n: number): string[] => {
  const map = s.c.meta.partitionMap(TABLE)!
  const want = map.partitions[index]!.id
  const out: string[] = []
  for (let i = 0; out.length < n && i < 100_000; i++)
    if (map.route({ S: `k${i}` }).id === want) out.push(`k${i}`)
  assert.equal(out.length, n)
  return out
}

interface Outcome {
  readonly at: number
  readonly ok: boolean
  readonly error?: string
  readonly wcu: number
}

/** Writes `perSecond` items over `keys` for `seconds`, from now; outcomes by send time (ms from now). */
const writeLoad = (
  s: Table,
  keys: ReadonlyArray<string>,
  perSecond: number,
  seconds: number,
  payload: string,
): Outcome[] => {
  const out: Outcome[] = []
  const t0 = s.c.sim.now
  for (let i = 0; i < perSecond * seconds; i++)
    s.c.sim.schedule((i * 1000) / perSecond, () => {
      const item = { id: { S: keys[i % keys.length]! }, p: { S: payload } }
      const wcu = writeCostMilli(itemSize(item)) / 1000
      const at = s.c.sim.now - t0
      s.client.putItem({ TableName: TABLE, Item: item }, (r) =>
        out.push(r.ok ? { at, ok: true, wcu } : { at, ok: false, error: r.error._tag, wcu }),
      )
    })
  return out
}

/** Admitted WCU per second and throttled requests in [fromMs, toMs) by send time. */
const window = (out: ReadonlyArray<Outcome>, fromMs: number, toMs: number) => {
  const w = out.filter((o) => o.at >= fromMs && o.at < toMs)
  const admitted = w.filter((o) => o.ok).reduce((a, o) => a + o.wcu, 0)
  return {
    wcuPerSec: (admitted * 1000) / (toMs - fromMs),
    throttled: w.filter((o) => o.error === "ProvisionedThroughputExceededException").length,
    other: w.filter((o) => !o.ok && o.error !== "ProvisionedThroughputExceededException").length,
    requests: w.length,
  }
}

/** The table has `n` partitions, each allocated `wcu`, and every storage replica's bucket runs at it. */
const evenShares = (s: Table, n: number, wcu: number): void => {
  const map = s.c.meta.partitionMap(TABLE)!
  assert.deepEqual(
    map.partitions.map((p) => p.allocation.wcu),
    Array.from({ length: n }, () => wcu),
  )
  for (const p of map.partitions)
    for (const { replica } of s.c.replicasOf(p.id))
      if (replica.spec.role === "storage") assert.equal(replica.allocationMilli("w"), wcu * 1000)
}

const sum = (xs: ReadonlyArray<number>): number => xs.reduce((a, b) => a + b, 0)

describe("on-demand tables", () => {
  it("stop at the partition maximum: 1,500 WCU/s on one partition is held to 1,000", () => {
    const s = table(41, {}, 4)
    assert.equal(writeCostMilli(itemSize({ id: { S: "k0000" }, p: { S: PAYLOAD } })), 8000)
    const hot = writeLoad(s, keysOf(s, 0, 200), 188, 12, PAYLOAD) // 1,504 WCU/s
    const cold = writeLoad(s, keysOf(s, 1, 50), 25, 12, PAYLOAD) // 200 WCU/s elsewhere
    s.c.runFor(15_000)
    const w = window(hot, 2000, 12_000)
    assert.ok(w.wcuPerSec > 900 && w.wcuPerSec <= 1100, `${w.wcuPerSec} WCU/s admitted on the hot partition`)
    assert.ok(w.throttled > 0 && w.other === 0)
    // Refused by the partition, not by the table (its allowance is 4,000 WCU/s).
    assert.equal(sum(s.c.routers.map((r) => r.counters.throttledTable)), 0)
    assert.ok(sum(s.c.routers.map((r) => r.counters.throttledPartition)) > 0)
    const c = window(cold, 0, 12_000)
    assert.equal(c.throttled + c.other, 0, "another partition was throttled")
  })

  it("admit up to twice the previous peak, then grow with the traffic", () => {
    const s = table(42, {}, 12)
    const keys = Array.from({ length: 3000 }, (_, i) => `key-${i}`)
    assert.deepEqual(s.c.meta.tableInfo(TABLE)!.provisioned, { rcu: 12_000, wcu: 4000 })
    // 3,000 WCU/s for 6 s: under a new table's 4,000; the peak becomes 3,000.
    const steady = writeLoad(s, keys, 375, 6, PAYLOAD)
    s.c.runFor(6000)
    const allowance = s.c.meta.tableInfo(TABLE)!.provisioned.wcu
    assert.ok(allowance >= 5500 && allowance <= 6500, `allowance ${allowance} after a 3,000 WCU/s peak`)
    // Then 9,000 WCU/s: more than twice the peak. The table admits ~6,000 at first (the rest is
    // ProvisionedThroughputExceededException at the routers), which is the new peak: 12,000.
    const jump = writeLoad(s, keys, 1125, 10, PAYLOAD)
    s.c.runFor(13_000)
    assert.equal(window(steady, 0, 6000).throttled, 0)
    const first = window(jump, 0, 1000)
    assert.ok(first.throttled > 0, "the jump above twice the peak was not throttled")
    assert.ok(first.wcuPerSec < 7500, `${first.wcuPerSec} WCU/s admitted in the first second`)
    const last = window(jump, 6000, 10_000)
    assert.equal(last.throttled + last.other, 0)
    assert.ok(last.wcuPerSec > 8900, `${last.wcuPerSec} WCU/s admitted at the end`)
    assert.ok(s.c.meta.tableInfo(TABLE)!.provisioned.wcu >= 12_000)
    assert.ok(sum(s.c.routers.map((r) => r.counters.throttledTable)) > 0)
  })

  it("start at their warm throughput, and stop at their maximum on-demand throughput", () => {
    const keys = Array.from({ length: 3000 }, (_, i) => `key-${i}`)
    // Warm at 8,000 WCU: 6,000 WCU/s from the first second, above a new table's 4,000.
    const warm = table(44, {}, 12, undefined, { WarmThroughput: { WriteUnitsPerSecond: 8000 } })
    assert.equal(warm.c.meta.tableInfo(TABLE)!.provisioned.wcu, 8000)
    const w = writeLoad(warm, keys, 750, 4, PAYLOAD)
    warm.c.runFor(7000)
    assert.equal(window(w, 0, 4000).throttled, 0)
    // At most 2,000 WCU: 3,000 WCU/s is held to it, whatever the peak.
    const capped = table(45, {}, 12, undefined, { OnDemandThroughput: { MaxWriteRequestUnits: 2000 } })
    assert.equal(capped.c.meta.tableInfo(TABLE)!.provisioned.wcu, 2000)
    const x = writeLoad(capped, keys, 375, 8, PAYLOAD)
    capped.c.runFor(11_000)
    const held = window(x, 3000, 8000)
    assert.ok(held.throttled > 0 && held.wcuPerSec > 1700 && held.wcuPerSec < 2300, `${held.wcuPerSec} WCU/s`)
    assert.equal(capped.c.meta.tableInfo(TABLE)!.provisioned.wcu, 2000)
  })
})

describe("UpdateTable with the rate split evenly over partitions", () => {
  it("gives every partition its new share at once, and the hot partition's writes go through", () => {
    // 400 WCU over 4 partitions (100 each), adaptive capacity off so only the share counts.
    const s = table(47, { partitionAllocation: "even", adaptiveCapacity: false }, 4, { rcu: 800, wcu: 400 })
    const hot = keysOf(s, 0, 100)
    const before = writeLoad(s, hot, 200, 10, "")
    s.c.runFor(10_500)
    const b = window(before, 4000, 10_000)
    assert.ok(
      b.throttled > 300 && b.wcuPerSec < 120,
      `before: ${b.wcuPerSec} WCU/s, ${b.throttled} throttled`,
    )
    const u = s.c.meta.updateThroughput(TABLE, 800, 2000)
    assert.equal(u._tag, "Right")
    evenShares(s, 4, 500)
    const after = writeLoad(s, hot, 200, 10, "")
    s.c.runFor(10_500)
    const a = window(after, 2000, 10_000)
    assert.equal(a.throttled + a.other, 0)
    assert.ok(a.wcuPerSec > 190, `after: ${a.wcuPerSec} WCU/s`)
  })
})

describe("UpdateTable past what the partitions can carry", () => {
  it("splits the partitions live until each share fits, and the new rate is served", () => {
    // 1,000 WCU over 2 partitions; then 3,500: 1,750 per partition is over the 1,000 maximum, so
    // the table doubles to 4 partitions at 875.
    const s = table(48, { partitionAllocation: "even", adaptiveCapacity: false }, 2, { rcu: 800, wcu: 1000 })
    const keys = Array.from({ length: 400 }, (_, i) => `key-${i}`)
    const over = s.c.meta.updateThroughput(TABLE, 800, 50_000)
    assert.equal(over._tag === "Left" && over.left._tag, "LimitExceededException")
    assert.equal(s.c.meta.partitionMap(TABLE)!.partitions.length, 2)
    const updatedAt = s.c.sim.now
    const u = s.c.meta.updateThroughput(TABLE, 800, 3500)
    assert.equal(u._tag === "Right" && u.right.TableStatus, "UPDATING")
    // No other change while UPDATING, as in DynamoDB.
    const busy = s.c.meta.updateThroughput(TABLE, 800, 1000)
    assert.equal(busy._tag === "Left" && busy.left._tag, "ResourceInUseException")
    // 3,000 WCU/s over all keys from now on: more than 2 partitions can take.
    const load = writeLoad(s, keys, 375, 14, PAYLOAD)
    s.c.runFor(14_500)
    const splits = s.c.meta.events.filter((e) => e.type === "split")
    assert.equal(splits.length, 2)
    for (const e of splits) {
      assert.equal(e.type === "split" && e.reason, "throughput")
      assert.ok(e.at > updatedAt)
    }
    const d = s.c.meta.describeTable(TABLE)
    assert.equal(d._tag === "Right" && d.right.TableStatus, "ACTIVE")
    assert.equal(d._tag === "Right" && d.right.PartitionCount, 4)
    evenShares(s, 4, 875)
    const last = window(load, 8000, 14_000)
    assert.equal(last.throttled + last.other, 0, JSON.stringify(last))
    assert.ok(last.wcuPerSec > 2900, `${last.wcuPerSec} WCU/s after the splits`)
  })
})

describe("burst credit", () => {
  it("is spent on writes only while the other members' nodes have spare write capacity", () => {
    // 800 WCU over 4 partitions: 200 each. 320 WCU/s on one partition needs 120 WCU/s of burst.
    const s = table(
      49,
      {
        partitionAllocation: "even",
        adaptiveCapacity: false,
        nodeCapacity: { rcu: 100_000, wcu: 1000, bytes: 1e12 },
      },
      4,
      { rcu: 800, wcu: 800 },
    )
    const pid = s.c.meta.partitionMap(TABLE)!.partitions[0]!.id
    const hot = keysOf(s, 0, 100)
    s.c.runFor(10_000) // burst credit accrues: ~13 s at 200 WCU/s
    const leaderNode = s.c.leaderOf(pid)!
    const leader = s.c.replicasOf(pid).find((x) => x.node === leaderNode)!.replica
    const follower = s.c
      .replicasOf(pid)
      .find((x) => x.node !== leaderNode && x.replica.spec.role === "storage")!
    // Followers with room: the burst goes through.
    const free = writeLoad(s, hot, 40, 5, PAYLOAD)
    s.c.runFor(5500)
    const a = window(free, 0, 5000)
    assert.equal(a.throttled + a.other, 0, JSON.stringify(a))
    assert.ok(a.wcuPerSec > 300, `${a.wcuPerSec} WCU/s with spare capacity on the followers`)
    assert.equal(leader.counters.burstRefused, 0)
    // A follower's node kept busy (its node bucket drained every 2 ms): only the partition's own
    // rate is admitted, though burst credit is left.
    const busy = s.c.nodes.get(follower.node)!
    let draining = true
    const drain = (): void => {
      if (!draining) return
      const now = s.c.sim.now
      busy.takeNode("w", busy.spareWriteMilli(now), now)
      s.c.sim.schedule(2, drain)
    }
    drain()
    const held = writeLoad(s, hot, 40, 6, PAYLOAD)
    s.c.runFor(6500)
    draining = false
    const b = window(held, 1000, 6000)
    assert.ok(b.throttled > 0 && b.other === 0, JSON.stringify(b))
    assert.ok(b.wcuPerSec > 150 && b.wcuPerSec < 250, `${b.wcuPerSec} WCU/s with a follower's node busy`)
    assert.ok(leader.counters.burstRefused > 0)
    // Room again on the follower's node: bursting resumes.
    s.c.runFor(1000)
    const again = writeLoad(s, hot, 40, 4, PAYLOAD)
    s.c.runFor(4500)
    const c = window(again, 500, 4000)
    assert.equal(c.throttled + c.other, 0, JSON.stringify(c))
  })
})

describe("adaptive capacity", () => {
  // 400 WCU split evenly over 4 partitions (100 each); 250 WCU/s on one of them: the table is
  // under its rate, the partition is not.
  const skewed = (adaptive: boolean) => {
    const s = table(
      43,
      { partitionAllocation: "even", ...(adaptive ? {} : { adaptiveCapacity: false as const }) },
      4,
      { rcu: 800, wcu: 400 },
    )
    const out = writeLoad(s, keysOf(s, 0, 100), 250, 30, "")
    s.c.runFor(33_000)
    return { s, out }
  }

  it("without it, a hot partition under the table's rate stays throttled", () => {
    const { out } = skewed(false)
    const w = window(out, 20_000, 30_000)
    assert.ok(w.throttled > 1000, `only ${w.throttled} of ${w.requests} throttled`)
    assert.ok(w.wcuPerSec < 120, `${w.wcuPerSec} WCU/s admitted`)
  })

  it("a boost that does not fit on the leader's node moves the leadership to a member's node with room", () => {
    // Nodes of 300 WCU; the hot partition's leader also leads another partition (100 WCU each),
    // so its node has room for 200 of the 250 the hot partition wants.
    let s: Table | undefined
    let hotIndex = -1
    for (let seed = 60; seed < 90 && s === undefined; seed++) {
      const t = table(
        seed,
        { partitionAllocation: "even", nodeCapacity: { rcu: 100_000, wcu: 300, bytes: 1e12 } },
        4,
        { rcu: 800, wcu: 400 },
      )
      const parts = t.c.meta.partitionMap(TABLE)!.partitions
      const leaders = parts.map((p) => t.c.leaderOf(p.id))
      const i = leaders.findIndex((l, j) => l !== undefined && leaders.some((m, k) => k !== j && m === l))
      if (i >= 0) {
        s = t
        hotIndex = i
      }
    }
    assert.ok(s !== undefined, "no seed put two leaders on one node")
    const pid = s.c.meta.partitionMap(TABLE)!.partitions[hotIndex]!.id
    const before = s.c.leaderOf(pid)
    const out = writeLoad(s, keysOf(s, hotIndex, 100), 250, 30, "")
    s.c.runFor(33_000)
    const moves = s.c.meta.events.filter((e) => e.type === "adaptive-move" && e.partition === pid)
    assert.ok(moves.length > 0, "no move")
    const m = moves[0]!
    assert.ok(m.type === "adaptive-move" && m.from === before && m.to !== before)
    assert.equal(s.c.leaderOf(pid), m.type === "adaptive-move" ? m.to : "")
    // Throttled before the move; after it (and the boost it allowed) served in full, until the
    // burst credit that covers the last 30 WCU/s runs out (the controller then raises the boost
    // again, as it does on any node).
    const at = m.type === "adaptive-move" ? m.at : 0
    const early = window(out, 2000, at)
    assert.ok(early.throttled > 100, `${early.throttled} throttled before the move`)
    const w = window(out, at, at + 16_000)
    assert.equal(w.throttled + w.other, 0, `${w.throttled} throttled after the move`)
    assert.ok(w.wcuPerSec > 245, `${w.wcuPerSec} WCU/s admitted`)
  })

  it("with it, the hot partition borrows the table's unused throughput and is no longer throttled", () => {
    const { s, out } = skewed(true)
    const w = window(out, 20_000, 30_000)
    assert.equal(w.throttled + w.other, 0)
    assert.ok(w.wcuPerSec > 245, `${w.wcuPerSec} WCU/s admitted`)
    const boosts = s.c.meta.events.filter((e) => e.type === "adaptive-capacity")
    assert.ok(boosts.length > 0)
    const last = boosts[boosts.length - 1]!
    assert.ok(
      last.type === "adaptive-capacity" && last.toMilliPerSec >= 250_000 && last.baseMilliPerSec === 100_000,
    )
    // Nothing throttled at the table: it stayed under its provisioned 400 WCU.
    assert.equal(sum(s.c.routers.map((r) => r.counters.throttledTable)), 0)
  })
})
