/**
 * Routing keys: the byte strings the Perkle store is keyed by.
 *
 *   tableId (UTF-8, no NUL) · 0x00 · hash position (16 bytes, big-endian) · [sort key]
 *
 * The optional sort key is an `EncodedKey` from @partita/core written as UTF-16 code units,
 * big-endian, two bytes each, so byte order equals the JS `<` order of the encoded keys (and a
 * boundary without a sort key sorts before any boundary with one at the same hash position).
 * The NUL after the table id keeps one table's keys contiguous and makes `tablePrefix` exact.
 */
import type { EncodedKey } from "@partita/core"

/** Width of a hash position in bytes (a 128-bit hash, big-endian). */
export const HASH_BYTES = 16
/** Longest table id in UTF-8 bytes (DynamoDB allows 255 characters). */
export const TABLE_ID_BYTES_MAX = 255

const enc = new TextEncoder()
const dec = new TextDecoder()

/** The key prefix shared by every boundary of `tableId`. */
export const tablePrefix = (tableId: string): Uint8Array => {
  const t = enc.encode(tableId)
  if (t.length === 0 || t.length > TABLE_ID_BYTES_MAX || t.includes(0))
    throw new RangeError(`invalid table id ${JSON.stringify(tableId)}`)
  const p = new Uint8Array(t.length + 1)
  p.set(t)
  return p
}

/** Builds a routing key from a table id, a 16-byte hash position and an optional sort key. */
export const routingKey = (tableId: string, hash: Uint8Array, sortKey?: EncodedKey): Uint8Array =>
  routingKeyFromPrefix(tablePrefix(tableId), hash, sortKey)

/** Like `routingKey` with a precomputed `tablePrefix` (hot path for routers). */
export const routingKeyFromPrefix = (
  prefix: Uint8Array,
  hash: Uint8Array,
  sortKey?: EncodedKey,
): Uint8Array => {
  if (hash.length !== HASH_BYTES) throw new RangeError(`hash position must be ${HASH_BYTES} bytes`)
  const sk = sortKey ?? ""
  const k = new Uint8Array(prefix.length + HASH_BYTES + sk.length * 2)
  k.set(prefix)
  k.set(hash, prefix.length)
  let o = prefix.length + HASH_BYTES
  for (let i = 0; i < sk.length; i++) {
    const c = sk.charCodeAt(i)
    k[o++] = c >>> 8
    k[o++] = c & 0xff
  }
  return k
}

/** The parts of a routing key. */
export interface RoutingKeyParts {
  readonly tableId: string
  readonly hash: Uint8Array
  readonly sortKey: EncodedKey | undefined
}

/** Splits a routing key back into table id, hash position and sort key. */
export const parseRoutingKey = (key: Uint8Array): RoutingKeyParts => {
  const nul = key.indexOf(0)
  if (nul <= 0 || key.length < nul + 1 + HASH_BYTES || (key.length - nul - 1 - HASH_BYTES) % 2 !== 0)
    throw new RangeError("not a routing key")
  const tableId = dec.decode(key.subarray(0, nul))
  const hash = key.slice(nul + 1, nul + 1 + HASH_BYTES)
  let sortKey: string | undefined
  const rest = nul + 1 + HASH_BYTES
  if (key.length > rest) {
    let s = ""
    for (let i = rest; i < key.length; i += 2) s += String.fromCharCode((key[i]! << 8) | key[i + 1]!)
    sortKey = s
  }
  return { tableId, hash, sortKey }
}

/** A 16-byte big-endian hash position from a bigint in [0, 2^128). */
export const hashFromBigInt = (n: bigint): Uint8Array => {
  if (n < 0n || n >= 1n << 128n) throw new RangeError("hash position out of range")
  const h = new Uint8Array(HASH_BYTES)
  for (let i = HASH_BYTES - 1; i >= 0; i--) {
    h[i] = Number(n & 0xffn)
    n >>= 8n
  }
  return h
}

/** The bigint value of a 16-byte big-endian hash position. */
export const hashToBigInt = (h: Uint8Array): bigint => {
  let n = 0n
  for (let i = 0; i < h.length; i++) n = (n << 8n) | BigInt(h[i]!)
  return n
}

/** Lexicographic byte comparison (-1, 0, 1). */
export const compareBytes = (a: Uint8Array, b: Uint8Array): number => {
  const m = Math.min(a.length, b.length)
  for (let i = 0; i < m; i++) {
    const x = a[i]!
    const y = b[i]!
    if (x !== y) return x < y ? -1 : 1
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}

/** Whether `key` starts with `prefix`. */
export const hasPrefix = (key: Uint8Array, prefix: Uint8Array): boolean => {
  if (key.length < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false
  return true
}

/** Lowercase hex of bytes (for logs, JSON baselines and test messages). */
export const toHex = (b: Uint8Array): string => {
  let s = ""
  for (let i = 0; i < b.length; i++) s += b[i]!.toString(16).padStart(2, "0")
  return s
}

/** A 16-byte hash position from 32 hex digits (the partitioner's `Position`). */
export const hashFromHex = (hex: string): Uint8Array => {
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new RangeError("hash position must be 32 lowercase hex digits")
  const h = new Uint8Array(HASH_BYTES)
  for (let i = 0; i < HASH_BYTES; i++) h[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return h
}

/** A 16-byte hash position from four big-endian 32-bit words at `words[at..at+4)` (the partitioner's `hashInto`). */
export const hashFromWords = (
  words: Uint32Array,
  at = 0,
  out: Uint8Array = new Uint8Array(HASH_BYTES),
): Uint8Array => {
  for (let i = 0; i < 4; i++) {
    const w = words[at + i]!
    out[4 * i] = w >>> 24
    out[4 * i + 1] = (w >>> 16) & 0xff
    out[4 * i + 2] = (w >>> 8) & 0xff
    out[4 * i + 3] = w & 0xff
  }
  return out
}

/** A partition boundary as the partitioner writes it: a hex hash position and an optional sort key. */
export interface BoundaryLike {
  readonly hash: string
  readonly sortKey?: EncodedKey | undefined
}

/** The routing key of a partition boundary of `tableId`. */
export const routingKeyOfBoundary = (tableId: string, b: BoundaryLike): Uint8Array =>
  routingKey(tableId, hashFromHex(b.hash), b.sortKey)
