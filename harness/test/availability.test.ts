import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { type AvailabilityTiming, runAvailability } from "../src/suites/availability.ts"

const timing: AvailabilityTiming = {
  durationMs: 16_000,
  intervalMs: 1000,
  writesPerSec: 100,
  failAtMs: 2000,
  detectMs: 1000,
  rebuildMs: 10_000,
  secondFaultAtMs: 5000,
  secondOutageMs: 4000,
  partitionMs: 6000,
}

describe("availability suite", () => {
  it("a log replica keeps writes available through a second fault; without one they stop", () => {
    const noLog = runAvailability("replica-loss-no-log-replica", timing, 1)
    const withLog = runAvailability("replica-loss-with-log-replica", timing, 1)
    assert.equal(withLog.succeeded, withLog.requests)
    assert.ok(noLog.longestOutageMs >= 3500, `outage ${noLog.longestOutageMs}`)
    // Intervals fully inside the second outage have no successful write at all.
    assert.equal(noLog.availability[6], 0)
    assert.ok(withLog.quorumRestoredAfterMs > 0 && withLog.quorumRestoredAfterMs < 2000)
    assert.ok(noLog.quorumRestoredAfterMs >= timing.rebuildMs)
  })

  it("a leader kill costs about an election timeout plus the lease wait", () => {
    const r = runAvailability("leader-kill", timing, 2)
    assert.ok(r.newLeaderAfterMs > 500 && r.newLeaderAfterMs < 4000, `${r.newLeaderAfterMs}`)
    assert.ok(r.longestOutageMs < 4000)
    assert.ok((r.availability.at(-2) ?? 0) === 1)
  })

  it("an AZ partition fails only the cut-off AZ's clients once a new leader is elected", () => {
    const r = runAvailability("az-partition", timing, 3)
    const mid = r.availability[5]!
    assert.ok(mid > 0.5 && mid < 0.85, `mid-partition ${mid}`)
    assert.equal(r.availability[12], 1)
  })
})
