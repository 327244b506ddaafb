/**
 * Seeded pseudo-random number generation: xoshiro128** (Blackman & Vigna, 2018) seeded via
 * SplitMix32, plus the distributions a simulation needs. Plain TypeScript with `Math.imul`, no
 * allocation per draw, identical streams on Bun, Deno and Node.
 */
import { hashString32, mix32 } from "./internal/hash.ts"

/** A seed: an integer (any safe integer, negative allowed) or a string (hashed). */
export type Seed = number | string

const TWO_POW_32 = 4294967296
const INV_TWO_POW_32 = 1 / TWO_POW_32
const INV_TWO_POW_53 = 1 / 9007199254740992

/** Split a seed into two 32-bit words. Integers use their low/high halves; strings are hashed twice. */
const seedWords = (seed: Seed): readonly [number, number] => {
  if (typeof seed === "string") return [hashString32(seed, 0x811c9dc5), hashString32(seed, 0x1b873593)]
  if (!Number.isSafeInteger(seed)) throw new RangeError(`Prng seed must be a safe integer or string: ${seed}`)
  const neg = seed < 0
  const abs = Math.abs(seed)
  const lo = abs >>> 0
  const hi = Math.floor(abs / TWO_POW_32) >>> 0
  return [lo, neg ? ~hi >>> 0 : hi]
}

/**
 * xoshiro128** generator. `fork(label)` derives an independent generator from this one's *seed* and the
 * label (not from how far this one has advanced), so adding draws in one component never shifts another
 * component's stream.
 */
export class Prng {
  private s0: number
  private s1: number
  private s2: number
  private s3: number
  private spare = Number.NaN
  /** The two 32-bit words this generator was seeded from (used by `fork`). */
  readonly seedLo: number
  readonly seedHi: number

  /** Create a generator from a seed (number or string) or two explicit 32-bit seed words. */
  constructor(seed: Seed | { readonly lo: number; readonly hi: number } = 0) {
    const [lo, hi] = typeof seed === "object" ? [seed.lo >>> 0, seed.hi >>> 0] : seedWords(seed)
    this.seedLo = lo
    this.seedHi = hi
    // SplitMix32 stream over (lo, hi): four outputs seed the four state words.
    let sm = lo
    const next = (): number => {
      sm = (sm + 0x9e3779b9) >>> 0
      return mix32(sm ^ mix32(hi + 0x632be5ab))
    }
    this.s0 = next()
    this.s1 = next()
    this.s2 = next()
    this.s3 = next()
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1 // the all-zero state is a fixed point
  }

  /** A generator from two explicit 32-bit seed words. */
  static fromWords(lo: number, hi: number): Prng {
    return new Prng({ lo, hi })
  }

  /** Next uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    const s1 = this.s1
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0
    const t = s1 << 9
    this.s2 ^= this.s0
    this.s3 ^= s1
    this.s1 ^= this.s2
    this.s0 ^= this.s3
    this.s2 ^= t
    this.s3 = rotl(this.s3, 11)
    return r
  }

  /** Uniform float in [0, 1) with 32 bits of resolution (fast path). */
  next(): number {
    return this.nextU32() * INV_TWO_POW_32
  }

  /** Uniform float in [0, 1) with the full 53 bits of resolution (two draws). */
  next53(): number {
    const a = this.nextU32() >>> 5
    const b = this.nextU32() >>> 6
    return (a * 67108864 + b) * INV_TWO_POW_53
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). `n` must be a positive safe integer. */
  int(n: number): number {
    if (!(n > 0) || !Number.isSafeInteger(n)) throw new RangeError(`Prng.int: bad bound ${n}`)
    if (n <= TWO_POW_32) {
      const limit = TWO_POW_32 - (TWO_POW_32 % n)
      for (;;) {
        const x = this.nextU32()
        if (x < limit) return x % n
      }
    }
    return Math.floor(this.next53() * n)
  }

