import assert from "node:assert/strict"
import { describe, it } from "node:test"
import {
  BURST_WINDOW_MS,
  BurstBucket,
  CAPACITY_MAX_MILLI,
  MILLI_PER_UNIT,
  TokenBucket,
} from "@partita/admission"
import fc from "fast-check"

const RUNS = Number(process.env.PARTITA_FC_RUNS ?? 1000)

/** A sequence of operations: wait dt ms, then try to take n milli-units (or charge, for debt). */
const opsArb = fc.array(
  fc.record({
    dt: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 5000 })),
    n: fc.integer({ min: 0, max: 20_000 }),
    charge: fc.boolean(),
  }),
  { minLength: 1, maxLength: 200 },
)
const rateArb = fc.integer({ min: 0, max: 50_000_000 })
const capArb = fc.integer({ min: 0, max: 100_000 })

function snapshot(b: TokenBucket) {
  return { tokens: b.tokens, carry: b.carry, lastMs: b.lastMs, rate: b.rateMilliPerSec, cap: b.capacityMilli }
}

describe("TokenBucket", () => {
  it("admits at most rate × window + capacity over any window", () => {
    fc.assert(
      fc.property(rateArb, capArb, opsArb, (rate, cap, ops) => {
        const b = new TokenBucket(rate, cap, 0)
        const times: number[] = []
        const taken: number[] = []
        let t = 0
        for (const op of ops) {
          t += op.dt
          times.push(t)
          taken.push(b.tryTake(op.n, t) ? op.n : 0)
        }
        for (let i = 0; i < times.length; i++) {
          let sum = 0
          for (let j = i; j < times.length; j++) {
            sum += taken[j]!
            // rate is milli/s and time ms: rate × window / 1000 milli-units, plus what was stored.
            assert.ok(sum * 1000 <= rate * (times[j]! - times[i]!) + cap * 1000, `window ${i}..${j}`)
          }
        }
      }),
      { numRuns: RUNS },
    )
  })

  it("never changes state when it refuses a request", () => {
    fc.assert(
      fc.property(rateArb, capArb, opsArb, (rate, cap, ops) => {
        const b = new TokenBucket(rate, cap, 0)
        let t = 0
        for (const op of ops) {
          t += op.dt
          if (op.charge) {
            b.charge(op.n, t)
            continue
          }
          const before = snapshot(b)
          if (!b.tryTake(op.n, t)) assert.deepEqual(snapshot(b), before)
        }
      }),
      { numRuns: RUNS },
    )
  })

  it("refuses every request while in debt, and recovers at the refill rate", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        (rate, cap, debt) => {
          const b = new TokenBucket(rate, cap, 0)
          b.charge(cap + debt, 0)
          assert.equal(b.available(0), -debt)
          assert.equal(b.tryTake(0, 0), false)
          // Debt is repaid after debt × 1000 / rate ms (rounded up), not before.
          const repayMs = Math.ceil((debt * 1000) / rate)
          if (repayMs > 1) assert.equal(b.tryTake(0, repayMs - 1), false)
          assert.equal(b.tryTake(0, repayMs), true)
        },
      ),
      { numRuns: RUNS },
    )
  })

  it("does not drift: tokens granted over a long run equal rate × time exactly", () => {
    // 0.333 units per second, refilled every 7 ms for a simulated day: exactly 28,771.2 units.
    const b = new TokenBucket(333, CAPACITY_MAX_MILLI, 0, 0)
    const dayMs = 86_400_000
    for (let t = 7; t <= dayMs; t += 7) b.refill(t)
    b.refill(dayMs)
    assert.equal(b.tokens, 28_771_200)
  })

  it("treats time going backwards as no time passing", () => {
    const b = new TokenBucket(1000 * MILLI_PER_UNIT, 1000, 100)
    assert.equal(b.tryTake(1000, 100), true)
    assert.equal(b.tryTake(1, 50), false)
    assert.equal(b.available(50), 0)
  })
})

describe("BurstBucket", () => {
  it("never holds more than 300 s of its rate as burst credit", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5_000_000 }),
        fc.array(
          fc.record({ dt: fc.integer({ min: 0, max: 400_000 }), n: fc.integer({ min: 0, max: 1_000_000 }) }),
          { maxLength: 100 },
        ),
        (rate, ops) => {
          const b = new BurstBucket(rate, 0)
          let t = 0
          for (const op of ops) {
            t += op.dt
            b.probe(t)
            assert.ok(b.pBurst * 1000 <= rate * BURST_WINDOW_MS, "probe within 300 s of rate")
            if (b.pAlloc >= op.n) {
              b.commit()
              b.allocMilli -= op.n
            } else if (b.pBurst >= op.n) {
              b.commit()
              b.burstMilli -= op.n
            }
            assert.ok(b.burstMilli * 1000 <= rate * BURST_WINDOW_MS)
            assert.ok(b.allocMilli <= b.allocCapMilli)
          }
        },
      ),
      { numRuns: RUNS },
    )
  })

  it("banks unused allocation: 150 RCU idle for 5 minutes gives 45,000 units of burst", () => {
    // The AWS documentation's example.
    const b = new BurstBucket(150 * MILLI_PER_UNIT, 0)
    b.probe(300_000 + 1000)
    assert.equal(b.pBurst, 45_000 * MILLI_PER_UNIT)
  })
})
