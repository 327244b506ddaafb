/**
 * MD5 in plain TypeScript, tuned for short keys: no allocation per call, the 128-bit result is
 * written into a caller-supplied Uint32Array as four big-endian words (word 0 = digest bytes 0..3),
 * so comparing words in order compares digests as unsigned 128-bit numbers.
 */

/** Message words of the block being compressed (reused; single-threaded JS makes this safe). */
const X = new Int32Array(16)

/** The running digest state (a, b, c, d), kept in a typed array: no allocation, no boxed globals. */
const S = new Int32Array(4)

function loadBlock(bytes: Uint8Array, at: number): void {
  for (let i = 0; i < 16; i++) {
    const j = at + (i << 2)
    X[i] = bytes[j]! | (bytes[j + 1]! << 8) | (bytes[j + 2]! << 16) | (bytes[j + 3]! << 24)
  }
}

/** Compresses X into (A, B, C, D). Fully unrolled; every step is `b + rotl(a + f + x + t, s)`. */
function compress(): void {
  const x0 = X[0]!
  const x1 = X[1]!
  const x2 = X[2]!
  const x3 = X[3]!
  const x4 = X[4]!
  const x5 = X[5]!
  const x6 = X[6]!
  const x7 = X[7]!
  const x8 = X[8]!
  const x9 = X[9]!
  const x10 = X[10]!
  const x11 = X[11]!
  const x12 = X[12]!
  const x13 = X[13]!
  const x14 = X[14]!
  const x15 = X[15]!
  let a = S[0]!
  let b = S[1]!
  let c = S[2]!
  let d = S[3]!
  let t = 0
  // Round 1: F = (b & c) | (~b & d)
  t = (a + ((b & c) | (~b & d)) + x0 - 680876936) | 0
  a = (((t << 7) | (t >>> 25)) + b) | 0
  t = (d + ((a & b) | (~a & c)) + x1 - 389564586) | 0
  d = (((t << 12) | (t >>> 20)) + a) | 0
  t = (c + ((d & a) | (~d & b)) + x2 + 606105819) | 0
  c = (((t << 17) | (t >>> 15)) + d) | 0
  t = (b + ((c & d) | (~c & a)) + x3 - 1044525330) | 0
  b = (((t << 22) | (t >>> 10)) + c) | 0
  t = (a + ((b & c) | (~b & d)) + x4 - 176418897) | 0
  a = (((t << 7) | (t >>> 25)) + b) | 0
  t = (d + ((a & b) | (~a & c)) + x5 + 1200080426) | 0
  d = (((t << 12) | (t >>> 20)) + a) | 0
  t = (c + ((d & a) | (~d & b)) + x6 - 1473231341) | 0
  c = (((t << 17) | (t >>> 15)) + d) | 0
  t = (b + ((c & d) | (~c & a)) + x7 - 45705983) | 0
  b = (((t << 22) | (t >>> 10)) + c) | 0
  t = (a + ((b & c) | (~b & d)) + x8 + 1770035416) | 0
  a = (((t << 7) | (t >>> 25)) + b) | 0
  t = (d + ((a & b) | (~a & c)) + x9 - 1958414417) | 0
  d = (((t << 12) | (t >>> 20)) + a) | 0
  t = (c + ((d & a) | (~d & b)) + x10 - 42063) | 0
  c = (((t << 17) | (t >>> 15)) + d) | 0
  t = (b + ((c & d) | (~c & a)) + x11 - 1990404162) | 0
  b = (((t << 22) | (t >>> 10)) + c) | 0
  t = (a + ((b & c) | (~b & d)) + x12 + 1804603682) | 0
  a = (((t << 7) | (t >>> 25)) + b) | 0
  t = (d + ((a & b) | (~a & c)) + x13 - 40341101) | 0
  d = (((t << 12) | (t >>> 20)) + a) | 0
  t = (c + ((d & a) | (~d & b)) + x14 - 1502002290) | 0
  c = (((t << 17) | (t >>> 15)) + d) | 0
  t = (b + ((c & d) | (~c & a)) + x15 + 1236535329) | 0
  b = (((t << 22) | (t >>> 10)) + c) | 0
  // Round 2: G = (b & d) | (c & ~d)
  t = (a + ((b & d) | (c & ~d)) + x1 - 165796510) | 0
  a = (((t << 5) | (t >>> 27)) + b) | 0
  t = (d + ((a & c) | (b & ~c)) + x6 - 1069501632) | 0
  d = (((t << 9) | (t >>> 23)) + a) | 0
  t = (c + ((d & b) | (a & ~b)) + x11 + 643717713) | 0
  c = (((t << 14) | (t >>> 18)) + d) | 0
  t = (b + ((c & a) | (d & ~a)) + x0 - 373897302) | 0
  b = (((t << 20) | (t >>> 12)) + c) | 0
  t = (a + ((b & d) | (c & ~d)) + x5 - 701558691) | 0
  a = (((t << 5) | (t >>> 27)) + b) | 0
  t = (d + ((a & c) | (b & ~c)) + x10 + 38016083) | 0
  d = (((t << 9) | (t >>> 23)) + a) | 0
  t = (c + ((d & b) | (a & ~b)) + x15 - 660478335) | 0
  c = (((t << 14) | (t >>> 18)) + d) | 0
  t = (b + ((c & a) | (d & ~a)) + x4 - 405537848) | 0
  b = (((t << 20) | (t >>> 12)) + c) | 0
  t = (a + ((b & d) | (c & ~d)) + x9 + 568446438) | 0
  a = (((t << 5) | (t >>> 27)) + b) | 0
  t = (d + ((a & c) | (b & ~c)) + x14 - 1019803690) | 0
  d = (((t << 9) | (t >>> 23)) + a) | 0
  t = (c + ((d & b) | (a & ~b)) + x3 - 187363961) | 0
  c = (((t << 14) | (t >>> 18)) + d) | 0
  t = (b + ((c & a) | (d & ~a)) + x8 + 1163531501) | 0
  b = (((t << 20) | (t >>> 12)) + c) | 0
  t = (a + ((b & d) | (c & ~d)) + x13 - 1444681467) | 0
  a = (((t << 5) | (t >>> 27)) + b) | 0
  t = (d + ((a & c) | (b & ~c)) + x2 - 51403784) | 0
  d = (((t << 9) | (t >>> 23)) + a) | 0
  t = (c + ((d & b) | (a & ~b)) + x7 + 1735328473) | 0
  c = (((t << 14) | (t >>> 18)) + d) | 0
  t = (b + ((c & a) | (d & ~a)) + x12 - 1926607734) | 0
  b = (((t << 20) | (t >>> 12)) + c) | 0
  // Round 3: H = b ^ c ^ d
  t = (a + (b ^ c ^ d) + x5 - 378558) | 0
  a = (((t << 4) | (t >>> 28)) + b) | 0
  t = (d + (a ^ b ^ c) + x8 - 2022574463) | 0
  d = (((t << 11) | (t >>> 21)) + a) | 0
  t = (c + (d ^ a ^ b) + x11 + 1839030562) | 0
  c = (((t << 16) | (t >>> 16)) + d) | 0
  t = (b + (c ^ d ^ a) + x14 - 35309556) | 0
  b = (((t << 23) | (t >>> 9)) + c) | 0
  t = (a + (b ^ c ^ d) + x1 - 1530992060) | 0
  a = (((t << 4) | (t >>> 28)) + b) | 0
  t = (d + (a ^ b ^ c) + x4 + 1272893353) | 0
  d = (((t << 11) | (t >>> 21)) + a) | 0
  t = (c + (d ^ a ^ b) + x7 - 155497632) | 0
  c = (((t << 16) | (t >>> 16)) + d) | 0
  t = (b + (c ^ d ^ a) + x10 - 1094730640) | 0
  b = (((t << 23) | (t >>> 9)) + c) | 0
  t = (a + (b ^ c ^ d) + x13 + 681279174) | 0
  a = (((t << 4) | (t >>> 28)) + b) | 0
  t = (d + (a ^ b ^ c) + x0 - 358537222) | 0
  d = (((t << 11) | (t >>> 21)) + a) | 0
  t = (c + (d ^ a ^ b) + x3 - 722521979) | 0
  c = (((t << 16) | (t >>> 16)) + d) | 0
  t = (b + (c ^ d ^ a) + x6 + 76029189) | 0
  b = (((t << 23) | (t >>> 9)) + c) | 0
  t = (a + (b ^ c ^ d) + x9 - 640364487) | 0
  a = (((t << 4) | (t >>> 28)) + b) | 0
  t = (d + (a ^ b ^ c) + x12 - 421815835) | 0
  d = (((t << 11) | (t >>> 21)) + a) | 0
  t = (c + (d ^ a ^ b) + x15 + 530742520) | 0
  c = (((t << 16) | (t >>> 16)) + d) | 0
  t = (b + (c ^ d ^ a) + x2 - 995338651) | 0
  b = (((t << 23) | (t >>> 9)) + c) | 0
  // Round 4: I = c ^ (b | ~d)
  t = (a + (c ^ (b | ~d)) + x0 - 198630844) | 0
  a = (((t << 6) | (t >>> 26)) + b) | 0
  t = (d + (b ^ (a | ~c)) + x7 + 1126891415) | 0
  d = (((t << 10) | (t >>> 22)) + a) | 0
  t = (c + (a ^ (d | ~b)) + x14 - 1416354905) | 0
  c = (((t << 15) | (t >>> 17)) + d) | 0
  t = (b + (d ^ (c | ~a)) + x5 - 57434055) | 0
  b = (((t << 21) | (t >>> 11)) + c) | 0
  t = (a + (c ^ (b | ~d)) + x12 + 1700485571) | 0
  a = (((t << 6) | (t >>> 26)) + b) | 0
  t = (d + (b ^ (a | ~c)) + x3 - 1894986606) | 0
  d = (((t << 10) | (t >>> 22)) + a) | 0
  t = (c + (a ^ (d | ~b)) + x10 - 1051523) | 0
  c = (((t << 15) | (t >>> 17)) + d) | 0
  t = (b + (d ^ (c | ~a)) + x1 - 2054922799) | 0
  b = (((t << 21) | (t >>> 11)) + c) | 0
  t = (a + (c ^ (b | ~d)) + x8 + 1873313359) | 0
  a = (((t << 6) | (t >>> 26)) + b) | 0
  t = (d + (b ^ (a | ~c)) + x15 - 30611744) | 0
  d = (((t << 10) | (t >>> 22)) + a) | 0
  t = (c + (a ^ (d | ~b)) + x6 - 1560198380) | 0
  c = (((t << 15) | (t >>> 17)) + d) | 0
  t = (b + (d ^ (c | ~a)) + x13 + 1309151649) | 0
  b = (((t << 21) | (t >>> 11)) + c) | 0
  t = (a + (c ^ (b | ~d)) + x4 - 145523070) | 0
  a = (((t << 6) | (t >>> 26)) + b) | 0
  t = (d + (b ^ (a | ~c)) + x11 - 1120210379) | 0
  d = (((t << 10) | (t >>> 22)) + a) | 0
  t = (c + (a ^ (d | ~b)) + x2 + 718787259) | 0
  c = (((t << 15) | (t >>> 17)) + d) | 0
  t = (b + (d ^ (c | ~a)) + x9 - 343485551) | 0
  b = (((t << 21) | (t >>> 11)) + c) | 0
  S[0] = (S[0]! + a) | 0
  S[1] = (S[1]! + b) | 0
  S[2] = (S[2]! + c) | 0
  S[3] = (S[3]! + d) | 0
}

