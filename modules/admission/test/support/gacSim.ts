import {
  type GacGrant,
  type GacOptions,
  type GacReport,
  GacRing,
  GacServerCore,
  MILLI_PER_UNIT,
  RouterAdmissionCore,
  defaultGacOptions,
} from "@partita/admission"
import { XorShift } from "./prng.ts"

/** A GAC scenario: routers with demand over virtual time, GAC servers, a lossy delayed network. */
export interface GacSimOptions {
  readonly seed: number
  readonly routers: number
  readonly servers: number
  readonly provisionedUnits: number
  readonly durationMs: number
  /** Demand of router `r` at time `t`, units/s (requests cost 1 unit each). */
  readonly demand: (r: number, tMs: number) => number
  readonly stepMs?: number
  readonly delayMs?: readonly [number, number]
  readonly lossRate?: number
  /** Restart the owner of the table's bucket at this time (fresh core, messages in flight lost). */
  readonly restartOwnerAtMs?: number
  /** Cut router `router` off from every GAC server in [fromMs, toMs). */
  readonly cut?: { readonly router: number; readonly fromMs: number; readonly toMs: number }
  readonly gac?: Partial<GacOptions>
}

/** Per 1-second window: admitted and demanded units for the table and each router. */
export interface GacSimResult {
  readonly admitted: number[]
  readonly demanded: number[]
  readonly perRouter: number[][]
  readonly rateOf: number[][]
  readonly grants: number
}

type Ev =
  | { readonly at: number; readonly kind: "report"; readonly to: string; readonly m: GacReport }
  | { readonly at: number; readonly kind: "grant"; readonly to: number; readonly m: GacGrant }

/** Runs the scenario with a tiny deterministic event loop (our stand-in for the sim kit). */
export function runGacSim(o: GacSimOptions): GacSimResult {
  const rng = new XorShift(o.seed)
  const opts: GacOptions = { ...defaultGacOptions, ...o.gac }
  const stepMs = o.stepMs ?? 10
  const [dMin, dMax] = o.delayMs ?? [1, 20]
  const loss = o.lossRate ?? 0
  const serverIds = Array.from({ length: o.servers }, (_, i) => `gac-${i}`)
  const ring = new GacRing(serverIds)
  const servers = new Map(serverIds.map((s) => [s, new GacServerCore(s, -opts.warmupMs, opts, ring)]))
  const key = "t/r"
  const rate = o.provisionedUnits * MILLI_PER_UNIT
  const owner = ring.preference(key)[0]!
  const routers = Array.from({ length: o.routers }, (_, i) => {
    const r = new RouterAdmissionCore(`router-${i}`, ring, opts)
    r.addBucket(key, rate, 0, o.routers)
    return r
  })
  const queue: Ev[] = []
  const push = (e: Ev) => {
    let lo = 0
    let hi = queue.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (queue[mid]!.at <= e.at) lo = mid + 1
      else hi = mid
    }
    queue.splice(lo, 0, e)
  }
  const cutOff = (r: number, t: number) =>
    o.cut !== undefined && o.cut.router === r && t >= o.cut.fromMs && t < o.cut.toMs
  const windows = Math.ceil(o.durationMs / 1000)
  const admitted = new Array<number>(windows).fill(0)
  const demanded = new Array<number>(windows).fill(0)
  const perRouter = routers.map(() => new Array<number>(windows).fill(0))
  const rateOf = routers.map(() => new Array<number>(windows).fill(0))
  const acc = routers.map(() => 0)
  let grants = 0
  let restarted = false
  for (let t = 0; t < o.durationMs; t += stepMs) {
    if (o.restartOwnerAtMs !== undefined && !restarted && t >= o.restartOwnerAtMs) {
      restarted = true
      servers.set(owner, new GacServerCore(owner, t, opts, ring))
      for (let i = queue.length - 1; i >= 0; i--) {
        const e = queue[i]!
        if (e.kind === "report" && e.to === owner) queue.splice(i, 1)
      }
    }
    while (queue.length > 0 && queue[0]!.at <= t) {
      const e = queue.shift()!
      if (e.kind === "report") {
        const g = servers.get(e.to)!.onReport(e.m, t)
        if (rng.next() >= loss && !cutOff(Number(g.routerId.slice(7)), t))
          push({ at: t + rng.int(dMin, dMax), kind: "grant", to: Number(g.routerId.slice(7)), m: g })
      } else if (routers[e.to]!.onGrant(e.m, t)) grants++
    }
    const w = Math.floor(t / 1000)
    routers.forEach((r, i) => {
      for (const out of r.tick(t)) {
        if (rng.next() < loss || cutOff(i, t)) continue
        push({ at: t + rng.int(dMin, dMax), kind: "report", to: out.to, m: out.report })
      }
      acc[i] = acc[i]! + (o.demand(i, t) * stepMs) / 1000
      while (acc[i]! >= 1) {
        acc[i] = acc[i]! - 1
        demanded[w] = demanded[w]! + 1
        if (r.canTake(0, MILLI_PER_UNIT, t)) {
          r.take(0, MILLI_PER_UNIT, t)
          admitted[w] = admitted[w]! + 1
          perRouter[i]![w] = perRouter[i]![w]! + 1
        } else r.noteThrottled(0, MILLI_PER_UNIT)
      }
      rateOf[i]![w] = r.rateOf(0) / MILLI_PER_UNIT
    })
  }
  return { admitted, demanded, perRouter, rateOf, grants }
}

/** Convergence of a step at `stepAtMs`: first window after which every window stays within tol of R. */
export function convergence(
  admitted: ReadonlyArray<number>,
  rateUnits: number,
  stepAtMs: number,
  tolerance = 0.05,
): { convergedAfterMs: number; overshoot: number } {
  const first = Math.floor(stepAtMs / 1000)
  let last = -1
  let overshoot = 0
  for (let w = first; w < admitted.length; w++) {
    const x = admitted[w]! / rateUnits
    overshoot = Math.max(overshoot, x - 1)
    if (Math.abs(x - 1) > tolerance) last = w
  }
  const convergedAfterMs = last < 0 ? 0 : (last + 1 - first) * 1000
  return { convergedAfterMs, overshoot }
}
