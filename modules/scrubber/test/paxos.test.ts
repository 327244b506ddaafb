import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { LocalGroup, MemoryObjectStore, MemorySink, type Membership } from "@partita/paxos"
import { ScrubberCore, SimPartition, applyNextAddTwice, encodeCommand } from "../src/index.ts"
import { independentReference, runWith } from "./support.ts"

const config: Membership = {
  members: [
    { id: 0, role: "storage", zone: "az1" },
    { id: 1, role: "storage", zone: "az2" },
    { id: 2, role: "storage", zone: "az3" },
  ],
}

describe("with a real Multi-Paxos group", () => {
  it("replicas fed by LocalGroup's committed entries: a double apply is found and repaired", async () => {
    const store = new MemoryObjectStore()
    const p = new SimPartition({ entriesPerSegment: 16 })
    // The paxos group commits; each storage replica applies its committed entries (no-ops included).
    const g = new LocalGroup({
      config,
      sink: () => new MemorySink(),
      apply: (id, e) => p.replicas[id]!.apply(e),
    })
    await g.electAndWait(0)
    const propose = (i: number) => {
      const cmd =
        i % 3 === 0
          ? { op: "add" as const, key: `ctr${i % 5}`, delta: i }
          : { op: "put" as const, key: `k${i % 11}`, value: `v${i}` }
      assert.ok(g.propose(encodeCommand(cmd), () => {}))
    }
    for (let i = 0; i < 60; i++) {
      propose(i)
      if (i % 7 === 0) g.pumpSync()
    }
    g.pumpSync()
    g.tick(g.now + 200) // a heartbeat tells the followers the last commit
    g.pumpSync()
    runWith(store, p.archivePending())
    const s = new ScrubberCore([p])
    runWith(store, s.runCycle(0))
    assert.deepEqual(s.events(), [], "paxos-replicated replicas agree")
    applyNextAddTwice(p, 2)
    for (let i = 60; i < 120; i++) propose(i)
    g.pumpSync()
    g.tick(g.now + 200)
    g.pumpSync()
    assert.equal(p.replicas[2]!.faultySlots.length, 1)
    runWith(store, p.archivePending())
    runWith(store, s.runCycle(1))
    const det = s.events().filter((e) => e.type === "detected")
    assert.equal(det.length, 1)
    assert.equal(det[0]!.replica, 2)
    assert.equal(det[0]!.keys?.length, 1)
    assert.match(det[0]!.keys![0]!, /^ctr/)
    const applied = p.replicas[0]!.applied
    assert.ok(p.replicas.every((r) => r.applied === applied))
    // Archive everything up to the last applied position for the reference check.
    const archivedThrough = Math.floor(applied / 16) * 16
    const ref = independentReference(store, p, archivedThrough)
    for (const r of p.replicas) assert.equal(r.snapshotAt(archivedThrough)?.checksum(), ref.checksum())
    assert.equal(new Set(p.replicas.map((r) => r.tree.checksum())).size, 1)
  })
})
