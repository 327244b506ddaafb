import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { type DriverCanaries, runSim } from "./support/cluster.ts"

const SEEDS_MAX = 200

const firstCatch = (
  canaries: DriverCanaries,
  withLogReplica?: boolean,
): { seed: number; violation: string } | null => {
  for (let seed = 1; seed <= SEEDS_MAX; seed++) {
    // Double counting only splits quorums with five voters (3 storage + 2 log replicas).
    const opts =
      withLogReplica === undefined ? { seed, canaries } : { seed, canaries, withLogReplica, fiveVoters: true }
    const r = runSim(opts)
    if (r.violations.length > 0) return { seed, violation: r.violations[0]! }
  }
  return null
}

describe(`canary mutations are each caught within ${SEEDS_MAX} seeds`, () => {
  const cases: Array<[string, DriverCanaries, boolean | undefined]> = [
    ["acknowledging before fsync", { ackBeforeFsync: true }, undefined],
    ["the leader counting itself before its entry is durable", { ackBeforePersist: true }, undefined],
    ["answering strong reads without a valid lease", { readsWithoutLease: true }, undefined],
    ["skipping the CRC check in recovery", { skipCrcInRecovery: true }, undefined],
    ["retrying a failed fsync", { retryFailedFsync: true }, undefined],
    ["counting a log replica twice in a quorum", { doubleCountLogReplica: true }, true],
  ]
  for (const [name, canaries, withLog] of cases) {
    it(`catches ${name}`, () => {
      const hit = firstCatch(canaries, withLog)
      assert.ok(hit !== null, `${name} survived ${SEEDS_MAX} seeds`)
      console.log(`canary "${name}": caught at seed ${hit.seed}: ${hit.violation}`)
    })
  }
})
