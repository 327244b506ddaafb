import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { MiniCluster, runScaleStep } from "../src/suites/scale.ts"

describe("scale suite", () => {
  it("the composed cluster sustains small YCSB A steps without errors and keeps replicas identical", async () => {
    const cluster = new MiniCluster(2, 2000)
    await cluster.start()
    for (const rate of [250, 1000]) {
      const s = await runScaleStep(cluster, "A", rate, 600, rate)
      assert.equal(s.errors, 0)
      assert.equal(s.throttled, 0)
      assert.ok(s.achievedOpsPerSec >= rate * 0.8, `${rate}/s → ${s.achievedOpsPerSec}`)
      assert.ok(s.recorder.summary("read").count > 0 && s.recorder.summary("update").count > 0)
    }
    await cluster.idle(30)
    // Every replica applied the same writes: equal B-tree checksums within each partition.
    for (const stores of cluster.stores) {
      const sums = [...stores.values()].map((t) => t.checksum())
      assert.equal(new Set(sums).size, 1)
      assert.equal([...stores.values()][0]!.size, [...stores.values()][1]!.size)
    }
  })
})
