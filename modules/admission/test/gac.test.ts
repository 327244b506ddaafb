import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { GAC_REPLENISH_INTERVAL_MS, type GacReport, GacRing, GacServerCore } from "@partita/admission"
import { convergence, runGacSim } from "./support/gacSim.ts"

const SEEDS = Number(process.env.PARTITA_SEEDS ?? 3)
const R = 10_000
const STEP_MS = 10_000

/** Skewed demand: quiet (half the rate, spread) until STEP_MS, then one hot router wants 60 % of R
 * and the rest share another 60 %. Total demand 1.2 R. */
function skewed(n: number) {
  return (r: number, t: number) => (t < STEP_MS ? (0.5 * R) / n : r === 0 ? 0.6 * R : (0.6 * R) / (n - 1))
}

function report(routerId: string, demandUnits: number, seq: number, held = 0): GacReport {
  return {
    _tag: "GacReport",
    routerId,
    bucket: "t/r",
    provisionedMilliPerSec: 3000_000,
    demandMilliPerSec: demandUnits * 1000,
    heldMilliPerSec: held,
    knownRouters: 3,
    seq,
  }
}

describe("GAC server core", () => {
  it("shares the rate max-min fairly once every router has reported", () => {
    const s = new GacServerCore("g", -10_000)
    const demands: Array<[string, number]> = [
      ["a", 100],
      ["b", 500],
      ["c", 5000],
    ]
    for (const [id, d] of demands) s.onReport(report(id, d, 1, 1000_000), 0)
    // Still warming up: every router keeps what it holds.
    assert.equal(s.onReport(report("c", 5000, 2, 1000_000), 100).rateMilliPerSec, 1000_000)
    const at = 6000
    const grants = demands.map(([id, d]) => s.onReport(report(id, d, 3, 1000_000), at).rateMilliPerSec)
    // a and b get their demand; c gets the rest up to what the others' grants leave.
    assert.equal(grants[0], 100_000)
    assert.equal(grants[1], 500_000)
    assert.equal(grants[2], 2400_000)
    assert.ok(grants.reduce((x, y) => x + y, 0) <= 3000_000)
  })

  it("shares headroom equally while the table is under its rate", () => {
    const s = new GacServerCore("g", -10_000)
    s.onReport(report("a", 100, 1, 1000_000), 0)
    s.onReport(report("b", 200, 1, 1000_000), 0)
    s.onReport(report("c", 300, 1, 1000_000), 0)
    const g = ["a", "b", "c"].map((id, i) => s.onReport(report(id, (i + 1) * 100, 2, 1000_000), 6000))
    assert.deepEqual(
      g.map((x) => x.rateMilliPerSec),
      [900_000, 1000_000, 1100_000],
    )
  })

  it("only the ring owner computes shares; a fail-over server keeps the held rate", () => {
    const ring = new GacRing(["g0", "g1", "g2"])
    const [owner, backup] = ring.preference("t/r")
    const s = new GacServerCore(backup!, -10_000, undefined, ring)
    s.onReport(report("a", 5000, 1, 700_000), 0)
    assert.equal(s.onReport(report("a", 5000, 2, 700_000), 60_000).rateMilliPerSec, 700_000)
    const o = new GacServerCore(owner!, -10_000, undefined, ring)
    o.onReport(report("a", 5000, 1, 700_000), 0)
    assert.equal(o.onReport(report("a", 5000, 2, 700_000), 60_000).rateMilliPerSec, 3000_000)
  })
})

describe("GAC hash ring", () => {
  it("spreads table buckets over servers and moves few of them when a server joins", () => {
    const three = new GacRing(["g0", "g1", "g2"])
    const four = new GacRing(["g0", "g1", "g2", "g3"])
    const count = new Map<string, number>()
    let moved = 0
    const tables = 3000
    for (let i = 0; i < tables; i++) {
      const k = `table-${i}/r`
      const a = three.preference(k)
      assert.equal(new Set(a).size, 3)
      count.set(a[0]!, (count.get(a[0]!) ?? 0) + 1)
      const b = four.preference(k)[0]!
      if (b !== a[0]) {
        moved++
        assert.equal(b, "g3", "a bucket only moves to the new server")
      }
    }
    for (const c of count.values()) assert.ok(c > tables * 0.2 && c < tables * 0.47, `share ${c}`)
    assert.ok(moved > tables * 0.15 && moved < tables * 0.35, `moved ${moved}`)
  })
})

