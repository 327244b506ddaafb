import assert from "node:assert/strict"
import { describe, it } from "node:test"
import {
  ADMITTED,
  ADMITTED_BURST,
  AdaptiveStage,
  type AdmissionStage,
  BurstStage,
  GacStage,
  isAdmitted,
  makeStage,
  MILLI_PER_UNIT,
  OnDemandStage,
  READ,
  type StageName,
  StaticStage,
  THROTTLED_NODE,
  THROTTLED_PARTITION,
  THROTTLED_TABLE,
  type Topology,
  WRITE,
} from "@partita/admission"
import fc from "fast-check"
import { replay, skewedWorkload, twoTenantTopology } from "./support/workload.ts"

const SEEDS = Number(process.env.PARTITA_SEEDS ?? 2)
const RUNS = Number(process.env.PARTITA_FC_RUNS ?? 1000)
const U = MILLI_PER_UNIT

function hotThrottled(s: AdmissionStage): number {
  const t = s.metrics.tables[0]!
  return t.read.throttled + t.write.throttled
}

describe("stages on the same recorded skewed workload", () => {
  it(`throttle less at each step: static > burst > adaptive > gac (${SEEDS} seeds)`, () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      // 300 s: a 90 s hot phase, a 60 s cool phase, then hot again.
      const reqs = skewedWorkload(seed, 300_000)
      const order: StageName[] = ["static", "burst", "adaptive", "gac"]
      const throttled = order.map((name) => {
        const s = makeStage(name, twoTenantTopology())
        replay(s, reqs)
        // The steady tenant (80 % of its rate, spread evenly) is not throttled by the partition
        // stages; under GAC its routers' 200 ms buckets may clip a rare clump of random arrivals.
        const other = s.metrics.tables[1]!
        const otherThrottled = other.read.throttled + other.write.throttled
        if (name === "gac") assert.ok(otherThrottled <= (other.read.admitted + other.write.admitted) * 1e-3)
        else assert.equal(otherThrottled, 0, `${name}: other tenant throttled`)
        return hotThrottled(s)
      })
      for (let i = 1; i < order.length; i++)
        assert.ok(
          throttled[i]! < throttled[i - 1]!,
          `seed ${seed}: ${order.join(" > ")} = ${throttled.join(" > ")}`,
        )
      // The table is under its total, so GAC throttles (nearly) nothing.
      assert.ok(throttled[3]! <= reqs.length * 1e-4, `gac throttled ${throttled[3]}`)
    }
  })
})

const small: Topology = {
  nodes: [
    { id: "a", readCapacityUnits: 300, writeCapacityUnits: 100 },
    { id: "b", readCapacityUnits: 300, writeCapacityUnits: 100 },
  ],
  routers: ["r0", "r1"],
  tables: [
    {
      id: "t",
      mode: "provisioned",
      readCapacityUnits: 200,
      writeCapacityUnits: 100,
      partitions: [
        { id: "p0", replicas: ["a", "b"] },
        { id: "p1", replicas: ["b", "a"] },
      ],
    },
  ],
}

describe("static", () => {
  it("admits a partition up to its allocated share and throttles the rest", () => {
    const s = new StaticStage(small)
    // p0 has 100 RCU: its bucket holds one second of it.
    let admitted = 0
    for (let i = 0; i < 150; i++) if (isAdmitted(s.admit(0, 0, READ, U, 0))) admitted++
    assert.equal(admitted, 100)
    assert.equal(s.admit(0, 0, READ, U, 0), THROTTLED_PARTITION)
    assert.equal(s.admit(0, 0, READ, U, 10), ADMITTED) // 10 ms of 100 RCU = 1 unit
    assert.equal(s.metrics.partitions[0]!.read.throttled, 51)
  })
})

describe("allocation", () => {
  it("splits the table's rate equally and caps a partition at the partition maximum", () => {
    const big: Topology = {
      ...small,
      tables: [{ ...small.tables[0]!, readCapacityUnits: 10_000, writeCapacityUnits: 500 }],
    }
    const s = new StaticStage(big)
    assert.equal(s.allocation(0, READ), 3000 * U) // not 5,000: the table needs more partitions
    assert.equal(s.allocation(1, WRITE), 250 * U)
  })
})

