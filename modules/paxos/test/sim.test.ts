import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { casRegisterModel, checkOperations } from "@partita/sim"
import { type RegOp, runSim, toOperation } from "./support/cluster.ts"

/** CI default: 1,000 seeds (PARTITA_SEEDS for more); PARTITA_PAXOS_SEED replays one verbosely. */
const SEEDS = Number(process.env.PARTITA_SEEDS ?? 1000)
const ONE = process.env.PARTITA_PAXOS_SEED
const FIRST_SEED = Number(process.env.PARTITA_FIRST_SEED ?? 1)

const replayHint = (seed: number): string =>
  `replay: PARTITA_PAXOS_SEED=${seed} node_modules/.bin/bun test --timeout 120000 modules/paxos/test/sim.test.ts`

describe("paxos seeded simulation (loss, dup, reorder, partitions, crashes, torn writes, bit rot, fsync errors, drift, reconfiguration)", () => {
  if (ONE !== undefined) {
    it(`replays seed ${ONE}`, () => {
      const r = runSim({ seed: Number(ONE), verbose: true })
      console.log(JSON.stringify(r.stats), "trace", r.traceHash)
      assert.deepEqual(r.violations, [], replayHint(Number(ONE)))
    })
    return
  }
  it(`holds every invariant on ${SEEDS} seeds (linearizable per key, no lost acked writes, one leader per ballot, disjoint leases, acceptor durability, liveness after faults stop)`, () => {
    const failures: string[] = []
    const totals: Record<string, number> = {}
    for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
      const r = runSim({ seed })
      for (const [k, v] of Object.entries(r.stats)) totals[k] = (totals[k] ?? 0) + v
      if (r.violations.length > 0) {
        failures.push(`seed ${seed}: ${r.violations[0]}\n  ${replayHint(seed)}`)
        if (failures.length >= 5) break
      }
    }
    if (failures.length > 0) console.error(failures.join("\n"))
    assert.deepEqual(failures, [])
    // The faults really happened (checked on runs large enough for every kind to occur).
    if (SEEDS >= 200)
      for (const k of [
        "crashes",
        "partitions",
        "rots",
        "fsyncErrors",
        "reconfigs",
        "promotions",
        "corruptRecoveries",
        "leaderChanges",
      ])
        assert.ok((totals[k] ?? 0) > 0, `no ${k} injected`)
    assert.ok((totals.acked ?? 0) > SEEDS * 50, "clients made progress")
  })

  it("feeds histories to the checker so that a stale read is a violation", () => {
    const w1: RegOp = { kind: "w", value: "a", out: null, call: 0, ret: 10 }
    const w2: RegOp = { kind: "w", value: "b", out: null, call: 20, ret: 30 }
    const stale: RegOp = { kind: "r", value: null, out: "a", call: 40, ret: 50 }
    const fresh: RegOp = { kind: "r", value: null, out: "b", call: 40, ret: 50 }
    const unknownCas: RegOp = {
      kind: "cas",
      value: "c",
      expected: "b",
      out: null,
      call: 35,
      ret: Number.POSITIVE_INFINITY,
    }
    const check = (ops: RegOp[]) =>
      checkOperations(
        casRegisterModel,
        ops.map((o) => toOperation("k", o)),
      ).verdict
    assert.equal(check([w1, w2, stale]), "not-linearizable")
    assert.equal(check([w1, w2, fresh]), "linearizable")
    assert.equal(check([w1, w2, unknownCas, fresh]), "linearizable")
    assert.equal(
      check([w1, w2, unknownCas, { ...fresh, out: "c" }]),
      "linearizable",
      "an unknown CAS may have taken effect",
    )
  })

  it("gives the same trace hash for the same seed, and different hashes for different seeds", () => {
    const a = runSim({ seed: 4242 })
    const b = runSim({ seed: 4242 })
    const c = runSim({ seed: 4243 })
    assert.equal(a.traceHash, b.traceHash)
    assert.deepEqual(a.stats, b.stats)
    assert.notEqual(a.traceHash, c.traceHash)
  })
})
