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
 * N  (always self-delimiting, every unit < 0100): zero = [80]. Positive = [81, e + 130] then one
 *               unit per pair of significant digits (last pair padded with 0 on the right) holding
 *               1 + pair (01–64), then terminator 00. Negative = [7F, 255 − (e + 130)] then 100 − pair
 *               (01–64) per pair, then terminator 65 (101). e is the exponent of the first significant
 *               digit (−130…125), so e + 130 fits one unit (0–255).
 *
 * Every unit of an N or B encoding, and of an ASCII/Latin-1 S encoding, is below 0100, so the common
 * keys stay one-byte (Latin-1) strings in V8 and JavaScriptCore: half the memory, faster compares.
 *
 * A composite key is delimited(partition key) ++ open(sort key): all items of one partition key are
 * contiguous and ordered by sort key, and open(S) / open(B) preserve prefixes (for begins_with).
 */
import type { AttributeValue, KeyType } from "../AttributeValue.ts"
import { type Decimal, formatDecimal, parseDecimal } from "./decimal.ts"

const NUM_NEG = 0x7f
const NUM_ZERO = 0x80
const NUM_POS = 0x81
const NUM_ZERO_STR = "\u0080"
const NUM_EXP_BIAS = 130
const NUM_POS_TERMINATOR = 0
const NUM_NEG_TERMINATOR = 101
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
  const n = bytes.length
  if (n <= CHUNK_UNITS && (!delimited || bytes.indexOf(0) < 0)) {
    // One native call: each byte becomes one unit.
    const s = String.fromCharCode.apply(null, bytes as unknown as number[])
    return delimited ? s + "\u0000\u0000" : s
  }
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

/** One-unit strings for 00–FF: concatenating them is the cheapest way to build a short string. */
const UNIT = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i))

/** Encodes a parsed decimal (self-delimiting). */
export const encodeDecimal = (d: Decimal): string => {
  const digits = d.digits
  const n = digits.length
  if (n === 0) return NUM_ZERO_STR
  const biased = d.exponent + NUM_EXP_BIAS
  const neg = d.negative
  let out = neg ? UNIT[NUM_NEG]! + UNIT[255 - biased]! : UNIT[NUM_POS]! + UNIT[biased]!
  for (let i = 0; i < n; i += 2) {
    const pair = (digits.charCodeAt(i) - 48) * 10 + (i + 1 < n ? digits.charCodeAt(i + 1) - 48 : 0)
    out += UNIT[neg ? 100 - pair : 1 + pair]!
  }
  return out + UNIT[neg ? NUM_NEG_TERMINATOR : NUM_POS_TERMINATOR]!
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
  if (head !== NUM_POS && head !== NUM_NEG) throw corrupt("bad number head", start)
  const negative = head === NUM_NEG
  const e = enc.charCodeAt(start + 1)
  if (!(e >= 0 && e <= 255)) throw corrupt("bad number exponent", start + 1)
  const exponent = (negative ? 255 - e : e) - NUM_EXP_BIAS
  const terminator = negative ? NUM_NEG_TERMINATOR : NUM_POS_TERMINATOR
  let digits = ""
  let i = start + 2
  for (; ; i++) {
    if (i >= enc.length) throw corrupt("missing number terminator", i)
    const u = enc.charCodeAt(i)
    if (u === terminator) break
    const pair = negative ? 100 - u : u - 1
    if (pair < 0 || pair > 99) throw corrupt("bad number digit pair", i)
    digits += pair < 10 ? "0" + pair : String(pair)
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
