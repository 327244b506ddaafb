import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { Prng } from "@partita/sim"
import { type ScrubEvent, ScrubberCore, SimPartition, rotStoredBytes, toBase64 } from "../src/index.ts"
import { independentReference, newStore, padToBoundary, runWith } from "./support.ts"

const SEG = 16

const setup = (seed: number, deepVerify: boolean) => {
  const store = newStore()
  const p = new SimPartition({ entriesPerSegment: SEG })
  const prng = new Prng(seed)
  for (let i = 0; i < 300; i++) {
    const b = new Uint8Array(8 + prng.int(40))
    for (let j = 0; j < b.length; j++) b[j] = prng.int(256)
    p.commit({ op: "putBytes", key: `b${String(prng.int(120)).padStart(4, "0")}`, base64: toBase64(b) })
  }
  padToBoundary(p, SEG)
  p.deliverAll()
  runWith(store, p.archivePending())
  const s = new ScrubberCore([p], { deepVerify })
  const events: ScrubEvent[] = []
  s.onEvent((e) => events.push(e))
  runWith(store, s.runCycle(0))
  assert.equal(events.length, 0)
  return { store, p, s, events, prng }
}

describe("deep pass: rot beneath the incremental checksums", () => {
  it("is invisible to checksum comparison alone", () => {
    const { store, p, s, events } = setup(1, false)
    const [k] = [...p.replicas[1]!.tree.range()][5]!
    rotStoredBytes(p, 1, k, 3)
    runWith(store, s.runCycle(1))
    assert.deepEqual(events, [], "the aggregates did not change, so the checksums still agree")
  })

  it("is found by the deep pass with its exact key, and the replica is rebuilt (10 seeds)", () => {
    for (let seed = 1; seed <= 10; seed++) {
      const { store, p, s, events, prng } = setup(seed, true)
      const r = prng.int(3)
      const items = [...p.replicas[r]!.tree.range()]
      const [k] = items[prng.int(items.length)]!
      rotStoredBytes(p, r, k, prng.int(64))
      runWith(store, s.runCycle(1))
      const det = events.filter((e) => e.type === "detected")
      assert.deepEqual(
        det.map((e) => [e.replica, e.cause, e.keys]),
        [[r, "stored-data-rot", [k]]],
        `seed ${seed}`,
      )
      assert.ok(events.some((e) => e.type === "repaired" && e.replica === r))
      const before = events.length
      runWith(store, s.runCycle(2))
      assert.equal(events.length, before, `seed ${seed}: nothing left`)
      const ref = independentReference(store, p, p.committed)
      for (const rep of p.replicas) assert.equal(rep.tree.checksum(), ref.checksum())
      for (const [key, v] of ref.range()) assert.deepEqual(p.replicas[r]!.tree.get(key), v)
    }
  })
})