describe("burst", () => {
  it("admits past the allocation from banked credit while the node has spare capacity", () => {
    const s = new BurstStage(small)
    // Idle for 10 s: p0 banks 9 s × 100 RCU beyond its one-second allocated bucket.
    s.tick(10_000)
    let burst = 0
    for (let i = 0; i < 400; i++) if (s.admit(0, 0, READ, U, 10_000) === ADMITTED_BURST) burst++
    // 100 from the allocation; then burst, limited by node a's one-second bucket of 300 RCU.
    assert.equal(burst, 200)
    assert.equal(s.admit(0, 0, READ, U, 10_000), THROTTLED_NODE)
    assert.equal(s.metrics.partitions[0]!.read.burstMilli, 200 * U)
  })

  it("refuses a burst write when another replica's node has no spare capacity", () => {
    const s = new BurstStage(small)
    s.tick(5000)
    // p1's leader is b; saturate b's write capacity with p1's own provisioned writes and more.
    for (let i = 0; i < 100; i++) s.admit(0, 1, WRITE, U, 5000)
    s.tick(5000) // the leader of p0 (node a) collects its peer b's spare capacity: none
    for (let i = 0; i < 50; i++) assert.equal(s.admit(0, 0, WRITE, U, 5000), ADMITTED)
    assert.equal(s.admit(0, 0, WRITE, U, 5000), THROTTLED_NODE)
    // Reads are checked against local buckets only.
    for (let i = 0; i < 100; i++) s.admit(0, 0, READ, U, 5000)
    assert.equal(s.admit(0, 0, READ, U, 5000), ADMITTED_BURST)
  })

  it("keeps a tenant's provisioned rate whatever another tenant bursts", () => {
    const s = new BurstStage(small)
    s.tick(60_000)
    for (let t = 60_000; t < 70_000; t += 10) {
      for (let i = 0; i < 5; i++) s.admit(0, 0, READ, U, t) // p0 wants 500 RCU/s
      s.admit(1, 1, READ, U, t) // p1 uses its 100 RCU/s allocation
    }
    assert.equal(s.metrics.partitions[1]!.read.throttled, 0)
    assert.ok(s.metrics.partitions[0]!.read.burstMilli > 0)
  })
})

describe("adaptive", () => {
  it("boosts a partition throttled while the table is under its rate, and reduces it when over", () => {
    const s = new AdaptiveStage(small, 0, { adaptiveIntervalMs: 1000 })
    // p0 wants 150 RCU/s (allocation 100); p1 is idle, so the table is under its 200.
    for (let t = 0; t < 5000; t += 10) {
      s.admit(0, 0, READ, U, t)
      if (t % 20 === 0) s.admit(0, 0, READ, U, t)
      s.tick(t)
    }
    const boosted = s.allocation(0, READ)
    assert.ok(boosted >= 140 * U && boosted <= 200 * U, `boosted to ${boosted}`)
    // Now both partitions run flat out: the table consumes more than 200, so the boost shrinks.
    for (let t = 5000; t < 15_000; t += 10) {
      for (let i = 0; i < 3; i++) s.admit(0, 0, READ, U, t)
      for (let i = 0; i < 3; i++) s.admit(0, 1, READ, U, t)
      s.tick(t)
    }
    assert.ok(s.allocation(0, READ) < boosted)
    assert.ok(s.allocation(0, READ) >= 100 * U, "never below the base allocation")
  })

  it("reports a boosted partition that no longer fits its node for a move", () => {
    const tight: Topology = {
      ...small,
      nodes: [
        { id: "a", readCapacityUnits: 110, writeCapacityUnits: 100 },
        { id: "b", readCapacityUnits: 300, writeCapacityUnits: 100 },
      ],
    }
    const s = new AdaptiveStage(tight, 0, { adaptiveIntervalMs: 1000 })
    for (let t = 0; t < 3000; t += 10) {
      for (let i = 0; i < 2; i++) s.admit(0, 0, READ, U, t)
      s.tick(t)
    }
    assert.ok(s.allocation(0, READ) <= 110 * U)
    assert.ok(s.moves.length > 0)
    assert.equal(s.moves[0]!.partition, "t/p0")
    assert.equal(s.moves[0]!.node, "a")
  })
})

describe("gac", () => {
  it("throttles only the demand above the table's rate, wherever it lands", () => {
    const s = new GacStage(small)
    // 300 RCU/s of demand, all on p0, through two routers; the table has 200.
    for (let t = 0; t < 30_000; t += 10) {
      s.admit(0, 0, READ, U, t)
      s.admit(1, 0, READ, U, t)
      s.admit(1, 0, READ, U, t)
      s.tick(t)
    }
    const tm = s.metrics.tables[0]!.read
    const rate = tm.consumedMilli / U / 30
    assert.ok(rate > 190 && rate < 215, `admitted ${rate}/s`)
    assert.equal(s.metrics.partitions[0]!.read.throttled, tm.throttled, "all on the hot partition")
    assert.ok(s.metrics.routers[0]!.read.gacGrants >= 14)
  })

  it("lets a hot partition burst up to the partition maximum, not beyond", () => {
    const big: Topology = {
      ...small,
      tables: [{ ...small.tables[0]!, readCapacityUnits: 10_000 }],
    }
    const s = new GacStage(big)
    for (let t = 0; t < 10_000; t += 10) {
      for (let i = 0; i < 40; i++) s.admit(i % 2, 0, READ, U, t) // 4,000 RCU/s on one partition
      s.tick(t)
    }
    // 10 s at 3,000 RCU/s plus the one second the partition bucket held at the start.
    const units = s.metrics.partitions[0]!.read.consumedMilli / U
    assert.ok(units > 32_000 && units <= 33_000, `partition admitted ${units}`)
    assert.ok(s.metrics.partitions[0]!.read.throttled > 0)
  })
})

