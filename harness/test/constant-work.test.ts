import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { buildFleet, runCache } from "../src/suites/constant-work.ts"

describe("constant-work suite", () => {
  const fleet = buildFleet(3, 10_001)
  const base = { hotPartitions: 200, requests: 8000, requestsPerMs: 20, routers: 3, intervalMs: 50, seed: 3 }

  it("constant-work sends 1.0 MemDS lookup per request (within 1 %) at every hit rate", () => {
    for (const hitRate of [0, 0.5, 0.9, 0.9975, 1]) {
      const r = runCache(fleet, { ...base, mode: "constant-work", hitRate })
      assert.ok(Math.abs(r.lookupsPerRequest - 1) <= 0.01, `hit ${hitRate}: ${r.lookupsPerRequest}`)
      assert.equal(r.failed, 0)
    }
  })

  it("conventional lookups per request follow the miss rate", () => {
    for (const hitRate of [0, 0.5, 0.9, 1]) {
      const r = runCache(fleet, { ...base, mode: "conventional", hitRate })
      const miss = r.misses / r.requests
      assert.ok(Math.abs(miss - (1 - hitRate)) < 0.03, `miss ${miss} at hit ${hitRate}`)
      assert.ok(
        Math.abs(r.lookupsPerRequest - miss) <= 0.001 + miss * 0.02,
        `${r.lookupsPerRequest} vs ${miss}`,
      )
    }
  })

  it("a full flush leaves constant-work load flat and makes conventional load surge", () => {
    const flush = { ...base, hitRate: 0.99, hotPartitions: 2000, flushAtMs: 150 }
    const cw = runCache(fleet, { ...flush, mode: "constant-work" })
    const cv = runCache(fleet, { ...flush, mode: "conventional" })
    const inner = (a: number[]) => a.slice(1, -1)
    for (const v of inner(cw.lookupsPerInterval)) assert.ok(Math.abs(v - 1000) <= 10, `cw interval ${v}`)
    const before = inner(cv.lookupsPerInterval).slice(0, 2)
    const after = Math.max(...cv.lookupsPerInterval.slice(3))
    assert.ok(after >= 20 * Math.max(1, ...before), `conventional ${before} → ${after}`)
  })
})
