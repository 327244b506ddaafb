/**
 * MurmurHash3 x86_128 (Austin Appleby, public domain) in plain TypeScript with Math.imul.
 * Allocation-free; the four 32-bit lanes h1..h4 are written to `out[at..at+4)` in that order and
 * read as one big-endian 128-bit number (h1 most significant).
 */

const C1 = 0x239b961b
const C2 = 0xab0e9789 | 0
const C3 = 0x38b34ae5
const C4 = 0xa1e38b93 | 0

function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h
}

/** MurmurHash3 x86_128 of `bytes[0..length)` with `seed`, into `out[at..at+4)`. */
export function murmur3Into(bytes: Uint8Array, length: number, out: Uint32Array, at: number, seed = 0): void {
  let h1 = seed | 0
  let h2 = h1
  let h3 = h1
  let h4 = h1
  const full = length & ~15
  let k1 = 0
  let k2 = 0
  let k3 = 0
  let k4 = 0
  for (let i = 0; i < full; i += 16) {
    k1 = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)
    k2 = bytes[i + 4]! | (bytes[i + 5]! << 8) | (bytes[i + 6]! << 16) | (bytes[i + 7]! << 24)
    k3 = bytes[i + 8]! | (bytes[i + 9]! << 8) | (bytes[i + 10]! << 16) | (bytes[i + 11]! << 24)
    k4 = bytes[i + 12]! | (bytes[i + 13]! << 8) | (bytes[i + 14]! << 16) | (bytes[i + 15]! << 24)

    k1 = Math.imul(k1, C1)
    k1 = (k1 << 15) | (k1 >>> 17)
    h1 ^= Math.imul(k1, C2)
    h1 = (h1 << 19) | (h1 >>> 13)
    h1 = (h1 + h2) | 0
    h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0

    k2 = Math.imul(k2, C2)
    k2 = (k2 << 16) | (k2 >>> 16)
    h2 ^= Math.imul(k2, C3)
    h2 = (h2 << 17) | (h2 >>> 15)
    h2 = (h2 + h3) | 0
    h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0

    k3 = Math.imul(k3, C3)
    k3 = (k3 << 17) | (k3 >>> 15)
    h3 ^= Math.imul(k3, C4)
    h3 = (h3 << 15) | (h3 >>> 17)
    h3 = (h3 + h4) | 0
    h3 = (Math.imul(h3, 5) + 0x96cd1c35) | 0

    k4 = Math.imul(k4, C4)
    k4 = (k4 << 18) | (k4 >>> 14)
    h4 ^= Math.imul(k4, C1)
    h4 = (h4 << 13) | (h4 >>> 19)
    h4 = (h4 + h1) | 0
    h4 = (Math.imul(h4, 5) + 0x32ac3b17) | 0
  }
  // Tail: up to 15 bytes, little-endian into k1..k4 (the reference's fall-through switch).
  const rest = length & 15
  k1 = 0
  k2 = 0
  k3 = 0
  k4 = 0
  for (let j = rest - 1; j >= 0; j--) {
    const v = bytes[full + j]!
    const shift = (j & 3) << 3
    if (j >= 12) k4 |= v << shift
    else if (j >= 8) k3 |= v << shift
    else if (j >= 4) k2 |= v << shift
    else k1 |= v << shift
  }
  if (rest > 12) {
    k4 = Math.imul(k4, C4)
    k4 = (k4 << 18) | (k4 >>> 14)
    h4 ^= Math.imul(k4, C1)
  }
  if (rest > 8) {
    k3 = Math.imul(k3, C3)
    k3 = (k3 << 17) | (k3 >>> 15)
    h3 ^= Math.imul(k3, C4)
  }
  if (rest > 4) {
    k2 = Math.imul(k2, C2)
    k2 = (k2 << 16) | (k2 >>> 16)
    h2 ^= Math.imul(k2, C3)
  }
  if (rest > 0) {
    k1 = Math.imul(k1, C1)
    k1 = (k1 << 15) | (k1 >>> 17)
    h1 ^= Math.imul(k1, C2)
  }
  h1 ^= length
  h2 ^= length
  h3 ^= length
  h4 ^= length
  h1 = (h1 + h2 + h3 + h4) | 0
  h2 = (h2 + h1) | 0
  h3 = (h3 + h1) | 0
  h4 = (h4 + h1) | 0
  h1 = fmix32(h1)
  h2 = fmix32(h2)
  h3 = fmix32(h3)
  h4 = fmix32(h4)
  h1 = (h1 + h2 + h3 + h4) | 0
  h2 = (h2 + h1) | 0
  h3 = (h3 + h1) | 0
  h4 = (h4 + h1) | 0
  out[at] = h1
  out[at + 1] = h2
  out[at + 2] = h3
  out[at + 3] = h4
}
