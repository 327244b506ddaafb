import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { Prng } from "@partita/sim"
import { ScrubberCore, SimPartition, charge, decide, initialScheduler } from "../src/index.ts"
import { newStore, padToBoundary, randomWrites, runWith } from "./support.ts"

describe("scheduling", () => {
  it("the token bucket never lets the long-run rate exceed bytesPerSec (plus one burst and one slice)", () => {
    const limit = { bytesPerSec: 10_000, burstBytes: 2_000 }
    let s = initialScheduler(limit, 0)
    let spent = 0
    const slice = 700
    for (let now = 0; now <= 10_000; now += 3) {
      const d = decide(s, limit, now, 0)
      s = d.state
      if (d.decision === "run") {
        s = charge(s, slice)
        spent += slice
      }
    }
    assert.ok(spent <= 10_000 * 10 + 2_000 + slice, `spent ${spent}`)
    assert.ok(spent >= 10_000 * 10 * 0.9, `spent ${spent}`)
  })

  it("yields whenever foreground work is pending, without losing its refill", () => {
    const limit = { bytesPerSec: 1000, burstBytes: 500 }
    const s = initialScheduler(limit, 0)
    const d = decide(charge(s, 1000), limit, 100, 3)
    assert.equal(d.decision, "yield")
    assert.equal(d.state.tokens, -400)
    assert.equal(decide(d.state, limit, 600, 0).decision, "run")
  })

  it("visits every partition in rotation; the metrics count cycles, partitions and bytes", () => {
    const store = newStore()
    const prng = new Prng(3)
    const parts = Array.from({ length: 5 }, (_, i) => {
      const p = new SimPartition({ partition: `p${i}`, entriesPerSegment: 8 })
      randomWrites(p, prng, 50, 20)
      padToBoundary(p, 8)
      p.deliverAll()
      runWith(store, p.archivePending())
      return p
    })
    const s = new ScrubberCore(parts, { rateLimit: { bytesPerSec: 50_000, burstBytes: 2_000 } })
    const visited: number[] = []
    let now = 0
    while (s.metrics().cycles < 2) {
      const before = s.position
      const o = runWith(store, s.tick(now, 0))
      if (o === "ran" && !s.position.inVisit && before.inVisit) visited.push(before.partition)
      now += 1
    }
    assert.deepEqual(visited, [0, 1, 2, 3, 4, 0, 1, 2, 3, 4])
    const m = s.metrics()
    assert.equal(m.partitionsPerCycle, 5)
    assert.equal(m.visits, 10)
    assert.ok(m.bytesVerified > 0)
    // Rate-limited: bytes verified per second of virtual time stay within the limit (plus a burst).
    assert.ok(m.bytesRead <= (now * 50_000) / 1000 + 2_000 + 4 * 65_536 + 200, `${m.bytesRead} in ${now} ms`)
    assert.ok(m.throttles > 0)
  })

  it("a waiting visit compares once the lagging replica catches up, at the same log position", () => {
    const store = newStore()
    const p = new SimPartition({ entriesPerSegment: 8 })
    const prng = new Prng(9)
    randomWrites(p, prng, 40, 10)
    p.deliver(0)
    p.deliver(1)
    p.deliver(2, 20) // replica 2 lags 20 entries behind
    const s = new ScrubberCore([p], { replicasOnly: true })
    const outcomes: string[] = []
    for (let i = 0; i < 50; i++) outcomes.push(runWith(store, s.tick(i, 0)))
    assert.ok(outcomes.includes("waiting"))
    randomWrites(p, prng, 10, 10) // writes go on; replicas 0 and 1 move past the scrub position
    p.deliver(0)
    p.deliver(1)
    p.deliver(2)
    let guard = 0
    while (s.metrics().visits < 1 && guard++ < 100) runWith(store, s.tick(10 + guard, 0))
    assert.equal(s.metrics().visits, 1)
    assert.deepEqual(s.events(), [])
  })
})
