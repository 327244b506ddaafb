/**
 * The order-preserving key codec. An encoding is a JS string compared by UTF-16 code units
 * (JS `<`). Layout (u = one UTF-16 code unit):
 *
 * S  open:      each code unit c of the string mapped by m(c): c < D800 → c; c ≥ E000 → c − 0800;
 *               surrogates D800–DFFF → c + 2000. Code-unit order of m(s) = code-point order of s =
 *               UTF-8 byte order of s. No character outside D800–FFFF changes, so an ASCII key encodes
 *               as itself.
 * B  open:      one unit per byte (0x00–0xFF): unsigned byte order.
 * S/B delimited (partition key): the open form with unit 0000 escaped as [0000 0001], then the
 *               terminator [0000 0000], which sorts below any continuation.
 * N  (always self-delimiting): zero = [4000]. Positive = [4001 + (e + 130)] then one unit per
 *               group of 4 digits (last group padded with zeros on the right) holding 1 + group, then
 *               terminator 0000. Negative = [3FFF − (e + 130)] then 10000 − group per group, then
 *               terminator 2711 (10001). e is the exponent of the first significant digit (−130…125).
 *
 * A composite key is delimited(partition key) ++ open(sort key): all items of one partition key are
 * contiguous and ordered by sort key, and open(S) / open(B) preserve prefixes (for begins_with).
 */
import type { AttributeValue, KeyType } from "../AttributeValue.ts"
import { type Decimal, formatDecimal, parseDecimal } from "./decimal.ts"

const NUM_ZERO = 0x4000
const NUM_EXP_BIAS = 130
const NUM_POS_TERMINATOR = 0
const NUM_NEG_TERMINATOR = 10001
const GROUP_DIGITS = 4
const CHUNK_UNITS = 4096

const buf = new Uint16Array(CHUNK_UNITS)

/** Collects code units into a string through a reused buffer, in chunks. */
class Builder {
  private out = ""
  private n = 0
  constructor(prefix: string) {
    this.out = prefix
  }
  push(u: number): void {
    if (this.n === CHUNK_UNITS) this.flush()
    buf[this.n++] = u
  }
  flush(): void {
    if (this.n > 0)
      this.out += String.fromCharCode.apply(null, buf.subarray(0, this.n) as unknown as number[])
    this.n = 0
  }
  done(): string {
    this.flush()
    return this.out
  }
}

const mapUnit = (c: number): number => (c < 0xd800 ? c : c >= 0xe000 ? c - 0x800 : c + 0x2000)
const unmapUnit = (m: number): number => (m < 0xd800 ? m : m >= 0xf800 ? m - 0x2000 : m + 0x800)

/** Encodes a string key value (open form when `delimited` is false). */
export const encodeString = (s: string, delimited: boolean): string => {
  const n = s.length
  let i = 0
  for (; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 || c === 0) break
  }
  if (i === n) return delimited ? s + "\u0000\u0000" : s
  const b = new Builder(s.slice(0, i))
  for (; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c === 0 && delimited) {
      b.push(0)
      b.push(1)
    } else b.push(mapUnit(c))
  }
  if (delimited) {
    b.push(0)
    b.push(0)
  }
  return b.done()
}

/** Encodes a binary key value. */
export const encodeBinary = (bytes: Uint8Array, delimited: boolean): string => {
  const b = new Builder("")
  for (let i = 0; i < bytes.length; i++) {
    const x = bytes[i]!
    b.push(x)
    if (x === 0 && delimited) b.push(1)
  }
  if (delimited) {
    b.push(0)
    b.push(0)
  }
  return b.done()
}

/** Encodes a parsed decimal (self-delimiting). */
export const encodeDecimal = (d: Decimal): string => {
  const digits = d.digits
  const n = digits.length
  if (n === 0) return "\u4000"
  const b = new Builder("")
  const biased = d.exponent + NUM_EXP_BIAS
  b.push(d.negative ? NUM_ZERO - 1 - biased : NUM_ZERO + 1 + biased)
  for (let i = 0; i < n; i += GROUP_DIGITS) {
    let g = 0
    for (let k = i; k < i + GROUP_DIGITS; k++) g = g * 10 + (k < n ? digits.charCodeAt(k) - 48 : 0)
    b.push(d.negative ? 10000 - g : 1 + g)
  }
  b.push(d.negative ? NUM_NEG_TERMINATOR : NUM_POS_TERMINATOR)
  return b.done()
}

/** Encodes number text; throws a plain Error on invalid text (callers validate first). */
export const encodeNumber = (text: string): string => {
  const d = parseDecimal(text)
  if (typeof d === "string") throw new Error(`cannot encode key: ${d}`)
  return encodeDecimal(d)
}

