import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { Delay, Sim, SimNetwork } from "../src/index.ts"

type Got = Array<[string, string, number]>

/** 6 nodes in 3 AZs; every node records (from, to, msg) it receives. */
const cluster = (seed = 1, opts: ConstructorParameters<typeof SimNetwork<number>>[1] = {}) => {
  const sim = new Sim(seed)
  const net = new SimNetwork<number>(sim, opts)
  const got: Got = []
  const ids = ["a1", "a2", "b1", "b2", "c1", "c2"]
  for (const id of ids) net.addNode(id, `az-${id[0]}`, (m, from) => got.push([from, id, m]))
  return { sim, net, got, ids }
}

/** Send one message over every ordered pair, run to idle, return the set of pairs that arrived. */
const probe = (c: ReturnType<typeof cluster>): Set<string> => {
  c.got.length = 0
  for (const f of c.ids) for (const t of c.ids) if (f !== t) c.net.send(f, t, 1)
  c.sim.scheduler.runUntilIdle()
  return new Set(c.got.map(([f, t]) => `${f}>${t}`))
}

const allPairs = (ids: string[], blocked: (f: string, t: string) => boolean): Set<string> => {
  const s = new Set<string>()
  for (const f of ids) for (const t of ids) if (f !== t && !blocked(f, t)) s.add(`${f}>${t}`)
  return s
}

describe("SimNetwork", () => {
  it("delivers every message after a positive delay when there are no faults", () => {
    const c = cluster()
    assert.deepEqual(
      probe(c),
      allPairs(c.ids, () => false),
    )
    assert.equal(c.net.stats.delivered, 30)
    assert.ok(c.sim.now > 0)
  })

  it("isolating a node stops exactly its traffic, both ways; heal restores it", () => {
    const c = cluster()
    const p = c.net.isolateNode("b1")
    assert.deepEqual(
      probe(c),
      allPairs(c.ids, (f, t) => f === "b1" || t === "b1"),
    )
    assert.equal(c.net.stats.droppedPartition, 10)
    c.net.heal(p)
    assert.deepEqual(
      probe(c),
      allPairs(c.ids, () => false),
    )
  })

  it("isolating an AZ cuts cross-AZ traffic only", () => {
    const c = cluster()
    c.net.isolateAz("az-c")
    const inC = (n: string) => n.startsWith("c")
    assert.deepEqual(
      probe(c),
      allPairs(c.ids, (f, t) => inC(f) !== inC(t)),
    )
    c.net.heal()
    assert.equal(probe(c).size, 30)
  })

  it("set-vs-set and one-way partitions block exactly the named directions", () => {
    const c = cluster()
    const A = ["a1", "b1"]
    const B = ["c1", "c2"]
    c.net.partition(A, B)
    assert.deepEqual(
      probe(c),
      allPairs(c.ids, (f, t) => (A.includes(f) && B.includes(t)) || (B.includes(f) && A.includes(t))),
    )
    c.net.heal()
    c.net.partition(["a1"], ["a2"], { oneWay: true })
    assert.deepEqual(
      probe(c),
      allPairs(c.ids, (f, t) => f === "a1" && t === "a2"),
    )
  })

  it("a partition drops messages already in flight", () => {
    const c = cluster(1, { intraAzDelay: Delay.constant(10), crossAzDelay: Delay.constant(10) })
    c.net.send("a1", "c1", 1)
    c.sim.scheduler.runUntil(5)
    c.net.isolateNode("c1")
    c.sim.scheduler.runUntilIdle()
    assert.equal(c.got.length, 0)
    assert.equal(c.net.stats.droppedPartition, 1)
  })

  it("down nodes neither send nor receive", () => {
    const c = cluster()
    c.net.setUp("a2", false)
    assert.deepEqual(
      probe(c),
      allPairs(c.ids, (f, t) => f === "a2" || t === "a2"),
    )
    c.net.setUp("a2", true)
    assert.equal(probe(c).size, 30)
  })

  it("loses and duplicates at the configured rates", () => {
    const c = cluster(2, { lossProbability: 0.1, duplicateProbability: 0.05 })
    for (let i = 0; i < 10_000; i++) c.net.send("a1", "b1", i)
    c.sim.scheduler.runUntilIdle()
    const { droppedLoss, duplicated, delivered } = c.net.stats
    assert.ok(droppedLoss > 850 && droppedLoss < 1150, `${droppedLoss}`)
    assert.ok(duplicated > 350 && duplicated < 550, `${duplicated}`)
    assert.equal(delivered, 10_000 - droppedLoss + duplicated)
  })

  it("reorders with jittery delays, and keeps order on FIFO links", () => {
    const c = cluster(3)
    for (let i = 0; i < 200; i++) c.net.send("a1", "c1", i)
    c.sim.scheduler.runUntilIdle()
    const order = c.got.map(([, , m]) => m)
    assert.notDeepEqual(
      order,
      [...order].sort((x, y) => x - y),
    )
    const f = cluster(3, { fifo: true })
    for (let i = 0; i < 200; i++) f.net.send("a1", "c1", i)
    f.sim.scheduler.runUntilIdle()
    const fo = f.got.map(([, , m]) => m)
    assert.deepEqual(
      fo,
      [...fo].sort((x, y) => x - y),
    )
  })

  it("cross-AZ links are slower than intra-AZ ones by default, and per-link overrides apply", () => {
    const c = cluster(4)
    const arrival = new Map<string, number>()
    for (const id of c.ids) c.net.setHandler(id, (_m, from) => arrival.set(`${from}>${id}`, c.sim.now))
    let intra = 0
    let cross = 0
    for (let i = 0; i < 300; i++) {
      const t0 = c.sim.now
      c.net.send("a1", "a2", i)
      c.net.send("a1", "c1", i)
      c.sim.scheduler.runUntilIdle()
      intra += arrival.get("a1>a2")! - t0
      cross += arrival.get("a1>c1")! - t0
    }
    assert.ok(cross > 2 * intra, `cross ${cross} intra ${intra}`)
    c.net.setLink("a1", "a2", { delay: Delay.constant(50) })
    const t0 = c.sim.now
    c.net.send("a1", "a2", 0)
    c.sim.scheduler.runUntilIdle()
    assert.equal(arrival.get("a1>a2")! - t0, 50)
  })
})
