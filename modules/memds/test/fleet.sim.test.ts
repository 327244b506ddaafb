import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { makeEndpoint, runSim, Sim, SimNetwork } from "@partita/sim"
import { Effect, Layer } from "effect"
import {
  type FleetMsg,
  hashFromBigInt,
  MemDS,
  type MemDSLink,
  MemDSNode,
  RoutingCache,
  RoutingCacheCore,
  routingKey,
  serveMemDSNode,
  type UpdateOp,
} from "../src/index.ts"

const SEEDS = Number(process.env["PARTITA_SEEDS"] ?? 12)
const NODES = ["m0", "m1", "m2", "m3", "m4"]
const AZ = (i: number) => `az${(i % 3) + 1}`
const TICK_MS = 50

const key = (i: number) => routingKey("orders", hashFromBigInt(BigInt(i) << 122n))

/** A MemDS fleet wired onto a SimNetwork, with periodic ticks scheduled in virtual time. */
const fleetOnSim = (sim: Sim, logEntriesMax: number, faults: { loss: number; dup: number }) => {
  const net = new SimNetwork<FleetMsg>(sim, {
    lossProbability: faults.loss,
    duplicateProbability: faults.dup,
    hashMessage: (m) => m.type,
  })
  const nodes = new Map<string, MemDSNode>()
  NODES.forEach((id, i) => {
    const node = new MemDSNode({
      id,
      peers: NODES,
      sequencer: id === "m0",
      logEntriesMax,
      catchUpBatchMax: 8,
    })
    nodes.set(id, node)
    net.addNode(id, AZ(i), (msg, from) => {
      for (const o of node.step(sim.now, from, msg)) net.send(id, o.to, o.msg)
    })
    const tick = () => {
      if (net.isUp(id)) for (const o of node.tick(sim.now)) net.send(id, o.to, o.msg)
      sim.schedule(TICK_MS, tick, `tick:${id}`)
    }
    sim.schedule(TICK_MS + i, tick, `tick:${id}`)
  })
  net.addNode("src", "az1")
  return { net, nodes }
}

const randomOps = (sim: Sim, epochs: Map<number, number>): UpdateOp[] =>
  Array.from({ length: 1 + sim.prng.int(3) }, () => {
    const p = sim.prng.int(64)
    if (sim.prng.bool(0.05) && p > 0) return { kind: "delete" as const, key: key(p) }
    const epoch = (epochs.get(p) ?? 0) + 1
    epochs.set(p, epoch)
    return {
      kind: "put" as const,
      key: key(p),
      entry: {
        partitionId: `p${p}`,
        epoch,
        replicas: [0, 1, 2].map((k) => ({ nodeId: `sn-${(p + epoch + k) % 13}`, az: AZ(k) })),
        leaderHint: `sn-${(p + epoch) % 13}`,
      },
    }
  })

