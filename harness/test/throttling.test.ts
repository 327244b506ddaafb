import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { runDilution, runThrottling, type ThrottlingRun } from "../src/suites/throttling.ts"

const base: Omit<ThrottlingRun, "stage" | "skew" | "loadPct"> = {
  durationMs: 12_000,
  keyCount: 2000,
  seed: 7,
  splitWindowMs: 3000,
  splitDelayMs: 1000,
}
const rate = (r: { throttledAttempts: number; attempts: number }) => r.throttledAttempts / r.attempts

describe("throttling suite", () => {
  it("Zipfian at 100 %: static throttles, GAC less, GAC + split ~not at all", () => {
    const st = runThrottling({ ...base, skew: "zipfian", loadPct: 100, stage: "static" })
    const gac = runThrottling({ ...base, skew: "zipfian", loadPct: 100, stage: "gac" })
    const split = runThrottling({ ...base, skew: "zipfian", loadPct: 100, stage: "gac+split" })
    assert.ok(rate(st) > 0.02, `static ${rate(st)}`)
    assert.ok(rate(gac) < rate(st), `gac ${rate(gac)} vs static ${rate(st)}`)
    assert.ok(rate(split) <= rate(gac), `split ${rate(split)} vs gac ${rate(gac)}`)
    assert.ok(
      split.splits.some((s) => s.includes("split p")),
      split.splits.join("; "),
    )
    // Heat map rows exist for the children of the split.
    assert.ok(split.heat.size > 8)
  })

  it("GAC does not throttle Zipfian load at 60 % of the table's capacity", () => {
    const gac = runThrottling({ ...base, skew: "zipfian", loadPct: 60, stage: "gac" })
    assert.equal(gac.throttledAttempts, 0)
    assert.ok(Math.abs(gac.consumedRcuPerSec - 9600) / 9600 < 0.01, `${gac.consumedRcuPerSec}`)
  })

  it("a single hot key is refused a split and capped at the partition maximum", () => {
    const r = runThrottling({ ...base, skew: "hot-key", loadPct: 100, stage: "gac+split" })
    assert.ok(
      r.splits.some((s) => s.includes("HotKey")),
      r.splits.join("; "),
    )
    const hottest = Math.max(...[...r.heat.values()].map((row) => Math.max(...row.slice(2))))
    assert.ok(hottest <= 3300 && hottest >= 2400, `hottest ${hottest}`)
  })

  it("is deterministic for a seed", () => {
    const a = runThrottling({ ...base, skew: "zipfian", loadPct: 90, stage: "adaptive" })
    const b = runThrottling({ ...base, skew: "zipfian", loadPct: 90, stage: "adaptive" })
    assert.equal(a.throttledAttempts, b.throttledAttempts)
    assert.deepEqual(a.recorder.summary(), b.recorder.summary())
  })

  it("a size split under `even` halves a hot range's throughput; per-partition-limit does not", () => {
    const even = runDilution("even", { durationMs: 10_000, splitAtMs: 5000, seed: 1 })
    const limit = runDilution("per-partition-limit", { durationMs: 10_000, splitAtMs: 5000, seed: 1 })
    assert.equal(even.allocationBefore, 800)
    assert.equal(even.allocationAfter, 400)
    assert.ok(Math.abs(even.beforeWcu - 700) < 10, `${even.beforeWcu}`)
    assert.ok(Math.abs(even.afterWcu - 400) < 40, `${even.afterWcu}`)
    assert.ok(limit.afterWcu > 690, `${limit.afterWcu}`)
  })
})
