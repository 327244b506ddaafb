/**
 * 128-bit item hash for the incremental checksums.
 *
 * The mixing is MurmurHash3 x86_128 (Austin Appleby, public domain): 16-byte blocks, four
 * 32-bit lanes, the `fmix32` avalanche at the end. The input stream is made injective by a
 * header block `(key length, value tag, value length or number bits…)` followed by the key's
 * UTF-16 code units and the value's units/bytes, each zero-padded to a whole block. Because
 * both lengths are in the header, zero padding cannot make two different items agree.
 *
 * The result is written to `HASH_OUT` (four signed 32-bit lanes) so the hot path allocates
 * nothing. Not a cryptographic hash: see the README for what that means for collisions.
 */

const C1 = 0x239b961b
const C2 = 0xab0e9789 | 0
const C3 = 0x38b34ae5
const C4 = 0xa1e38b93 | 0

const SEED1 = 0x5a0c1e55
const SEED2 = 0x27d4eb2f
const SEED3 = 0x165667b1
const SEED4 = 0x61c88647

const TAG_STRING = 1
const TAG_BYTES = 2
const TAG_NUMBER = 3

/** Output lanes of the last `hashItem` call. */
export const HASH_OUT = new Int32Array(4)

const f64 = new Float64Array(1)
const f64Words = new Int32Array(f64.buffer)

let h1 = 0
let h2 = 0
let h3 = 0
let h4 = 0

function block(k1: number, k2: number, k3: number, k4: number): void {
  k1 = Math.imul(k1, C1)
  k1 = (k1 << 15) | (k1 >>> 17)
  k1 = Math.imul(k1, C2)
  h1 ^= k1
  h1 = (h1 << 19) | (h1 >>> 13)
  h1 = (h1 + h2) | 0
  h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0

  k2 = Math.imul(k2, C2)
  k2 = (k2 << 16) | (k2 >>> 16)
  k2 = Math.imul(k2, C3)
  h2 ^= k2
  h2 = (h2 << 17) | (h2 >>> 15)
  h2 = (h2 + h3) | 0
  h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0

  k3 = Math.imul(k3, C3)
  k3 = (k3 << 17) | (k3 >>> 15)
  k3 = Math.imul(k3, C4)
  h3 ^= k3
  h3 = (h3 << 15) | (h3 >>> 17)
  h3 = (h3 + h4) | 0
  h3 = (Math.imul(h3, 5) + 0x96cd1c35) | 0

  k4 = Math.imul(k4, C4)
  k4 = (k4 << 18) | (k4 >>> 14)
  k4 = Math.imul(k4, C1)
  h4 ^= k4
  h4 = (h4 << 13) | (h4 >>> 19)
  h4 = (h4 + h1) | 0
  h4 = (Math.imul(h4, 5) + 0x32ac3b17) | 0
}

function absorbString(s: string): void {
  const n = s.length
  let i = 0
  for (; i + 8 <= n; i += 8) {
    block(
      s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16),
      s.charCodeAt(i + 2) | (s.charCodeAt(i + 3) << 16),
      s.charCodeAt(i + 4) | (s.charCodeAt(i + 5) << 16),
      s.charCodeAt(i + 6) | (s.charCodeAt(i + 7) << 16),
    )
  }
  const r = n - i
  if (r === 0) return
  let w1 = 0
  let w2 = 0
  let w3 = 0
  let w0 = s.charCodeAt(i)
  if (r > 1) w0 |= s.charCodeAt(i + 1) << 16
  if (r > 2) w1 = s.charCodeAt(i + 2)
  if (r > 3) w1 |= s.charCodeAt(i + 3) << 16
  if (r > 4) w2 = s.charCodeAt(i + 4)
  if (r > 5) w2 |= s.charCodeAt(i + 5) << 16
  if (r > 6) w3 = s.charCodeAt(i + 6)
  block(w0, w1, w2, w3)
}

function word(b: Uint8Array, i: number, n: number): number {
  if (i + 4 <= n) return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)
  let w = 0
  for (let j = 0; i + j < n; j++) w |= b[i + j]! << (8 * j)
  return w
}

function absorbBytes(b: Uint8Array): void {
  const n = b.length
  for (let i = 0; i < n; i += 16) {
    block(word(b, i, n), word(b, i + 4, n), word(b, i + 8, n), word(b, i + 12, n))
  }
}

function fmix(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b | 0)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35 | 0)
  h ^= h >>> 16
  return h
}

function finish(len: number): void {
  h1 ^= len
  h2 ^= len
  h3 ^= len
  h4 ^= len
  h1 = (h1 + h2) | 0
  h1 = (h1 + h3) | 0
  h1 = (h1 + h4) | 0
  h2 = (h2 + h1) | 0
  h3 = (h3 + h1) | 0
  h4 = (h4 + h1) | 0
  h1 = fmix(h1)
  h2 = fmix(h2)
  h3 = fmix(h3)
  h4 = fmix(h4)
  h1 = (h1 + h2) | 0
  h1 = (h1 + h3) | 0
  h1 = (h1 + h4) | 0
  h2 = (h2 + h1) | 0
  h3 = (h3 + h1) | 0
  h4 = (h4 + h1) | 0
  HASH_OUT[0] = h1
  HASH_OUT[1] = h2
  HASH_OUT[2] = h3
  HASH_OUT[3] = h4
}

/** What a value contributes to its item hash: code units, bytes, or a float64. */
export type DigestInput = string | Uint8Array | number

/** Hashes one (key, value digest) item into `HASH_OUT`. */
export function hashItem(key: string, v: DigestInput): void {
  h1 = SEED1
  h2 = SEED2
  h3 = SEED3
  h4 = SEED4
  const kl = key.length
  if (typeof v === "string") {
    block(kl, TAG_STRING, v.length, 0)
    absorbString(key)
    absorbString(v)
    finish(kl + v.length)
  } else if (typeof v === "number") {
    f64[0] = v
    block(kl, TAG_NUMBER, f64Words[0]!, f64Words[1]!)
    absorbString(key)
    finish(kl + 4)
  } else {
    block(kl, TAG_BYTES, v.length, 0)
    absorbString(key)
    absorbBytes(v)
    finish(kl + v.length)
  }
}
