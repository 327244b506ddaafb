/**
 * 64-bit content hashes for the Perkle store, kept as two independent 32-bit lanes so the hot
 * path never allocates (no bigint, no arrays). Lane A and lane B use different seeds and
 * multipliers; a false match needs both lanes to collide.
 */

const SEED_A = 0x9e3779b1
const SEED_B = 0x85ebca77

/** Final avalanche (murmur3 fmix32). */
export const fmix32 = (h: number): number => {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h | 0
}

/** Mixes one 32-bit word into a running lane state (murmur3 round). */
export const mixA = (h: number, k: number): number => {
  k = Math.imul(k, 0xcc9e2d51)
  k = (k << 15) | (k >>> 17)
  k = Math.imul(k, 0x1b873593)
  h ^= k
  h = (h << 13) | (h >>> 19)
  return (Math.imul(h, 5) + 0xe6546b64) | 0
}

/** Second lane: a different round so the two lanes are independent functions. */
export const mixB = (h: number, k: number): number => {
  k = Math.imul(k ^ (k >>> 15), 0x2c1b3c6d)
  k = Math.imul(k ^ (k >>> 12), 0x297a2d39)
  h = (h + k) | 0
  h = (h << 17) | (h >>> 15)
  return Math.imul(h ^ (h >>> 11), 0x27d4eb2f) | 0
}

/** Scratch output: hashBytes writes both lanes here to avoid allocating a pair. */
export const out: Int32Array = new Int32Array(2)

/** Hashes bytes[off, off+len) with a domain tag into `out[0]`, `out[1]`. */
export const hashBytes = (bytes: Uint8Array, off: number, len: number, tag: number): void => {
  let a = SEED_A ^ tag
  let b = SEED_B ^ Math.imul(tag, 0x9e3779b1)
  let i = 0
  for (; i + 4 <= len; i += 4) {
    const p = off + i
    const w = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24)
    a = mixA(a, w)
    b = mixB(b, w)
  }
  let w = 0
  for (let s = 0; i < len; i++, s += 8) w |= bytes[off + i]! << s
  a = mixA(a, w ^ len)
  b = mixB(b, w ^ len)
  out[0] = fmix32(a ^ len)
  out[1] = fmix32(b ^ Math.imul(len, 0x27d4eb2f))
}

/** Running two-lane hasher over strings and integers (content-based, no allocation). */
export class Hasher {
  a = SEED_A
  b = SEED_B
  reset(tag: number): this {
    this.a = SEED_A ^ tag
    this.b = SEED_B ^ Math.imul(tag, 0x9e3779b1)
    return this
  }
  int(n: number): this {
    // Integers up to 2^53: feed low and high 32-bit words.
    const lo = n | 0
    const hi = Math.floor(n / 4294967296) | 0
    this.a = mixA(mixA(this.a, lo), hi)
    this.b = mixB(mixB(this.b, lo), hi)
    return this
  }
  str(s: string): this {
    let a = this.a
    let b = this.b
    const n = s.length
    let i = 0
    for (; i + 2 <= n; i += 2) {
      const w = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16)
      a = mixA(a, w)
      b = mixB(b, w)
    }
    const w = i < n ? s.charCodeAt(i) : 0
    this.a = mixA(a, w ^ (n << 16))
    this.b = mixB(b, w ^ (n << 16))
    return this
  }
  lanes(la: number, lb: number): this {
    this.a = mixA(mixA(this.a, la), lb)
    this.b = mixB(mixB(this.b, lb), la)
    return this
  }
  finishA(): number {
    return fmix32(this.a)
  }
  finishB(): number {
    return fmix32(this.b ^ 0x5bd1e995)
  }
}

/** Hex rendering of a two-lane hash (16 hex digits), used as the public root form. */
export const hashHex = (a: number, b: number): string =>
  (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0")