describe("on-demand", () => {
  const od: Topology = {
    nodes: [{ id: "a", readCapacityUnits: 1_000_000, writeCapacityUnits: 1_000_000 }],
    routers: ["r0"],
    tables: [
      {
        id: "t",
        mode: "on-demand",
        readCapacityUnits: 0,
        writeCapacityUnits: 0,
        partitions: Array.from({ length: 40 }, (_, i) => ({ id: `p${i}`, replicas: ["a"] })),
      },
    ],
  }

  function drive(s: OnDemandStage, fromMs: number, toMs: number, unitsPerSec: number): number {
    let throttled = 0
    const perStep = unitsPerSec / 100
    for (let t = fromMs; t < toMs; t += 10) {
      for (let i = 0; i < perStep; i++) if (!isAdmitted(s.admit(0, i % 40, READ, U, t))) throttled++
      s.tick(t)
    }
    return throttled
  }

  it("accepts double the previous peak at once and grows with traffic", () => {
    const s = new OnDemandStage(od)
    // A new table starts with 12,000 RRU (a previous peak of 6,000).
    assert.equal(s.allowance(0, READ), 12_000 * U)
    assert.equal(drive(s, 0, 5000, 10_000), 0)
    // The peak is now 10,000: 20,000 is accepted at once.
    assert.equal(drive(s, 5000, 10_000, 20_000), 0)
    assert.equal(s.allowance(0, READ), 40_000 * U)
    // Jumping to 100,000 (more than double) throttles at first, then the allowance follows.
    const early = drive(s, 10_000, 11_000, 100_000)
    assert.ok(early > 0)
    drive(s, 11_000, 13_000, 100_000)
    assert.ok(s.allowance(0, READ) >= 100_000 * U)
    const late = drive(s, 13_000, 14_000, 100_000)
    assert.equal(late, 0)
  })

  it("reports the table-level throttle as THROTTLED_TABLE (ThrottlingException at the boundary)", () => {
    const s = new OnDemandStage(od)
    let d = ADMITTED as number
    for (let i = 0; i < 13_000 && isAdmitted(d as 0); i++) d = s.admit(0, i % 40, READ, U, 0)
    assert.equal(d, THROTTLED_TABLE)
  })
})

describe("a throttled request has no side effect", () => {
  /** Admission state of a stage: every bucket, without counters or probe scratch space. */
  function state(s: AdmissionStage): string {
    return JSON.stringify(s, (k, v) => {
      if (k === "metrics" || k === "tableK" || k === "partK" || k === "nodeK" || k === "routerK")
        return undefined
      if (k === "pAlloc" || k === "pBurst" || k === "pCarry" || k === "pMs") return undefined
      if (k === "throttledMilli" || k === "c" || k === "ring" || k === "preference") return undefined
      if (v instanceof Map) return [...v.entries()]
      if (v instanceof Set) return [...v.values()]
      return v
    })
  }

  for (const name of ["static", "burst", "adaptive", "gac", "on-demand"] as StageName[]) {
    it(`${name}: any refused request leaves every bucket as it was`, () => {
      fc.assert(
        fc.property(
          fc.array(
            fc.record({
              dt: fc.integer({ min: 0, max: 300 }),
              router: fc.integer({ min: 0, max: 1 }),
              partition: fc.integer({ min: 0, max: 1 }),
              kind: fc.constantFrom(READ, WRITE),
              cost: fc.integer({ min: 1, max: 40 }).map((x) => x * 500),
              tick: fc.boolean(),
            }),
            { minLength: 1, maxLength: 80 },
          ),
          (ops) => {
            const s = makeStage(name, small)
            let t = 0
            for (const op of ops) {
              t += op.dt
              if (op.tick) s.tick(t)
              const before = state(s)
              const d = s.admit(op.router, op.partition, op.kind, op.cost, t)
              if (!isAdmitted(d)) assert.equal(state(s), before)
            }
          },
        ),
        { numRuns: RUNS },
      )
    })
  }
})

describe("charge-after (debt)", () => {
  for (const name of ["static", "burst", "adaptive", "gac", "on-demand"] as StageName[]) {
    it(`${name}: a partition in debt refuses requests until it has refilled`, () => {
      const s = makeStage(name, small)
      // Admit a small estimate, then learn the Query read 50,000 units more than that.
      assert.ok(isAdmitted(s.admit(0, 0, READ, U / 2, 0)))
      s.charge(0, 0, READ, 50_000 * U, 0)
      assert.equal(s.metrics.partitions[0]!.read.consumedMilli, 50_000 * U + U / 2)
      assert.ok(!isAdmitted(s.admit(0, 0, READ, U / 2, 1)))
      // 50,000 units of debt at the allocation (or partition maximum) takes a long while to repay.
      assert.ok(!isAdmitted(s.admit(0, 0, READ, U / 2, 10_000)))
    })
  }
})
