/**
 * Order-preserving encoding of key values into JS strings: comparing two encodings with `<` (UTF-16
 * code-unit order) gives DynamoDB's order of the values — numbers numerically, strings by UTF-8 bytes,
 * binaries by unsigned bytes — and decoding gives the values back (numbers in canonical text).
 *
 * Byte layout: see README ("Key encoding") and `internal/keycodec.ts`.
 */
import type { AttributeValue, EncodedKey, Item, KeyType } from "./AttributeValue.ts"
import type { KeySchema } from "./KeySchema.ts"
import { compareDecimals, parseDecimal } from "./internal/decimal.ts"
import * as codec from "./internal/keycodec.ts"

/**
 * Encodes one key scalar (S, N or B) on its own. Strings and binaries use the open form (not
 * self-delimiting), which is also how a sort key is encoded inside a composite key. Throws on a
 * non-key type or an invalid number (validate first, e.g. with `keyOf`).
 */
export const encodeKeyValue = (v: AttributeValue): EncodedKey => codec.encodeScalar(v, false)

/** Decodes the output of {@link encodeKeyValue} given the value's type. */
export const decodeKeyValue = (enc: EncodedKey, type: KeyType): AttributeValue => {
  const v = codec.decodeScalar(enc, 0, type, false)
  if (codec.decodedEnd !== enc.length) throw new Error("corrupt encoded key: trailing units after the value")
  return v
}

/**
 * Encodes a primary key: the partition key self-delimiting, then the sort key if any. All keys with
 * one partition key are contiguous and ordered by sort key; an S or B sort key's encoding extends the
 * encoding of any of its prefixes (so `begins_with` is a range scan).
 */
export const encodeKey = (pk: AttributeValue, sk?: AttributeValue): EncodedKey =>
  sk === undefined
    ? codec.encodeScalar(pk, true)
    : codec.encodeScalar(pk, true) + codec.encodeScalar(sk, false)

/** Decodes the output of {@link encodeKey} into the key map (`{ [pkName]: …, [skName]: … }`). */
export const decodeKey = (enc: EncodedKey, schema: KeySchema): Item => {
  const pk = codec.decodeScalar(enc, 0, schema.partitionKey.type, true)
  const end = codec.decodedEnd
  const sa = schema.sortKey
  if (sa === undefined) {
    if (end !== enc.length) throw new Error("corrupt encoded key: trailing units after the partition key")
    return { [schema.partitionKey.name]: pk }
  }
  const sk = codec.decodeScalar(enc, end, sa.type, false)
  if (codec.decodedEnd !== enc.length)
    throw new Error("corrupt encoded key: trailing units after the sort key")
  return { [schema.partitionKey.name]: pk, [sa.name]: sk }
}

/**
 * The half-open range `[start, end)` of encoded keys whose partition key is `pk`: every
 * `encodeKey(pk, sk)` satisfies `start <= key < end`, and no key of another partition key does.
 */
export const partitionKeyRange = (
  pk: AttributeValue,
): { readonly start: EncodedKey; readonly end: EncodedKey } => {
  const start = codec.encodeScalar(pk, true)
  // The encoding is prefix-free and never ends in U+FFFF, so bumping its last unit bounds the range.
  const last = start.charCodeAt(start.length - 1)
  return { start, end: start.slice(0, -1) + String.fromCharCode(last + 1) }
}

/**
 * The half-open range `[start, end)` of encoded keys with partition key `pk` whose S or B sort key
 * begins with `prefix` (Query's `begins_with(sk, :p)`). An empty prefix gives the whole partition.
 */
export const beginsWithRange = (
  pk: AttributeValue,
  prefix: AttributeValue,
): { readonly start: EncodedKey; readonly end: EncodedKey } => {
  if (!("S" in prefix) && !("B" in prefix)) throw new Error("beginsWithRange: the prefix must be S or B")
  const start = encodeKey(pk, prefix)
  const base = codec.encodeScalar(pk, true).length
  // The successor of every extension of `start`: drop trailing FFFF units, bump the last one.
  let i = start.length
  while (i > base && start.charCodeAt(i - 1) === 0xffff) i--
  if (i === base) return { start, end: partitionKeyRange(pk).end }
  return { start, end: start.slice(0, i - 1) + String.fromCharCode(start.charCodeAt(i - 1) + 1) }
}

/**
 * DynamoDB's order of two key scalars of the same type, computed directly (not through the
 * encoding): numbers numerically, strings by UTF-8 bytes (= code points), binaries by unsigned bytes.
 * Negative, zero or positive like `a - b`. A reference for tests and for non-hot paths.
 */
export const compareKeyValues = (a: AttributeValue, b: AttributeValue): number => {
  if ("S" in a && "S" in b) return compareCodePoints(a.S, b.S)
  if ("N" in a && "N" in b) {
    const da = parseDecimal(a.N)
    const db = parseDecimal(b.N)
    if (typeof da === "string" || typeof db === "string") throw new Error("compareKeyValues: invalid number")
    return compareDecimals(da, db)
  }
  if ("B" in a && "B" in b) {
    const x = a.B
    const y = b.B
    const n = Math.min(x.length, y.length)
    for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!
    return x.length - y.length
  }
  throw new Error("compareKeyValues: values must be S, N or B of the same type")
}

const compareCodePoints = (a: string, b: string): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) {
      // Surrogates (D800–DFFF) encode code points above FFFF: they sort after E000–FFFF.
      const hx = x >= 0xd800 && x <= 0xdfff
      const hy = y >= 0xd800 && y <= 0xdfff
      if (hx !== hy) return hx ? 1 : -1
      return x - y
    }
  }
  return a.length - b.length
}

/** Converts an encoded key to bytes (UTF-16BE, 2 bytes per unit) whose unsigned byte order is the key order; for persisting keys that may hold lone surrogates. */
export const encodedKeyToBytes = (enc: EncodedKey): Uint8Array => {
  const out = new Uint8Array(enc.length * 2)
  for (let i = 0; i < enc.length; i++) {
    const c = enc.charCodeAt(i)
    out[2 * i] = c >> 8
    out[2 * i + 1] = c & 0xff
  }
  return out
}

/** The inverse of {@link encodedKeyToBytes}. */
export const encodedKeyFromBytes = (bytes: Uint8Array): EncodedKey => {
  if (bytes.length % 2 !== 0) throw new Error("encoded key bytes must have an even length")
  let s = ""
  const CHUNK = 4096
  for (let i = 0; i < bytes.length; i += 2 * CHUNK) {
    const units: number[] = []
    for (let k = i; k < Math.min(bytes.length, i + 2 * CHUNK); k += 2)
      units.push((bytes[k]! << 8) | bytes[k + 1]!)
    s += String.fromCharCode(...units)
  }
  return s
}