describe("GAC under simulation (lossy network, skewed demand)", () => {
  for (const routers of [5, 20]) {
    it(`converges to the table rate within a few replenish intervals (${routers} routers, ${SEEDS} seeds)`, () => {
      for (let seed = 1; seed <= SEEDS; seed++) {
        const res = runGacSim({
          seed,
          routers,
          servers: 3,
          provisionedUnits: R,
          durationMs: 40_000,
          lossRate: 0.02,
          delayMs: [1, 30],
          demand: skewed(routers),
        })
        const c = convergence(res.admitted, R, STEP_MS, 0.03)
        assert.ok(
          c.convergedAfterMs <= 4 * GAC_REPLENISH_INTERVAL_MS,
          `seed ${seed}: converged after ${c.convergedAfterMs}`,
        )
        // The only overshoot is what the routers' 200 ms buckets held when demand stepped up.
        assert.ok(c.overshoot <= 0.22, `seed ${seed}: overshoot ${c.overshoot}`)
        // Before the step, demand (R/2) was admitted in full.
        for (let w = 1; w < STEP_MS / 1000; w++) assert.ok(Math.abs(res.admitted[w]! - R / 2) <= R * 0.02)
      }
    })
  }

  it("starves no router that has demand: each gets at least min(demand, R/n)", () => {
    const n = 8
    for (let seed = 1; seed <= SEEDS; seed++) {
      // Two hot routers want 2 R each; the others want R/20 each.
      const res = runGacSim({
        seed,
        routers: n,
        servers: 3,
        provisionedUnits: R,
        durationMs: 30_000,
        lossRate: 0.02,
        demand: (r) => (r < 2 ? 2 * R : R / 20),
      })
      for (let w = 10; w < 30; w++) {
        for (let r = 0; r < n; r++) {
          const want = r < 2 ? 2 * R : R / 20
          const floor = Math.min(want, R / n)
          assert.ok(
            res.perRouter[r]![w]! >= floor * 0.95,
            `seed ${seed} w ${w} router ${r}: ${res.perRouter[r]![w]}`,
          )
        }
        assert.ok(res.admitted[w]! <= R * 1.01)
        assert.ok(res.admitted[w]! >= R * 0.97)
      }
    }
  })

  it("keeps serving a router cut off from GAC from its bucket, then degrades it to half its fair share", () => {
    const n = 10
    const cutFrom = 20_000
    const res = runGacSim({
      seed: 3,
      routers: n,
      servers: 3,
      provisionedUnits: R,
      durationMs: 40_000,
      demand: skewed(n),
      cut: { router: 1, fromMs: cutFrom, toMs: 40_000 },
    })
    const held = res.rateOf[1]![19]!
    assert.ok(held > 0)
    // Until its last grant (received just before 20 s) expires 6 s later, it keeps its rate.
    for (let w = 20; w < 24; w++) {
      assert.equal(res.rateOf[1]![w], held)
      assert.ok(res.perRouter[1]![w]! >= res.perRouter[1]![19]! * 0.97)
    }
    // Then it falls to half of min(grant, R/n) and stays there while cut off.
    for (let w = 25; w < 40; w++) assert.ok(res.rateOf[1]![w]! <= Math.min(held, R / n) / 2)
    // The table exceeds its rate by at most that degraded rate.
    for (let w = 12; w < 40; w++) assert.ok(res.admitted[w]! <= R * (1 + 1 / (2 * n)) + R * 0.01, `w ${w}`)
  })

  it("restarts the owning GAC server without effect on admitted traffic", () => {
    for (const n of [10, 50]) {
      for (let seed = 1; seed <= SEEDS; seed++) {
        const base = {
          seed,
          routers: n,
          servers: 3,
          provisionedUnits: R,
          durationMs: 40_000,
          lossRate: 0.01,
          demand: skewed(n),
        }
        const plain = runGacSim(base)
        const restarted = runGacSim({ ...base, restartOwnerAtMs: 22_000 })
        for (let w = 20; w < 40; w++) {
          const d = Math.abs(plain.admitted[w]! - restarted.admitted[w]!)
          assert.ok(
            d <= R * 0.02,
            `n ${n} seed ${seed} window ${w}: ${plain.admitted[w]} vs ${restarted.admitted[w]}`,
          )
        }
      }
    }
  })
})

describe("GAC server core: liveness and memory", () => {
  it("gives a newcomer at least half of its fair share while the others still hold everything", () => {
    const s = new GacServerCore("g", -10_000)
    // Two routers hold all 3,000 units and want more.
    s.onReport(report("a", 5000, 1, 1500_000), 0)
    s.onReport(report("b", 5000, 1, 1500_000), 0)
    s.onReport(report("a", 5000, 2, 1500_000), 6000)
    s.onReport(report("b", 5000, 2, 1500_000), 6000)
    // c arrives wanting 1,000: R/n = 1,000, so it gets at least 500 at once...
    const first = s.onReport(report("c", 1000, 1, 0), 6100).rateMilliPerSec
    assert.ok(first >= 500_000 && first <= 1000_000, `first grant ${first}`)
    // ...and its whole share once a and b have reported again.
    s.onReport(report("a", 5000, 3, 1500_000), 8000)
    s.onReport(report("b", 5000, 3, 1500_000), 8000)
    assert.equal(s.onReport(report("c", 1000, 2, first), 8100).rateMilliPerSec, 1000_000)
  })

  it("forgets buckets nobody reports to", () => {
    const s = new GacServerCore("g", 0)
    for (let i = 0; i < 100; i++) s.onReport({ ...report("a", 1, 1), bucket: `t${i}/r` }, 0)
    assert.equal(s.bucketCount, 100)
    s.sweep(60_000)
    assert.equal(s.bucketCount, 0)
  })
})
