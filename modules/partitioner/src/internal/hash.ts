/**
 * Partition-key hashing: a key value's canonical bytes → a 128-bit position, written as four
 * big-endian unsigned 32-bit words into a caller-supplied Uint32Array (no allocation per call).
 */
import type { AttributeValue } from "@partita/core"
import { md5Into } from "./md5.ts"
import { murmur3Into } from "./murmur3.ts"

/** Hash functions a table may use to place partition keys. */
export type HashName = "md5" | "murmur3"

/** A partition-key value accepted by the hash: a scalar attribute value, a string or raw bytes. */
export type PartitionKeyInput = AttributeValue | string | Uint8Array

/** DynamoDB caps a partition key at 2,048 bytes; the scratch is sized for it and grows if asked more. */
export const partitionKeyBytesMax = 2048

let scratch = new Uint8Array(partitionKeyBytesMax * 3)

/** Encodes `text` as UTF-8 into the shared scratch and returns the byte length (lone surrogates → U+FFFD). */
export function utf8IntoScratch(text: string): number {
  const need = text.length * 3
  if (need > scratch.length) scratch = new Uint8Array(need)
  const out = scratch
  let n = 0
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i)
    if (c < 0x80) {
      out[n++] = c
    } else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6)
      out[n++] = 0x80 | (c & 63)
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < text.length ? text.charCodeAt(i + 1) : 0
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00)
        i++
        out[n++] = 0xf0 | (c >> 18)
        out[n++] = 0x80 | ((c >> 12) & 63)
        out[n++] = 0x80 | ((c >> 6) & 63)
        out[n++] = 0x80 | (c & 63)
      } else {
        out[n++] = 0xef
        out[n++] = 0xbf
        out[n++] = 0xbd
      }
    } else {
      out[n++] = 0xe0 | (c >> 12)
      out[n++] = 0x80 | ((c >> 6) & 63)
      out[n++] = 0x80 | (c & 63)
    }
  }
  return n
}

/**
 * The canonical decimal text of a DynamoDB number, so that equal numbers hash equally:
 * `"1.50"`, `"+1.5"`, `"15E-1"` and `"0001.5"` all become `"1.5"`; `"-0"` becomes `"0"`.
 * Plain notation (no exponent), no leading zeros, no trailing fraction zeros.
 */
export function canonicalNumber(text: string): string {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text)
  if (m === null || (m[2] === "" && (m[3] === undefined || m[3] === ""))) {
    throw new RangeError(`not a number: ${JSON.stringify(text)}`)
  }
  const negative = m[1] === "-"
  const intDigits = m[2] ?? ""
  const fracDigits = m[3] ?? ""
  let exponent = m[4] === undefined ? 0 : Number.parseInt(m[4], 10)
  // value = 0.<digits> × 10^(point) after stripping; start with digits = int+frac, point = int length.
  let digits = intDigits + fracDigits
  exponent += intDigits.length
  let lead = 0
  while (lead < digits.length && digits.charCodeAt(lead) === 48) lead++
  digits = digits.slice(lead)
  exponent -= lead
  let end = digits.length
  while (end > 0 && digits.charCodeAt(end - 1) === 48) end--
  digits = digits.slice(0, end)
  if (digits.length === 0) return "0"
  let body: string
  if (exponent <= 0) body = "0." + "0".repeat(-exponent) + digits
  else if (exponent >= digits.length) body = digits + "0".repeat(exponent - digits.length)
  else body = digits.slice(0, exponent) + "." + digits.slice(exponent)
  return negative ? "-" + body : body
}

function hashBytes(name: HashName, bytes: Uint8Array, length: number, out: Uint32Array, at: number): void {
  if (name === "murmur3") murmur3Into(bytes, length, out, at)
  else md5Into(bytes, length, out, at)
}

/**
 * Hashes a partition key into `out[at..at+4)`.
 * S → UTF-8 bytes; B → raw bytes; N → UTF-8 of its canonical decimal text; a bare string is
 * taken as S; a Uint8Array as B.
 */
export function hashKeyInto(name: HashName, key: PartitionKeyInput, out: Uint32Array, at: number): void {
  if (typeof key === "string") {
    hashBytes(name, scratch, utf8IntoScratch(key), out, at)
  } else if (key instanceof Uint8Array) {
    hashBytes(name, key, key.length, out, at)
  } else if ("S" in key) {
    hashBytes(name, scratch, utf8IntoScratch(key.S), out, at)
  } else if ("B" in key) {
    hashBytes(name, key.B, key.B.length, out, at)
  } else if ("N" in key) {
    hashBytes(name, scratch, utf8IntoScratch(canonicalNumber(key.N)), out, at)
  } else {
    throw new TypeError("a partition key must be a scalar attribute value (S, N or B)")
  }
}

const HEX = "0123456789abcdef"

/** Formats four big-endian words as a 32-character lowercase hex string (order-preserving under `<`). */
export function wordsToHex(w: Uint32Array | ReadonlyArray<number>, at = 0): string {
  let s = ""
  for (let i = 0; i < 4; i++) {
    const v = w[at + i]! >>> 0
    for (let shift = 28; shift >= 0; shift -= 4) s += HEX[(v >>> shift) & 15]
  }
  return s
}

/** Parses a 32-character hex position into `out[at..at+4)`. */
export function hexToWords(hex: string, out: Uint32Array, at = 0): void {
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new RangeError(`not a 128-bit hex position: ${JSON.stringify(hex)}`)
  for (let i = 0; i < 4; i++) out[at + i] = Number.parseInt(hex.slice(i * 8, i * 8 + 8), 16) >>> 0
}

/** A 128-bit hex position as a bigint (for rare arithmetic such as midpoints). */
export function hexToBigInt(hex: string): bigint {
  return BigInt("0x" + hex)
}

/** A bigint in [0, 2^128) as a 32-character hex position. */
export function bigIntToHex(v: bigint): string {
  if (v < 0n || v >= 1n << 128n) throw new RangeError("position out of the 128-bit range")
  return v.toString(16).padStart(32, "0")
}
