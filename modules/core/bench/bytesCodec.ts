/**
 * The peer of the string encoding for the benchmark: the same order-preserving layout written into a
 * Uint8Array and compared with an unsigned byte compare. Strings go as UTF-8 (whose byte order is
 * DynamoDB's order), binaries as raw bytes, numbers as the big-endian bytes of the string codec's units.
 * Partition keys are delimited the same way: 0x00 escaped as 00 01, terminator 00 00.
 */
import { type AttributeValue, encodeKeyValue } from "@partita/core"

const utf8 = new TextEncoder()
const scratch = new Uint8Array(8192)

const escapeInto = (src: Uint8Array, out: Uint8Array, at: number, delimited: boolean): number => {
  for (let i = 0; i < src.length; i++) {
    const b = src[i]!
    out[at++] = b
    if (b === 0 && delimited) out[at++] = 1
  }
  if (delimited) {
    out[at++] = 0
    out[at++] = 0
  }
  return at
}

const writeScalar = (v: AttributeValue, out: Uint8Array, at: number, delimited: boolean): number => {
  if ("S" in v) {
    const { written } = utf8.encodeInto(v.S, scratch)
    return escapeInto(scratch.subarray(0, written), out, at, delimited)
  }
  if ("B" in v) return escapeInto(v.B, out, at, delimited)
  if ("N" in v) {
    const s = encodeKeyValue(v)
    for (let i = 0; i < s.length; i++) {
      const u = s.charCodeAt(i)
      out[at++] = u >> 8
      out[at++] = u & 0xff
    }
    return at
  }
  throw new Error("not a key type")
}

const buf = new Uint8Array(16384)

/** Encodes a primary key as bytes. */
export const encodeKeyBytes = (pk: AttributeValue, sk?: AttributeValue): Uint8Array => {
  let at = writeScalar(pk, buf, 0, true)
  if (sk !== undefined) at = writeScalar(sk, buf, at, false)
  return buf.slice(0, at)
}

/** Unsigned lexicographic byte compare. */
export const compareBytes = (a: Uint8Array, b: Uint8Array): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!
    if (d !== 0) return d
  }
  return a.length - b.length
}