/** Encodes a key scalar: open form for S/B unless `delimited`; N is always self-delimiting. */
export const encodeScalar = (v: AttributeValue, delimited: boolean): string => {
  if ("S" in v) return encodeString(v.S, delimited)
  if ("N" in v) return encodeNumber(v.N)
  if ("B" in v) return encodeBinary(v.B, delimited)
  throw new Error(`cannot encode key: a key value must be S, N or B, got ${Object.keys(v).join(",")}`)
}

/** Position just after the last value decoded by a `decode*` call (avoids a result object). */
export let decodedEnd = 0

const corrupt = (what: string, at: number): Error => new Error(`corrupt encoded key: ${what} at unit ${at}`)

/** Decodes a string value from `enc` starting at `start`; open form runs to the end. */
export const decodeString = (enc: string, start: number, delimited: boolean): string => {
  const n = enc.length
  let i = start
  // Fast path: nothing mapped or escaped.
  for (; i < n; i++) {
    const c = enc.charCodeAt(i)
    if (c >= 0xd800 || c === 0) break
  }
  if (i === n) {
    if (delimited) throw corrupt("missing string terminator", n)
    decodedEnd = n
    return start === 0 ? enc : enc.slice(start)
  }
  const b = new Builder(enc.slice(start, i))
  for (; i < n; i++) {
    const c = enc.charCodeAt(i)
    if (c === 0 && delimited) {
      const next = i + 1 < n ? enc.charCodeAt(i + 1) : -1
      if (next === 0) {
        decodedEnd = i + 2
        return b.done()
      }
      if (next !== 1) throw corrupt("bad escape in string", i)
      b.push(0)
      i++
    } else b.push(unmapUnit(c))
  }
  if (delimited) throw corrupt("missing string terminator", n)
  decodedEnd = n
  return b.done()
}

/** Decodes a binary value from `enc` starting at `start`; open form runs to the end. */
export const decodeBinary = (enc: string, start: number, delimited: boolean): Uint8Array => {
  const n = enc.length
  let end = n
  let escapes = 0
  if (delimited) {
    end = -1
    for (let i = start; i < n; i++) {
      if (enc.charCodeAt(i) !== 0) continue
      const next = i + 1 < n ? enc.charCodeAt(i + 1) : -1
      if (next === 0) {
        end = i
        break
      }
      if (next !== 1) throw corrupt("bad escape in binary", i)
      escapes++
      i++
    }
    if (end < 0) throw corrupt("missing binary terminator", n)
  }
  const out = new Uint8Array(end - start - escapes)
  let o = 0
  for (let i = start; i < end; i++) {
    const c = enc.charCodeAt(i)
    if (c > 0xff) throw corrupt("binary unit above 0xFF", i)
    out[o++] = c
    if (c === 0 && delimited) i++
  }
  decodedEnd = delimited ? end + 2 : n
  return out
}

/** Decodes a number from `enc` at `start` into canonical text. */
export const decodeNumber = (enc: string, start: number): string => {
  const head = enc.charCodeAt(start)
  if (head === NUM_ZERO) {
    decodedEnd = start + 1
    return "0"
  }
  if (!(head >= NUM_ZERO - 256 && head <= NUM_ZERO + 256)) throw corrupt("bad number head", start)
  const negative = head < NUM_ZERO
  const exponent = negative ? NUM_ZERO - 1 - head - NUM_EXP_BIAS : head - NUM_ZERO - 1 - NUM_EXP_BIAS
  const terminator = negative ? NUM_NEG_TERMINATOR : NUM_POS_TERMINATOR
  let digits = ""
  let i = start + 1
  for (; ; i++) {
    if (i >= enc.length) throw corrupt("missing number terminator", i)
    const u = enc.charCodeAt(i)
    if (u === terminator) break
    const g = negative ? 10000 - u : u - 1
    if (g < 0 || g > 9999) throw corrupt("bad number digit group", i)
    digits += g < 10 ? "000" + g : g < 100 ? "00" + g : g < 1000 ? "0" + g : String(g)
  }
  decodedEnd = i + 1
  let last = digits.length - 1
  while (last >= 0 && digits.charCodeAt(last) === 48) last--
  if (last < 0 || digits.charCodeAt(0) === 48) throw corrupt("number digits not normalized", start)
  return formatDecimal({ negative, digits: digits.slice(0, last + 1), exponent })
}

/** Decodes a key scalar of `type` from `enc` at `start`. */
export const decodeScalar = (
  enc: string,
  start: number,
  type: KeyType,
  delimited: boolean,
): AttributeValue => {
  switch (type) {
    case "S":
      return { S: decodeString(enc, start, delimited) }
    case "N":
      return { N: decodeNumber(enc, start) }
    case "B":
      return { B: decodeBinary(enc, start, delimited) }
  }
}
