import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { runBTreeDurability } from "../src/suites/durability-btree.ts"

describe("durability suite, B-tree checksum fallback", () => {
  it("finds every flipped value and lost write within one cycle and repairs it from the majority", () => {
    const r = runBTreeDurability(
      {
        partitions: 3,
        coldKeys: 500,
        hotKeys: 50,
        writesPerSec: 100,
        durationMs: 20_000,
        stepMs: 50,
        faults: 10,
        scrubBytesPerSec: 32 * 1024,
        injectFromMs: 1000,
        injectUntilMs: 8000,
      },
      3,
    )
    const cycles = r.cycleEndsMs.map((t, i) => t - (i === 0 ? 0 : r.cycleEndsMs[i - 1]!))
    const cycleMax = Math.max(...cycles)
    assert.equal(r.faults.length, 10)
    for (const f of r.faults) {
      assert.ok(f.detectedAtMs !== undefined, `${f.kind} p${f.partition}/${f.replica} ${f.key}`)
      assert.ok(f.detectedAtMs - f.atMs <= cycleMax * 1.1)
      assert.ok(f.repairedAtMs !== undefined)
    }
    assert.ok(r.replicasIdentical)
    assert.equal(r.falseAlarms, 0)
  })
})
