import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { Either } from "effect"
import {
  decodeUpdates,
  encodeUpdates,
  type FleetMsg,
  hashFromBigInt,
  MemDSNode,
  type RoutingEntry,
  RoutingCacheCore,
  routingKey,
  type UpdateOp,
} from "../src/index.ts"
import { Net, Prng } from "./driver.ts"

const SEEDS = Number(process.env["PARTITA_SEEDS"] ?? 12)
const NODES = ["m0", "m1", "m2", "m3", "m4"]

const randomOp = (prng: Prng, epochs: Map<string, number>): UpdateOp => {
  const t = ["orders", "users"][prng.int(2)]!
  const hash = hashFromBigInt(BigInt(prng.int(64)) << 122n)
  const key = routingKey(t, hash)
  const id = `${t}/${prng.int(64)}`
  if (prng.chance(0.1)) return { kind: "delete", key }
  const epoch = (epochs.get(id) ?? 0) + 1
  epochs.set(id, epoch)
  const n = (k: number) => `sn-${(k * 7) % 11}`
  const entry: RoutingEntry = {
    partitionId: `p-${prng.int(1000)}`,
    epoch: prng.int(5),
    replicas: [0, 1, 2].map((i) => ({ nodeId: n(epoch + i), az: `az${i}` })),
    leaderHint: prng.chance(0.8) ? n(epoch) : null,
  }
  return { kind: "put", key, entry }
}

interface World {
  net: Net<FleetMsg>
  nodes: Map<string, MemDSNode>
}

const makeWorld = (seed: number, logEntriesMax: number): World => {
  const prng = new Prng(seed)
  const net = new Net<FleetMsg>(prng, { delayMsMin: 1, delayMsMax: 30, dropRate: 0.1, dupRate: 0.05 })
  const nodes = new Map<string, MemDSNode>()
  for (const id of NODES)
    nodes.set(
      id,
      new MemDSNode({ id, peers: NODES, sequencer: id === "m0", logEntriesMax, catchUpBatchMax: 8 }),
    )
  return { net, nodes }
}