/** Byte-swaps a 32-bit word: MD5's state is little-endian, our positions are big-endian words. */
function bswap(x: number): number {
  return ((x >>> 24) | ((x >>> 8) & 0xff00) | ((x & 0xff00) << 8) | (x << 24)) >>> 0
}

/**
 * MD5 of `bytes[0..length)`, written to `out[at..at+4)` as big-endian unsigned words.
 * Allocation-free; `length` lets callers hash a prefix of a reused scratch buffer.
 */
export function md5Into(bytes: Uint8Array, length: number, out: Uint32Array, at: number): void {
  if (length >= 1 << 28) throw new RangeError("md5Into hashes keys shorter than 256 MiB")
  S[0] = 0x67452301
  S[1] = 0xefcdab89 | 0
  S[2] = 0x98badcfe | 0
  S[3] = 0x10325476
  const full = length & ~63
  for (let i = 0; i < full; i += 64) {
    loadBlock(bytes, i)
    compress()
  }
  // Last block(s): the tail bytes, 0x80, zeros, then the bit length (little-endian) in X[14..15].
  const rest = length - full
  X.fill(0)
  for (let i = 0; i < rest; i++) X[i >> 2]! |= bytes[full + i]! << ((i & 3) << 3)
  X[rest >> 2]! |= 0x80 << ((rest & 3) << 3)
  if (rest >= 56) {
    compress()
    X.fill(0)
  }
  // Keys are far below 2^29 bytes, so the bit length fits the low word.
  X[14] = length * 8
  compress()
  out[at] = bswap(S[0]!)
  out[at + 1] = bswap(S[1]!)
  out[at + 2] = bswap(S[2]!)
  out[at + 3] = bswap(S[3]!)
}