describe("MemDS fleet on @partita/sim's network", () => {
  it("converges to the sequencer's root through loss, duplication, partitions and crashes; routers never go back", () => {
    let repairs = 0
    for (let seed = 1; seed <= SEEDS; seed++) {
      const sim = new Sim(seed)
      const { net, nodes } = fleetOnSim(sim, seed % 2 === 0 ? 4 : 64, { loss: 0.05, dup: 0.02 })
      const epochs = new Map<number, number>()
      const rootAt = new Map<number, string>([[0, nodes.get("m0")!.root]])
      const router = new RoutingCacheCore({ mode: "constant-work", memdsNodes: NODES, lookupTimeoutMs: 100 })
      let answered = 0
      net.addNode("router", "az2", (msg) => {
        const before = router.metrics().highestVersionSeen
        for (const o of router.reply(sim.now, msg)) {
          if (o.type === "send") net.send("router", o.to, o.msg)
          if (o.type === "answer") {
            answered++
            if (!o.fromCache && msg.type === "lookup-reply") assert.ok(msg.version >= before, `seed ${seed}`)
          }
        }
        assert.ok(router.metrics().highestVersionSeen >= before)
      })
      // wrap node handlers: every answer is read at exactly the version it names
      for (const [id, node] of nodes) {
        net.setHandler(id, (msg, from) => {
          for (const o of node.step(sim.now, from, msg)) {
            if (o.msg.type === "lookup-reply")
              assert.equal(node.root, rootAt.get(o.msg.version), `seed ${seed}: ${id} v${o.msg.version}`)
            net.send(id, o.to, o.msg)
          }
          if (id === "m0") rootAt.set(node.version, node.root)
        })
      }
      // every partition exists from the start (deletes and re-puts come later)
      const seed0 = nodes.get("m0")!
      const initial: UpdateOp[] = Array.from({ length: 64 }, (_, p) => ({
        kind: "put",
        key: key(p),
        entry: { partitionId: `p${p}`, epoch: 0, replicas: [], leaderHint: null },
      }))
      for (const o of seed0.publish(initial)) net.send("m0", o.to, o.msg)
      rootAt.set(seed0.version, seed0.root)
      let req = 0
      const load = () => {
        if (sim.now >= 3000) return
        if (sim.prng.bool(0.5)) net.send("src", "m0", { type: "source", ops: randomOps(sim, epochs) })
        const k = routingKey("orders", hashFromBigInt(BigInt(sim.prng.int(1 << 20)) << 108n))
        for (const o of router.request(sim.now, req++, "orders", k)) {
          if (o.type === "send") net.send("router", o.to, o.msg)
          if (o.type === "answer") answered++
        }
        if (req % 20 === 0)
          for (const o of router.tick(sim.now)) if (o.type === "send") net.send("router", o.to, o.msg)
        const victim = NODES[1 + sim.prng.int(4)]!
        if (sim.prng.bool(0.005)) {
          // crash: memory lost, down for a while, back empty
          net.setUp(victim, false)
          nodes.get(victim)!.restart()
          sim.schedule(200 + sim.prng.int(300), () => net.setUp(victim, true))
        }
        if (sim.prng.bool(0.005)) {
          const p = net.isolateNode(victim)
          sim.schedule(100 + sim.prng.int(400), () => net.heal(p))
        }
        sim.schedule(5, load)
      }
      sim.schedule(0, load)
      sim.scheduler.runUntil(3000)
      net.heal()
      for (const id of NODES) net.setUp(id, true)
      sim.scheduler.runUntil(8000)
      const seq = nodes.get("m0")!
      assert.ok(seq.version > 100, `seed ${seed}: ${seq.version} versions`)
      for (const n of nodes.values()) {
        assert.equal(n.version, seq.version, `seed ${seed}: ${n.id}`)
        assert.equal(n.root, seq.root, `seed ${seed}: ${n.id}`)
        repairs += n.stats.snapshotCatchUps + n.stats.syncCatchUps
      }
      // nearly every request is routed despite the faults (a few misses time out on every retry)
      assert.ok(
        answered >= 0.95 * req,
        `seed ${seed}: ${answered}/${req} ${JSON.stringify(router.metrics())}`,
      )
    }
    assert.ok(repairs > 0)
  })

  it("the Effect RoutingCache over MemDS.overLink on the sim network: one lookup per request through a flush", () => {
    const sim = new Sim(42)
    const { net, nodes } = fleetOnSim(sim, 64, { loss: 0, dup: 0 })
    const ops: UpdateOp[] = Array.from({ length: 64 }, (_, p) => ({
      kind: "put",
      key: key(p),
      entry: {
        partitionId: `p${p}`,
        epoch: 1,
        replicas: [{ nodeId: "sn-1", az: "az1" }],
        leaderHint: "sn-1",
      },
    }))
    for (const o of nodes.get("m0")!.publish(ops)) net.send("m0", o.to, o.msg)
    net.addNode("router", "az2")
    const link: MemDSLink = {
      nodes: NODES,
      send: (to, msg) => {
        net.send("router", to, msg)
      },
      listen: (f) => net.setHandler("router", (msg) => f(msg)),
    }
    const program = Effect.gen(function* () {
      yield* Effect.sleep("100 millis") // let the update reach every node
      const cache = yield* RoutingCache
      const pids: string[] = []
      for (let i = 0; i < 400; i++) {
        if (i === 200) yield* cache.flush
        const r = yield* cache.route("orders", routingKey("orders", hashFromBigInt(BigInt(i % 64) << 122n)))
        pids.push(r.entry.partitionId)
        yield* Effect.sleep("1 millis")
      }
      return { pids, m: yield* cache.metrics, now: sim.now }
    }).pipe(
      Effect.provide(
        RoutingCache.layer({ mode: "constant-work" }).pipe(Layer.provide(MemDS.overLink(link, 200))),
      ),
    )
    const { pids, m, now } = runSim(sim, Effect.scoped(program))
    assert.equal(pids[5], "p5")
    assert.equal(pids[399], `p${399 % 64}`)
    assert.equal(m.requests, 400)
    assert.equal(m.memdsLookups, 400)
    assert.ok(m.hitRate > 0.6, `hit rate ${m.hitRate}`)
    assert.ok(now >= 500, `virtual time ${now}`)
  })

  it("serveMemDSNode runs each node as an Effect fiber on a sim endpoint; the fleet converges and serves routers", () => {
    const sim = new Sim(7)
    const net = new SimNetwork<FleetMsg>(sim, { lossProbability: 0.05, hashMessage: (m) => m.type })
    const nodes = NODES.map(
      (id) => new MemDSNode({ id, peers: NODES, sequencer: id === "m0", logEntriesMax: 8 }),
    )
    NODES.forEach((id, i) => {
      net.addNode(id, AZ(i))
    })
    net.addNode("src", "az1")
    net.addNode("router", "az2")
    const link: MemDSLink = {
      nodes: NODES,
      send: (to, msg) => {
        net.send("router", to, msg)
      },
      listen: (f) => net.setHandler("router", (msg) => f(msg)),
    }
    const epochs = new Map<number, number>()
    const program = Effect.gen(function* () {
      for (const n of nodes) {
        const ep = yield* makeEndpoint(net, n.id)
        yield* Effect.forkScoped(serveMemDSNode(n, ep))
      }
      for (let i = 0; i < 64; i++) {
        net.send("src", "m0", { type: "source", ops: randomOps(sim, epochs) })
        if (i === 20) nodes[3]!.restart() // loses everything; catches up by snapshot
        yield* Effect.sleep("10 millis")
      }
      yield* Effect.sleep("2 seconds")
      const cache = yield* RoutingCache
      let routed = 0
      for (let i = 0; i < 50; i++) {
        const r = yield* cache.route("orders", key(i % 64)).pipe(Effect.either)
        if (r._tag === "Right") routed++
      }
      return { m: yield* cache.metrics, routed }
    }).pipe(
      Effect.provide(
        RoutingCache.layer({ mode: "constant-work", lookupTimeoutMs: 100 }).pipe(
          Layer.provide(MemDS.overLink(link, 100)),
        ),
      ),
      Effect.scoped,
    )
    const { m, routed } = runSim(sim, program)
    const seq = nodes[0]!
    assert.ok(seq.version > 30)
    for (const n of nodes) {
      assert.equal(n.version, seq.version, n.id)
      assert.equal(n.root, seq.root, n.id)
    }
    assert.ok(
      nodes[3]!.stats.snapshotCatchUps + nodes[3]!.stats.syncCatchUps > 0,
      "the restarted node caught up",
    )
    assert.equal(m.requests, 50)
    assert.ok(m.memdsLookups >= 50)
    // keys of deleted partitions fall into a neighbour's range; only keys below the first boundary fail
    assert.ok(routed >= 45, `routed ${routed}`)
  })
})
