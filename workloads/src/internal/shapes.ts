import type { Uniform } from "./keys.ts"

/** Operation kinds a workload issues (YCSB's, in DynamoDB terms). */
export type OpKind = "read" | "update" | "insert" | "scan" | "rmw"

/** A mix: probability of each operation kind (they sum to 1). */
export type OpMix = Readonly<Partial<Record<OpKind, number>>>

/** YCSB core workloads A–F. */
export const YCSB_MIXES: Readonly<Record<"A" | "B" | "C" | "D" | "E" | "F", OpMix>> = {
  A: { read: 0.5, update: 0.5 },
  B: { read: 0.95, update: 0.05 },
  C: { read: 1 },
  D: { read: 0.95, insert: 0.05 },
  E: { scan: 0.95, insert: 0.05 },
  F: { read: 0.5, rmw: 0.5 },
}

const OP_ORDER: ReadonlyArray<OpKind> = ["read", "update", "insert", "scan", "rmw"]

/** Draws operation kinds from a mix by cumulative probability. */
export class OpChooser {
  private readonly kinds: OpKind[] = []
  private readonly cumulative: number[] = []
  constructor(readonly mix: OpMix) {
    let sum = 0
    for (const k of OP_ORDER) {
      const p = mix[k] ?? 0
      if (p < 0) throw new RangeError(`operation mix: ${k} has negative probability ${p}`)
      if (p === 0) continue
      sum += p
      this.kinds.push(k)
      this.cumulative.push(sum)
    }
    if (Math.abs(sum - 1) > 1e-9) throw new RangeError(`operation mix must sum to 1, got ${sum}`)
  }
  next(rng: Uniform): OpKind {
    const u = rng.next()
    for (let i = 0; i < this.cumulative.length; i++) if (u < this.cumulative[i]!) return this.kinds[i]!
    return this.kinds[this.kinds.length - 1]!
  }
}

/** Item size distributions, in bytes. */
export type SizeDist =
  | { readonly kind: "constant"; readonly bytes: number }
  | { readonly kind: "uniform"; readonly min: number; readonly max: number }
  | { readonly kind: "lognormal"; readonly median: number; readonly sigma: number; readonly max: number }

/** Draws an item size in whole bytes (at least 1). */
export function drawSize(dist: SizeDist, rng: Uniform): number {
  switch (dist.kind) {
    case "constant":
      return dist.bytes
    case "uniform":
      return dist.min + Math.floor(rng.next() * (dist.max - dist.min + 1))
    case "lognormal": {
      // Box–Muller from two uniforms; u1 kept away from 0.
      const u1 = 1 - rng.next()
      const u2 = rng.next()
      const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)
      const v = Math.round(dist.median * Math.exp(dist.sigma * z))
      return Math.max(1, Math.min(dist.max, v))
    }
  }
}

/** Time shapes: target request rate (ops/s) as a function of elapsed time (ms). */
export type TimeShape =
  | { readonly kind: "constant"; readonly rate: number }
  | { readonly kind: "step"; readonly steps: ReadonlyArray<{ readonly atMs: number; readonly rate: number }> }
  | {
      readonly kind: "spike"
      readonly rate: number
      readonly spikeRate: number
      readonly startMs: number
      readonly durationMs: number
    }
  | {
      readonly kind: "diurnal"
      readonly minRate: number
      readonly maxRate: number
      readonly periodMs: number
    }

/** The target rate at `elapsedMs` into a run. */
export function rateAt(shape: TimeShape, elapsedMs: number): number {
  switch (shape.kind) {
    case "constant":
      return shape.rate
    case "step": {
      let rate = 0
      for (const s of shape.steps) if (elapsedMs >= s.atMs) rate = s.rate
      return rate
    }
    case "spike":
      return elapsedMs >= shape.startMs && elapsedMs < shape.startMs + shape.durationMs
        ? shape.spikeRate
        : shape.rate
    case "diurnal": {
      const phase = (elapsedMs % shape.periodMs) / shape.periodMs
      return shape.minRate + ((shape.maxRate - shape.minRate) * (1 - Math.cos(2 * Math.PI * phase))) / 2
    }
  }
}

/**
 * Intended start times (ms) for an open-loop run: request i starts when the integral of the rate
 * reaches i. Deterministic (no jitter) so coordinated omission cannot hide in the schedule.
 * Bounded by `durationMs` and `maxOps`.
 */
export function* intendedStarts(
  shape: TimeShape,
  durationMs: number,
  maxOps: number,
  stepMs = 1,
): Generator<number> {
  let credit = 0
  let emitted = 0
  for (let t = 0; t < durationMs && emitted < maxOps; t += stepMs) {
    const r = rateAt(shape, t)
    const before = credit
    credit += (r * stepMs) / 1000
    // Spread the requests that fall within this step evenly across it.
    const whole = Math.floor(credit) - Math.floor(before)
    for (let j = 0; j < whole && emitted < maxOps; j++) {
      emitted++
      yield t + ((j + 1) / (whole + 1)) * stepMs
    }
  }
}
