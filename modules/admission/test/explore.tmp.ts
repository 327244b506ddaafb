import { makeStage, type StageName, OnDemandStage, READ, MILLI_PER_UNIT as U, isAdmitted } from "@partita/admission"
import { replay, skewedWorkload, twoTenantTopology } from "./support/workload.ts"
for (const seed of [1, 2]) {
const reqs = skewedWorkload(seed, 300_000)
const s = makeStage("gac", twoTenantTopology())
replay(s, reqs)
console.log(seed, JSON.stringify(s.metrics.tables[1]), JSON.stringify(s.metrics.routers.map(r => r.read.throttled)))
}
const od = { nodes: [{ id: "a", readCapacityUnits: 1_000_000, writeCapacityUnits: 1_000_000 }], routers: ["r0"],
    tables: [{ id: "t", mode: "on-demand" as const, readCapacityUnits: 0, writeCapacityUnits: 0, partitions: Array.from({ length: 40 }, (_, i) => ({ id: `p${i}`, replicas: ["a"] })) }] }
  function drive(s: OnDemandStage, fromMs: number, toMs: number, unitsPerSec: number): number {
    let throttled = 0
    const perStep = unitsPerSec / 100
    for (let t = fromMs; t < toMs; t += 10) {
      for (let i = 0; i < perStep; i++) if (!isAdmitted(s.admit(0, i % 40, READ, U, t))) throttled++
      s.tick(t)
    }
    return throttled
  }
const s = new OnDemandStage(od)
console.log(s.allowance(0, READ), drive(s, 0, 5000, 10_000), s.allowance(0, READ), drive(s, 5000, 10_000, 20_000), s.allowance(0, READ))
for (let t = 10_000; t < 16_000; t += 1000) console.log(t, drive(s, t, t + 1000, 100_000), s.allowance(0, READ))
