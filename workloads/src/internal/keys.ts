/**
 * Key choosers: each returns a key index in [0, keyCount) from a uniform random source.
 * They are plain classes with no allocation per draw, so a load generator can draw millions a second.
 */

/** A source of uniform doubles in [0, 1). The sim kit's seeded PRNG satisfies it. */
export interface Uniform {
  next(): number
}

/** Chooses key indexes. `insert()` tells choosers that track the newest key (latest, sequential). */
export interface KeyChooser {
  readonly keyCount: number
  next(rng: Uniform): number
  insert?(): number
}

/** Every key equally likely. */
export class UniformKeys implements KeyChooser {
  constructor(readonly keyCount: number) {
    assertKeyCount(keyCount)
  }
  next(rng: Uniform): number {
    return Math.floor(rng.next() * this.keyCount)
  }
}

/** Keys 0, 1, 2, … in order, wrapping around. */
export class SequentialKeys implements KeyChooser {
  private cursor = 0
  constructor(readonly keyCount: number) {
    assertKeyCount(keyCount)
  }
  next(_rng: Uniform): number {
    const k = this.cursor
    this.cursor = (this.cursor + 1) % this.keyCount
    return k
  }
}

/** `hotOpFraction` of operations go to the first `hotKeyFraction` of the key space ("x % of traffic on y % of keys"). */
export class HotspotKeys implements KeyChooser {
  private readonly hotKeys: number
  constructor(
    readonly keyCount: number,
    readonly hotKeyFraction: number,
    readonly hotOpFraction: number,
  ) {
    assertKeyCount(keyCount)
    assertFraction(hotKeyFraction, "hotKeyFraction")
    assertFraction(hotOpFraction, "hotOpFraction")
    this.hotKeys = Math.max(1, Math.floor(keyCount * hotKeyFraction))
  }
  next(rng: Uniform): number {
    if (rng.next() < this.hotOpFraction || this.hotKeys >= this.keyCount) {
      return Math.floor(rng.next() * this.hotKeys)
    }
    return this.hotKeys + Math.floor(rng.next() * (this.keyCount - this.hotKeys))
  }
}

/** One key (index 0) takes `hotFraction` of operations; the rest are uniform over all keys. */
export class SingleHotKey implements KeyChooser {
  constructor(
    readonly keyCount: number,
    readonly hotFraction: number,
  ) {
    assertKeyCount(keyCount)
    assertFraction(hotFraction, "hotFraction")
  }
  next(rng: Uniform): number {
    return rng.next() < this.hotFraction ? 0 : Math.floor(rng.next() * this.keyCount)
  }
}

/** Generalised harmonic number: sum over i in [1, n] of 1 / i^theta. */
export function zeta(n: number, theta: number): number {
  let sum = 0
  for (let i = 1; i <= n; i++) sum += 1 / i ** theta
  return sum
}

/**
 * Zipfian key popularity: rank 0 is the most popular, P(rank k) = (1 / (k + 1)^theta) / zeta(n, theta).
 * Sampled exactly by inverse CDF (a Float64Array of cumulative probabilities and a binary search:
 * O(log n) per draw, 8 bytes per key). YCSB's constant-time approximation (Gray et al.) is exact only
 * for the two hottest ranks and fails a chi-square test on the rest, so we do not use it.
 */
export class ZipfianKeys implements KeyChooser {
  readonly zetan: number
  private readonly cdf: Float64Array
  constructor(
    readonly keyCount: number,
    readonly theta = 0.99,
  ) {
    assertKeyCount(keyCount)
    if (!(theta > 0 && theta < 1)) throw new RangeError(`zipfian theta must be in (0, 1), got ${theta}`)
    const cdf = new Float64Array(keyCount)
    let sum = 0
    for (let i = 0; i < keyCount; i++) {
      sum += 1 / (i + 1) ** theta
      cdf[i] = sum
    }
    for (let i = 0; i < keyCount; i++) cdf[i] = cdf[i]! / sum
    cdf[keyCount - 1] = 1
    this.zetan = sum
    this.cdf = cdf
  }
  next(rng: Uniform): number {
    const u = rng.next()
    const cdf = this.cdf
    let lo = 0
    let hi = cdf.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (cdf[mid]! > u) hi = mid
      else lo = mid + 1
    }
    return lo
  }
  /** Probability of rank k (0-based). */
  probability(k: number): number {
    return 1 / (k + 1) ** this.theta / this.zetan
  }
}

/** FNV-1a over the 4 little-endian bytes of a 32-bit value, twice mixed; used to scatter ranks. */
export function scramble32(x: number): number {
  let h = 0x811c9dc5
  for (let i = 0; i < 4; i++) {
    h ^= (x >>> (i * 8)) & 0xff
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  return h >>> 0
}

/**
 * YCSB's scrambled Zipfian: Zipfian popularity, but the popular keys are scattered over the key
 * space instead of clustered at the start (so they land in different partitions). The rank→key
 * map is a seeded-free bijection (a permutation built once), so no two ranks share a key.
 */
export class ScrambledZipfianKeys implements KeyChooser {
  private readonly zipf: ZipfianKeys
  private readonly permutation: Uint32Array
  constructor(
    readonly keyCount: number,
    readonly theta = 0.99,
  ) {
    this.zipf = new ZipfianKeys(keyCount, theta)
    // Sort indexes by their scrambled hash: a fixed permutation that spreads ranks over the space.
    const order = new Uint32Array(keyCount)
    const hashes = new Uint32Array(keyCount)
    for (let i = 0; i < keyCount; i++) {
      order[i] = i
      hashes[i] = scramble32(i)
    }
    order.sort((a, b) => hashes[a]! - hashes[b]! || a - b)
    this.permutation = order
  }
  next(rng: Uniform): number {
    return this.permutation[this.zipf.next(rng)]!
  }
  /** The key index that has popularity rank `rank` (0 = hottest). */
  keyOfRank(rank: number): number {
    return this.permutation[rank]!
  }
}

/**
 * YCSB's "latest": Zipfian over recency, so the most recently inserted keys are the hottest.
 * `insert()` appends a new key and returns its index.
 */
export class LatestKeys implements KeyChooser {
  private readonly zipf: ZipfianKeys
  private newest: number
  constructor(
    public keyCount: number,
    readonly theta = 0.99,
    readonly capacity = keyCount * 2,
  ) {
    this.zipf = new ZipfianKeys(capacity, theta)
    this.newest = keyCount - 1
  }
  next(rng: Uniform): number {
    let r = this.zipf.next(rng)
    if (r > this.newest) r = r % (this.newest + 1)
    return this.newest - r
  }
  insert(): number {
    this.newest++
    this.keyCount = this.newest + 1
    return this.newest
  }
}

function assertKeyCount(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`keyCount must be a positive integer, got ${n}`)
}
function assertFraction(x: number, name: string): void {
  if (!(x >= 0 && x <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${x}`)
}
