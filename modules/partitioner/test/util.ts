/** Seeded helpers for tests (no ambient randomness: runs are reproducible from their seed). */

/** mulberry32: a small seeded generator of floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Uniform integer in [0, n). */
export function int(r: () => number, n: number): number {
  return Math.floor(r() * n)
}

/** Uniform bigint in [lo, hi). */
export function bigBetween(r: () => number, lo: bigint, hi: bigint): bigint {
  const span = hi - lo
  let x = 0n
  for (let i = 0; i < 5; i++) x = (x << 32n) | BigInt(Math.floor(r() * 4294967296))
  return lo + (x % span)
}

/** A Zipfian sampler over ranks 0..n-1 with exponent theta (rank 0 most popular). */
export function zipf(r: () => number, n: number, theta: number): () => number {
  const cdf = new Float64Array(n)
  let sum = 0
  for (let i = 0; i < n; i++) {
    sum += 1 / (i + 1) ** theta
    cdf[i] = sum
  }
  for (let i = 0; i < n; i++) cdf[i] = cdf[i]! / sum
  return () => {
    const u = r()
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (cdf[mid]! < u) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
