import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { runClusterAvailability } from "../src/suites/availability-cluster.ts"
import type { AvailabilityTiming } from "../src/suites/availability.ts"

const timing: AvailabilityTiming = {
  durationMs: 12_000,
  intervalMs: 1000,
  writesPerSec: 50,
  failAtMs: 2000,
  detectMs: 1000,
  rebuildMs: 10_000,
  secondFaultAtMs: 5000,
  secondOutageMs: 3000,
  partitionMs: 4000,
}

describe("availability suite on the @partita/node cluster", () => {
  it("a leader kill costs a few seconds, then every write succeeds", () => {
    const r = runClusterAvailability("leader-kill", timing, 1)
    assert.ok(r.newLeaderAfterMs > 0 && r.newLeaderAfterMs < 5000, `${r.newLeaderAfterMs}`)
    assert.ok(r.longestOutageMs < 5000)
    assert.equal(r.availability.at(-2), 1)
  })

  it("the metadata service covers a lost replica with a log replica within seconds", () => {
    const r = runClusterAvailability("replica-loss-with-log-replica", timing, 2)
    assert.ok(r.coveredAfterMs >= 0 && r.coveredAfterMs < 5000, `${r.coveredAfterMs}`)
    assert.equal(r.succeeded, r.requests)
  })
})
