/**
 * 128-bit item hash for the incremental checksums.
 *
 * The mixing is MurmurHash3 x86_128 (Austin Appleby, public domain): 16-byte blocks, four
 * 32-bit lanes, the `fmix32` avalanche at the end. The input stream is made injective by
 * length-prefixing: a block `(key length, key tag)`, the key's UTF-16 code units zero-padded
 * to whole blocks, then a block `(value tag, value length | float64 bits)` and the value's
 * units/bytes, zero-padded. Each length precedes its data, so padding cannot make two
 * different items agree.
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

/** Output of the last `hashItem` call: lanes 0..3, and [4] = 1 when the key is all ASCII. */
export const HASH_OUT = new Int32Array(5)

const f64 = new Float64Array(1)
const f64Words = new Int32Array(f64.buffer)

/** Hash state between absorb calls: h1..h4. */
const ST = new Int32Array(4)

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r))
}

/** Absorbs one 16-byte block (k1..k4) into ST. Kept small so the JIT inlines it. */
function block(k1: number, k2: number, k3: number, k4: number): void {
  let h1 = ST[0]!
  let h2 = ST[1]!
  let h3 = ST[2]!
  let h4 = ST[3]!
  h1 ^= Math.imul(rotl(Math.imul(k1, C1), 15), C2)
  h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0
  h2 ^= Math.imul(rotl(Math.imul(k2, C2), 16), C3)
  h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0
  h3 ^= Math.imul(rotl(Math.imul(k3, C3), 17), C4)
  h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0
  h4 ^= Math.imul(rotl(Math.imul(k4, C4), 18), C1)
  h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0
  ST[0] = h1
  ST[1] = h2
  ST[2] = h3
  ST[3] = h4
}

/** Absorbs a string's UTF-16 code units, zero-padded to whole blocks; returns their bitwise OR. */
function absorbString(s: string): number {
  const n = s.length
  let or = 0
  let h1 = ST[0]!
  let h2 = ST[1]!
  let h3 = ST[2]!
  let h4 = ST[3]!
  let i = 0
  while (i < n) {
    let k1: number
    let k2: number
    let k3: number
    let k4: number
    if (i + 8 <= n) {
      k1 = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16)
      k2 = s.charCodeAt(i + 2) | (s.charCodeAt(i + 3) << 16)
      k3 = s.charCodeAt(i + 4) | (s.charCodeAt(i + 5) << 16)
      k4 = s.charCodeAt(i + 6) | (s.charCodeAt(i + 7) << 16)
    } else {
      const r = n - i
      k1 = s.charCodeAt(i)
      k2 = 0
      k3 = 0
      k4 = 0
      if (r > 1) k1 |= s.charCodeAt(i + 1) << 16
      if (r > 2) k2 = s.charCodeAt(i + 2)
      if (r > 3) k2 |= s.charCodeAt(i + 3) << 16
      if (r > 4) k3 = s.charCodeAt(i + 4)
      if (r > 5) k3 |= s.charCodeAt(i + 5) << 16
      if (r > 6) k4 = s.charCodeAt(i + 6)
    }
    i += 8
    or |= k1 | k2 | k3 | k4
    h1 ^= Math.imul(rotl(Math.imul(k1, C1), 15), C2)
    h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0
    h2 ^= Math.imul(rotl(Math.imul(k2, C2), 16), C3)
    h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0
    h3 ^= Math.imul(rotl(Math.imul(k3, C3), 17), C4)
    h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0
    h4 ^= Math.imul(rotl(Math.imul(k4, C4), 18), C1)
    h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0
  }
  ST[0] = h1
  ST[1] = h2
  ST[2] = h3
  ST[3] = h4
  return or
}

function word(b: Uint8Array, i: number, n: number): number {
  if (i + 4 <= n) return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)
  let w = 0
  for (let j = 0; i + j < n; j++) w |= b[i + j]! << (8 * j)
  return w
}

/**
 * Absorbs bytes, little-endian words, zero-padded to whole blocks. The whole blocks run with the
 * state in locals (as `absorbString` does): calling `block` per 16 bytes loaded and stored the
 * state through `ST` each time, a third of the cost of hashing a 1 KB value.
 */
