// The README example, verbatim.
import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { MemoryObjectStore, MemoryObjectStoreLayer } from "@partita/paxos"
import { Effect } from "effect"
import { ScrubberCore, SimPartition, flipValueBit, loseNextWrite } from "@partita/scrubber"

describe("README example", () => {
  it("detects and repairs a flipped value and a lost write in one cycle", () => {
    const store = new MemoryObjectStore()
    const run = <A>(e: Effect.Effect<A, never, never>) => Effect.runSync(e)
    const withStore = MemoryObjectStoreLayer(store)

    // A partition with three replicas; 64 writes, delivered, archived in segments of 16.
    const p = new SimPartition({ entriesPerSegment: 16 })
    for (let i = 0; i < 64; i++) p.commit({ op: "put", key: `user#${i % 20}`, value: `v${i}` })
    p.deliverAll()
    run(Effect.provide(p.archivePending(), withStore))

    // Bit rot on replica 0, a lost write on replica 2.
    flipValueBit(p, 0, "user#7", 3)
    loseNextWrite(p, 2)
    for (let i = 0; i < 16; i++) p.commit({ op: "add", key: "counter", delta: 1 })
    p.deliverAll()
    run(Effect.provide(p.archivePending(), withStore))

    const scrubber = new ScrubberCore([p])
    run(Effect.provide(scrubber.runCycle(0), withStore))

    const found = scrubber.events().filter((e) => e.type === "detected")
    assert.deepEqual(
      found.map((e) => [e.replica, e.cause, e.keys]),
      [
        // The reference rebuilt from the archive (position 80) disagrees with both damaged replicas.
        [0, "reference-divergence", ["user#7"]],
        [2, "reference-divergence", ["counter"]],
      ],
    )
    const m = scrubber.metrics()
    assert.equal(m.repairs, 2)
    assert.ok(m.checksumsExchanged < 60)
    const sums = p.replicas.map((r) => r.tree.checksum())
    assert.equal(new Set(sums).size, 1)
  })
})
