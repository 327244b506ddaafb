import { type Kind, MILLI_PER_UNIT, READ, type Topology, WRITE } from "@partita/admission"
import { XorShift } from "./prng.ts"

/** One recorded request: when, through which router, to which partition, what it costs. */
export interface Req {
  readonly t: number
  readonly router: number
  readonly partition: number
  readonly kind: Kind
  readonly cost: number
}

/**
 * The shared two-tenant topology: table "hot" (2,000 RCU / 800 WCU over 4 partitions, 500 / 200
 * each) and table "other" (1,000 RCU / 400 WCU over 2 partitions), three-way replicated over
 * three nodes of 2,500 RCU / 1,000 WCU.
 */
export function twoTenantTopology(routers = 4): Topology {
  const nodes = ["n0", "n1", "n2"].map((id) => ({ id, readCapacityUnits: 2500, writeCapacityUnits: 1000 }))
  const rep = (leader: number) => [0, 1, 2].map((i) => `n${(leader + i) % 3}`)
  return {
    nodes,
    routers: Array.from({ length: routers }, (_, i) => `router-${i}`),
    tables: [
      {
        id: "hot",
        mode: "provisioned",
        readCapacityUnits: 2000,
        writeCapacityUnits: 800,
        partitions: [0, 1, 2, 3].map((i) => ({ id: `p${i}`, replicas: rep(i % 3) })),
      },
      {
        id: "other",
        mode: "provisioned",
        readCapacityUnits: 1000,
        writeCapacityUnits: 400,
        partitions: [0, 1].map((i) => ({ id: `q${i}`, replicas: rep((i + 1) % 3) })),
      },
    ],
  }
}

/**
 * A seeded skewed workload over twoTenantTopology: table "hot" runs at 70 % of its provisioned
 * reads and 60 % of its writes; partition p0 gets 55 % of the table's traffic for 90 s (above its
 * 500 RCU / 200 WCU share), then 15 % for 60 s, and so on; table "other" runs steadily at 80 %.
 * Reads cost 1 RCU (strong, ≤ 4 KB) or 0.5 (eventual); writes 1 WCU.
 */
export function skewedWorkload(seed: number, durationMs: number, routers = 4): Req[] {
  const rng = new XorShift(seed)
  const out: Req[] = []
  const stepMs = 10
  const hotReadUnits = 1400
  const hotWriteUnits = 480
  const otherReadUnits = 800
  const otherWriteUnits = 320
  let accHR = 0
  let accHW = 0
  let accOR = 0
  let accOW = 0
  for (let t = 0; t < durationMs; t += stepMs) {
    const phase = t % 150_000
    const hotShare = phase < 90_000 ? 0.55 : 0.15
    const pickHot = () => (rng.next() < hotShare ? 0 : 1 + rng.int(0, 2))
    const readCost = () => (rng.next() < 0.2 ? MILLI_PER_UNIT / 2 : MILLI_PER_UNIT)
    accHR += (hotReadUnits * stepMs) / 1000 / 0.9
    accHW += (hotWriteUnits * stepMs) / 1000
    accOR += (otherReadUnits * stepMs) / 1000 / 0.9
    accOW += (otherWriteUnits * stepMs) / 1000
    const at = () => t + rng.int(0, stepMs - 1)
    for (; accHR >= 1; accHR--)
      out.push({
        t: at(),
        router: rng.int(0, routers - 1),
        partition: pickHot(),
        kind: READ,
        cost: readCost(),
      })
    for (; accHW >= 1; accHW--)
      out.push({
        t: at(),
        router: rng.int(0, routers - 1),
        partition: pickHot(),
        kind: WRITE,
        cost: MILLI_PER_UNIT,
      })
    for (; accOR >= 1; accOR--)
      out.push({
        t: at(),
        router: rng.int(0, routers - 1),
        partition: 4 + rng.int(0, 1),
        kind: READ,
        cost: readCost(),
      })
    for (; accOW >= 1; accOW--)
      out.push({
        t: at(),
        router: rng.int(0, routers - 1),
        partition: 4 + rng.int(0, 1),
        kind: WRITE,
        cost: MILLI_PER_UNIT,
      })
  }
  out.sort((a, b) => a.t - b.t)
  return out
}

/** Replays recorded requests against a stage, ticking it every `tickMs` of virtual time. */
export function replay(
  stage: {
    admit: (r: number, p: number, k: Kind, n: number, t: number) => number
    tick: (t: number) => void
  },
  reqs: ReadonlyArray<Req>,
  tickMs = 100,
): void {
  let nextTick = 0
  for (const q of reqs) {
    while (nextTick <= q.t) {
      stage.tick(nextTick)
      nextTick += tickMs
    }
    stage.admit(q.router, q.partition, q.kind, q.cost, q.t)
  }
}
