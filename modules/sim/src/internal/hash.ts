/**
 * Small 32-bit hashing helpers shared by the PRNG seeding, the trace hash, buggify and the checker.
 * Plain integer arithmetic (Math.imul), so results are identical on every runtime.
 */

/** SplitMix32 finaliser (Hash Prospector's low-bias constants): a bijective 32-bit mixer. */
export const mix32 = (x: number): number => {
  x ^= x >>> 16
  x = Math.imul(x, 0x21f0aaad)
  x ^= x >>> 15
  x = Math.imul(x, 0x735a2d97)
  x ^= x >>> 15
  return x >>> 0
}

/** FNV-1a over UTF-16 code units, finalised with mix32. */
export const hashString32 = (s: string, seed = 0x811c9dc5): number => {
  let h = seed >>> 0
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return mix32(h ^ s.length)
}

/** Combine two 32-bit hashes (order-sensitive). */
export const combine32 = (a: number, b: number): number =>
  mix32((Math.imul(a, 0x9e3779b1) + b + 0x7f4a7c15) >>> 0)

const f64 = new Float64Array(1)
const u32 = new Uint32Array(f64.buffer)

/** Hash any JS number exactly (integers in u32 range fast, other values by their IEEE-754 bits). */
export const hashNumber32 = (x: number): number => {
  if (x >>> 0 === x) return mix32(x ^ 0x5bd1e995)
  f64[0] = x
  return combine32(u32[0]!, u32[1]!)
}
