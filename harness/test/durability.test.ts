import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { type DurabilityConfig, runDurability } from "../src/suites/durability.ts"

const cfg: DurabilityConfig = {
  partitions: 3,
  coldKeys: 300,
  hotKeys: 50,
  writesPerSec: 100,
  durationMs: 30_000,
  stepMs: 50,
  archiveEveryMs: 1000,
  faults: 8,
  scrubBytesPerSec: 1024 * 1024,
  injectFromMs: 2000,
  injectUntilMs: 12_000,
}

describe("durability suite", () => {
  it("detects every injected fault within one scrub cycle and repairs it from healthy copies", () => {
    const r = runDurability(cfg, 5)
    assert.equal(r.outcomes.length, 8)
    const cycles = r.cycleEndsMs.map((t, i) => t - (i === 0 ? 0 : r.cycleEndsMs[i - 1]!))
    const cycleMax = Math.max(...cycles)
    for (const o of r.outcomes) {
      assert.ok(o.detectedAtMs !== undefined, `${o.fault.kind} on ${o.fault.partition} not detected`)
      assert.ok(
        o.detectedAtMs - o.fault.atMs <= cycleMax * 1.1,
        `${o.fault.kind}: ${o.detectedAtMs - o.fault.atMs} ms`,
      )
      assert.ok(o.repairedAtMs !== undefined, `${o.fault.kind} not repaired`)
    }
    assert.ok(r.replicasIdentical)
    assert.equal(r.falseAlarms, 0)
  })
})