describe("MemDS fleet under simulation", () => {
  it("nodes that miss updates, are cut off or restart converge to the sequencer's root", () => {
    let snapshots = 0
    let syncs = 0
    for (let seed = 1; seed <= SEEDS; seed++) {
      // a short log forces snapshot catch-ups for nodes that fall far behind
      const { net, nodes } = makeWorld(seed, seed % 2 === 0 ? 4 : 64)
      const prng = net.prng
      const epochs = new Map<string, number>()
      const deliver = (from: string, to: string, msg: FleetMsg) => {
        for (const o of nodes.get(to)!.step(net.now, from, msg)) net.send(to, o.to, o.msg)
      }
      for (let t = 0; t < 3000; t += 10) {
        if (prng.chance(0.5)) {
          const ops = Array.from({ length: 1 + prng.int(3) }, () => randomOp(prng, epochs))
          net.send("source", "m0", { type: "source", ops })
        }
        if (prng.chance(0.01)) nodes.get(NODES[1 + prng.int(4)]!)!.restart()
        if (prng.chance(0.01)) net.isolated.add(NODES[1 + prng.int(4)]!)
        if (prng.chance(0.02)) net.isolated.clear()
        if (t % 50 === 0)
          for (const n of nodes.values()) for (const o of n.tick(net.now)) net.send(n.id, o.to, o.msg)
        net.runUntil(t + 10, deliver)
      }
      // heal, stop updates, let anti-entropy finish
      net.isolated.clear()
      net.faults = { ...net.faults, dropRate: 0, dupRate: 0 }
      for (let t = 3000; t < 6000; t += 10) {
        if (t % 50 === 0)
          for (const n of nodes.values()) for (const o of n.tick(net.now)) net.send(n.id, o.to, o.msg)
        net.runUntil(t + 10, deliver)
      }
      const seq = nodes.get("m0")!
      assert.ok(seq.version > 50, `seed ${seed}: sequencer published ${seq.version}`)
      for (const n of nodes.values()) {
        assert.equal(n.version, seq.version, `seed ${seed}: ${n.id} version`)
        assert.equal(n.root, seq.root, `seed ${seed}: ${n.id} root`)
        assert.equal(n.store.diff(seq.store).keys.length, 0)
        snapshots += n.stats.snapshotCatchUps
        syncs += n.stats.syncCatchUps
      }
      if (seed % 2 === 0)
        assert.ok(snapshots + syncs > 0, `seed ${seed}: short logs should force full catch-ups`)
    }
    // both full catch-up paths ran: snapshots for restarted (empty) nodes, Merkle repair for lagging ones
    assert.ok(snapshots > 0 && syncs > 0, `snapshots ${snapshots}, Merkle repairs ${syncs}`)
  })

  it("a router never accepts an answer older than a version it has seen, even from lagging nodes", () => {
    let lagEvents = 0
    let versionChecks = 0
    let repairs = 0
    for (let seed = 1; seed <= SEEDS; seed++) {
      const { net, nodes } = makeWorld(1000 + seed, seed % 2 === 0 ? 4 : 64)
      const prng = net.prng
      const epochs = new Map<string, number>()
      const router = new RoutingCacheCore({ mode: "constant-work", memdsNodes: NODES, lookupTimeoutMs: 200 })
      let answers = 0
      let checked = 0
      const deliver = (from: string, to: string, msg: FleetMsg) => {
        if (to === "router") {
          const before = router.metrics().highestVersionSeen
          const outs = router.reply(net.now, msg)
          for (const o of outs) {
            if (o.type === "send") net.send("router", o.to, o.msg)
            if (o.type === "answer" && !o.fromCache) {
              answers++
              assert.equal(msg.type, "lookup-reply")
              if (msg.type === "lookup-reply")
                assert.ok(msg.version >= before, `seed ${seed}: ${msg.version} < ${before}`)
            }
          }
          if (msg.type === "lookup-reply") {
            checked++
            assert.ok(router.metrics().highestVersionSeen >= before)
          }
          return
        }
        const node = nodes.get(to)!
        for (const o of node.step(net.now, from, msg)) {
          // a lookup names the version it saw, and the store it read is exactly that version
          if (o.msg.type === "lookup-reply") {
            assert.equal(
              node.root,
              rootAt.get(o.msg.version),
              `seed ${seed}: ${to} answered at v${o.msg.version}`,
            )
            versionChecks++
          }
          net.send(to, o.to, o.msg)
        }
        if (to === "m0") rootAt.set(node.version, node.root)
      }
      const rootAt = new Map<number, string>([[0, nodes.get("m0")!.root]])
      // preload so lookups find something
      for (let i = 0; i < 64; i++) {
        nodes.get("m0")!.publish([
          {
            kind: "put",
            key: routingKey("orders", hashFromBigInt(BigInt(i) << 122n)),
            entry: { partitionId: `p${i}`, epoch: 0, replicas: [], leaderHint: null },
          },
        ])
        rootAt.set(nodes.get("m0")!.version, nodes.get("m0")!.root)
      }
      let req = 0
      for (let t = 0; t < 2000; t += 5) {
        if (prng.chance(0.5)) net.send("source", "m0", { type: "source", ops: [randomOp(prng, epochs)] })
        // one node lags badly: it is cut off most of the time
        if (t % 400 === 0) net.isolated.add("m3")
        if (t % 400 === 200) net.isolated.delete("m3")
        if (t % 300 === 150) nodes.get(NODES[1 + prng.int(4)]!)!.restart()
        const key = routingKey("orders", hashFromBigInt(BigInt(prng.int(1 << 20)) << 108n))
        for (const o of router.request(net.now, req++, "orders", key))
          if (o.type === "send") net.send("router", o.to, o.msg)
        if (t % 50 === 0) {
          for (const n of nodes.values()) for (const o of n.tick(net.now)) net.send(n.id, o.to, o.msg)
          for (const o of router.tick(net.now)) if (o.type === "send") net.send("router", o.to, o.msg)
        }
        net.runUntil(t + 5, deliver)
      }
      assert.ok(answers > 0 && checked > 100, `seed ${seed}: answers ${answers}, replies ${checked}`)
      lagEvents += [...nodes.values()].reduce((s, n) => s + n.stats.behindReplies, 0)
      lagEvents += router.metrics().olderRepliesRejected
      repairs += [...nodes.values()].reduce((s, n) => s + n.stats.syncCatchUps + n.stats.snapshotCatchUps, 0)
    }
    // the scenario must actually have put lagging nodes in the router's way
    assert.ok(lagEvents > 0, "no lagging-node replies were exercised")
    assert.ok(versionChecks > 1000)
    assert.ok(repairs > 0, "full catch-ups happened while the router was reading")
  })

  it("replication deltas round-trip through their compressed encoding", () => {
    const prng = new Prng(7)
    const epochs = new Map<string, number>()
    const updates = Array.from({ length: 50 }, (_, i) => ({
      version: i + 1,
      root: "00ff00ff00ff00ff",
      ops: Array.from({ length: 3 }, () => randomOp(prng, epochs)),
    }))
    const bytes = encodeUpdates(updates)
    const back = decodeUpdates(bytes)
    assert.ok(Either.isRight(back))
    assert.deepEqual(back.right, updates)
    assert.ok(Either.isLeft(decodeUpdates(bytes.subarray(0, 10))))
  })

  it("a node rejects a snapshot whose root does not match and asks again", () => {
    const a = new MemDSNode({ id: "a", peers: ["a", "b"], sequencer: true })
    const b = new MemDSNode({ id: "b", peers: ["a", "b"], logEntriesMax: 1 })
    for (let i = 0; i < 10; i++)
      a.publish([
        {
          kind: "put",
          key: routingKey("t", hashFromBigInt(BigInt(i))),
          entry: { partitionId: `p${i}`, epoch: 1, replicas: [], leaderHint: null },
        },
      ])
    const snap = a.store.snapshot(a.version)
    const outs = b.step(0, "a", {
      type: "snapshot",
      version: a.version,
      root: "0123456789abcdef",
      bytes: snap,
    })
    assert.equal(b.version, 0)
    assert.equal(b.stats.snapshotsRejected, 1)
    assert.equal(outs[0]?.msg.type, "catchup-req")
    b.step(1, "a", { type: "snapshot", version: a.version, root: a.root, bytes: snap })
    assert.equal(b.version, a.version)
    assert.equal(b.root, a.root)
  })

  it("a lookup names the version it saw and a node behind the router's version says so", () => {
    const a = new MemDSNode({ id: "a", peers: [], sequencer: true })
    const key = routingKey("t", hashFromBigInt(5n))
    a.publish([
      {
        kind: "put",
        key: routingKey("t", hashFromBigInt(0n)),
        entry: { partitionId: "p0", epoch: 3, replicas: [], leaderHint: null },
      },
    ])
    const r = a.lookup(1, key, 0)
    assert.equal(r.type, "lookup-reply")
    if (r.type === "lookup-reply") {
      assert.equal(r.version, 1)
      assert.equal(r.range?.entry.partitionId, "p0")
    }
    assert.deepEqual(a.lookup(2, key, 2), { type: "behind", id: 2, version: 1 })
  })

  it("the sequencer ignores membership updates older than the stored epoch", () => {
    const a = new MemDSNode({ id: "a", peers: [], sequencer: true })
    const key = routingKey("t", hashFromBigInt(0n))
    a.publish([{ kind: "put", key, entry: { partitionId: "p0", epoch: 5, replicas: [], leaderHint: null } }])
    assert.deepEqual(
      a.publish([
        { kind: "put", key, entry: { partitionId: "p0", epoch: 4, replicas: [], leaderHint: null } },
      ]),
      [],
    )
    assert.equal(a.store.get(key)?.epoch, 5)
    assert.equal(a.version, 1)
  })
})