function absorbBytes(b: Uint8Array, from: number): void {
  // The bytes b[from..]: blocks start at `from`, so a range hashes as the same bytes alone would.
  const n = b.length
  const whole = from + ((n - from) & ~15)
  let h1 = ST[0]!
  let h2 = ST[1]!
  let h3 = ST[2]!
  let h4 = ST[3]!
  for (let i = from; i < whole; i += 16) {
    const k1 = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)
    const k2 = b[i + 4]! | (b[i + 5]! << 8) | (b[i + 6]! << 16) | (b[i + 7]! << 24)
    const k3 = b[i + 8]! | (b[i + 9]! << 8) | (b[i + 10]! << 16) | (b[i + 11]! << 24)
    const k4 = b[i + 12]! | (b[i + 13]! << 8) | (b[i + 14]! << 16) | (b[i + 15]! << 24)
    h1 ^= Math.imul(rotl(Math.imul(k1, C1), 15), C2)
    h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0
    h2 ^= Math.imul(rotl(Math.imul(k2, C2), 16), C3)
    h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0
    h3 ^= Math.imul(rotl(Math.imul(k3, C3), 17), C4)
    h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0
    h4 ^= Math.imul(rotl(Math.imul(k4, C4), 18), C1)
    h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0
  }
  ST[0] = h1
  ST[1] = h2
  ST[2] = h3
  ST[3] = h4
  if (whole < n)
    block(word(b, whole, n), word(b, whole + 4, n), word(b, whole + 8, n), word(b, whole + 12, n))
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
  let h1 = ST[0]! ^ len
  let h2 = ST[1]! ^ len
  let h3 = ST[2]! ^ len
  let h4 = ST[3]! ^ len
  h1 = (h1 + h2 + h3 + h4) | 0
  h2 = (h2 + h1) | 0
  h3 = (h3 + h1) | 0
  h4 = (h4 + h1) | 0
  h1 = fmix(h1)
  h2 = fmix(h2)
  h3 = fmix(h3)
  h4 = fmix(h4)
  h1 = (h1 + h2 + h3 + h4) | 0
  HASH_OUT[0] = h1
  HASH_OUT[1] = (h2 + h1) | 0
  HASH_OUT[2] = (h3 + h1) | 0
  HASH_OUT[3] = (h4 + h1) | 0
}

/**
 * The bytes of `rangeData` from `rangeStart` to its end, hashed exactly as a `Uint8Array` holding
 * only them would be. A value can name a stretch of a larger array this way (a replica's item body
 * inside its log entry) without a view: in JavaScriptCore a `subarray` view gives the array an
 * `ArrayBuffer` of its own, which every full collection then walks while the program is stopped.
 */
export interface ByteRange {
  readonly rangeData: Uint8Array
  readonly rangeStart: number
}

/** What a value contributes to its item hash: code units, bytes (whole or a range), or a float64. */
export type DigestInput = string | Uint8Array | ByteRange | number

const TAG_KEY = 0x4b4559
const KEY_ST = new Int32Array(4)
let keyUnits = 0

/**
 * Absorbs the key part of an item hash and remembers it, so `hashValue` can complete the hash
 * for several values of one key (an overwrite hashes the old and the new item). Sets
 * `HASH_OUT[4]` to 1 when the key is all ASCII.
 */
export function hashKey(key: string): void {
  ST[0] = SEED1
  ST[1] = SEED2
  ST[2] = SEED3
  ST[3] = SEED4
  const kl = key.length
  block(kl, TAG_KEY, 0, 0)
  const or = absorbString(key)
  KEY_ST[0] = ST[0]!
  KEY_ST[1] = ST[1]!
  KEY_ST[2] = ST[2]!
  KEY_ST[3] = ST[3]!
  keyUnits = kl
  HASH_OUT[4] = (or & 0xff80ff80) === 0 ? 1 : 0
}

/** Completes the item hash of the last `hashKey` key with value digest `v` into `HASH_OUT[0..3]`. */
export function hashValue(v: DigestInput): void {
  ST[0] = KEY_ST[0]!
  ST[1] = KEY_ST[1]!
  ST[2] = KEY_ST[2]!
  ST[3] = KEY_ST[3]!
  if (typeof v === "string") {
    block(TAG_STRING, v.length, 0, 0)
    absorbString(v)
    finish(keyUnits + v.length)
  } else if (typeof v === "number") {
    f64[0] = v
    block(TAG_NUMBER, f64Words[0]!, f64Words[1]!, 0)
    finish(keyUnits + 4)
  } else if (v instanceof Uint8Array) {
    block(TAG_BYTES, v.length, 0, 0)
    absorbBytes(v, 0)
    finish(keyUnits + v.length)
  } else {
    const b = v.rangeData
    const n = b.length - v.rangeStart
    block(TAG_BYTES, n, 0, 0)
    absorbBytes(b, v.rangeStart)
    finish(keyUnits + n)
  }
}

/** Hashes one (key, value digest) item into `HASH_OUT` (lanes 0..3, ASCII flag 4). */
export function hashItem(key: string, v: DigestInput): void {
  hashKey(key)
  hashValue(v)
}