  /** Uniform integer in [lo, hi] (both inclusive). */
  range(lo: number, hi: number): number {
    if (hi < lo) throw new RangeError(`Prng.range: hi ${hi} < lo ${lo}`)
    return lo + this.int(hi - lo + 1)
  }

  /** Uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next()
  }

  /** True with probability `p` (default 1/2). */
  bool(p = 0.5): boolean {
    return this.next() < p
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<A>(items: ReadonlyArray<A>): A {
    if (items.length === 0) throw new RangeError("Prng.pick: empty array")
    return items[this.int(items.length)]!
  }

  /** Index chosen with probability proportional to `weights[i]` (non-negative, not all zero). */
  weighted(weights: ReadonlyArray<number>): number {
    let total = 0
    for (const w of weights) total += w
    if (!(total > 0)) throw new RangeError("Prng.weighted: weights must sum to > 0")
    let x = this.next() * total
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i]!
      if (x < 0) return i
    }
    return weights.length - 1
  }

  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<A>(items: A[]): A[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const t = items[i]!
      items[i] = items[j]!
      items[j] = t
    }
    return items
  }

  /** Exponential variate with the given mean (e.g. inter-arrival times of a Poisson process). */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next53())
  }

  /** Normal variate (Box–Muller, the second value of each pair is kept for the next call). */
  normal(mean = 0, stddev = 1): number {
    if (!Number.isNaN(this.spare)) {
      const z = this.spare
      this.spare = Number.NaN
      return mean + stddev * z
    }
    let u = 0
    while (u === 0) u = this.next53()
    const v = this.next53()
    const r = Math.sqrt(-2 * Math.log(u))
    this.spare = r * Math.sin(2 * Math.PI * v)
    return mean + stddev * r * Math.cos(2 * Math.PI * v)
  }

  /** Log-normal variate parameterised by its median and the sigma of the underlying normal. */
  lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal())
  }

  /** Pareto variate with scale `xm` and shape `alpha`. */
  pareto(xm: number, alpha: number): number {
    return xm / (1 - this.next53()) ** (1 / alpha)
  }

  /** Independent generator derived from this generator's seed and `label` (see class doc). */
  fork(label: string | number): Prng {
    const l = typeof label === "number" ? mix32(label >>> 0) : hashString32(label)
    const lo = mix32(this.seedLo ^ l) ^ mix32(l + 0x2545f491)
    const hi = mix32(this.seedHi + 0x9e3779b9) ^ mix32(l ^ 0x68e31da4)
    return Prng.fromWords(lo >>> 0, hi >>> 0)
  }

  /** Snapshot of the internal state (to resume a stream later with `restore`). */
  state(): readonly [number, number, number, number] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0]
  }

  /** Restore a snapshot taken with `state()`. */
  restore(s: readonly [number, number, number, number]): void {
    ;[this.s0, this.s1, this.s2, this.s3] = s
    this.spare = Number.NaN
  }
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k))

/**
 * Zipf(n, s) sampler over ranks 0..n-1 (rank 0 most popular), built once (O(n) table), O(log n) per draw.
 * Used for skewed key popularity.
 */
export class Zipf {
  private readonly cdf: Float64Array

  /** Build the table for `n` items with exponent `s` (YCSB uses 0.99). */
  constructor(
    readonly n: number,
    readonly s: number,
  ) {
    if (!(n >= 1) || !Number.isSafeInteger(n)) throw new RangeError(`Zipf: bad n ${n}`)
    this.cdf = new Float64Array(n)
    let total = 0
    for (let i = 0; i < n; i++) {
      total += 1 / (i + 1) ** s
      this.cdf[i] = total
    }
    for (let i = 0; i < n; i++) this.cdf[i] = this.cdf[i]! / total
  }

  /** Draw a rank in [0, n). */
  sample(prng: Prng): number {
    const u = prng.next53()
    let lo = 0
    let hi = this.n - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.cdf[mid]! > u) hi = mid
      else lo = mid + 1
    }
    return lo
  }
}
