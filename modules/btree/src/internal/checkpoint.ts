/**
 * Checkpoint file format (version 1). All integers little-endian.
 *
 *   page 0        header, 32 bytes: magic "PTBTREE1", version u32, pageBytes u32, dataPages u32,
 *                 two reserved u32 (zero), CRC-32C of bytes [0, 28) at 28.
 *   pages 1..N    data pages, pageBytes each: magic "PTBP" u32, page number u32, payload length
 *                 u32, reserved u32 (zero), payload, zero padding, CRC-32C of [0, pageBytes-4).
 *   page N+1      footer, 64 bytes: magic "PTBF" u32, page number u32, dataPages u32, reserved,
 *                 item count f64, payload bytes f64, stream length f64, checksum lanes 4 x i32,
 *                 reserved u32, CRC-32C of [0, 60) at 60.
 *
 * The data pages' payloads, concatenated, are the record stream: per item
 * varint(keyUnits << 1 | wide), the key as latin1 bytes (wide = 0) or UTF-16LE (wide = 1),
 * varint(valueLength), the value as `codec.encode` bytes. Records may span pages.
 *
 * Every byte of the file is covered by exactly one CRC-32C, which detects every single-bit
 * (indeed every odd-weight and every burst <= 32 bits) error, so any flipped bit fails the load
 * naming its page. After the pages check out, the decoded items are re-hashed and compared to
 * the footer's count and checksum: an encoder bug or a consistent multi-page rewrite still fails.
 */

import { crc32c } from "./crc32c.ts"

/** Magic of the header: "PTBTREE1". */
const HEADER_MAGIC = [0x50, 0x54, 0x42, 0x54, 0x52, 0x45, 0x45, 0x31]
const FORMAT_VERSION = 1
const HEADER_BYTES = 32
const FOOTER_BYTES = 64
const PAGE_HEADER_BYTES = 16
const PAGE_CRC_BYTES = 4
const PAGE_MAGIC = 0x50544250
const FOOTER_MAGIC = 0x50544246

/** Default checkpoint page size. */
export const CHECKPOINT_PAGE_BYTES_DEFAULT = 64 * 1024
/** Smallest page size accepted (tests use small pages to flip every bit of a small file). */
export const CHECKPOINT_PAGE_BYTES_MIN = 64
/** Largest page size accepted. */
export const CHECKPOINT_PAGE_BYTES_MAX = 16 * 1024 * 1024

/** What the footer promises about the content. */
export interface CheckpointFooter {
  readonly itemCount: number
  readonly payloadBytes: number
  readonly lanes: readonly [number, number, number, number]
}

/** A failed check: which page (0 = header, dataPages + 1 = footer) and why. */
export interface CorruptionReport {
  readonly page: number
  readonly reason: string
}

/** Decoded raw content, before the tree is built and its checksum compared. */
export interface DecodedCheckpoint {
  readonly keys: string[]
  readonly encodedValues: Uint8Array[]
  readonly footer: CheckpointFooter
  readonly dataPages: number
}

class Writer {
  buf: Uint8Array
  pos = 0
  constructor(initial: number) {
    this.buf = new Uint8Array(Math.max(1024, initial))
  }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let cap = this.buf.length * 2
    while (cap < this.pos + n) cap *= 2
    const next = new Uint8Array(cap)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
  }
  varint(x: number): void {
    this.ensure(5)
    const b = this.buf
    while (x >= 0x80) {
      b[this.pos++] = (x & 0x7f) | 0x80
      x >>>= 7
    }
    b[this.pos++] = x
  }
  key(k: string): void {
    const n = k.length
    let wide = false
    for (let i = 0; i < n; i++) {
      if (k.charCodeAt(i) > 0xff) {
        wide = true
        break
      }
    }
    this.varint(wide ? (n << 1) | 1 : n << 1)
    if (!wide) {
      this.ensure(n)
      const b = this.buf
      let p = this.pos
      for (let i = 0; i < n; i++) b[p++] = k.charCodeAt(i)
      this.pos = p
    } else {
      this.ensure(2 * n)
      const b = this.buf
      let p = this.pos
      for (let i = 0; i < n; i++) {
        const c = k.charCodeAt(i)
        b[p++] = c & 0xff
        b[p++] = c >>> 8
      }
      this.pos = p
    }
  }
  bytes(v: Uint8Array): void {
    this.varint(v.length)
    this.ensure(v.length)
    this.buf.set(v, this.pos)
    this.pos += v.length
  }
}

/** Serialises items (given in key order by `each`) into checkpoint bytes. */
export function encodeCheckpoint(
  each: (f: (key: string, encodedValue: Uint8Array) => void) => void,
  footer: CheckpointFooter,
  pageBytes: number,
  sizeHint: number,
): Uint8Array {
  checkPageBytes(pageBytes)
  const w = new Writer(sizeHint)
  let items = 0
  each((k, v) => {
    w.key(k)
    w.bytes(v)
    items++
  })
  if (items !== footer.itemCount) throw new Error("encodeCheckpoint: item count differs from the footer")
  const stream = w.buf
  const streamLen = w.pos
  const cap = pageBytes - PAGE_HEADER_BYTES - PAGE_CRC_BYTES
  const dataPages = Math.ceil(streamLen / cap)
  const out = new Uint8Array(HEADER_BYTES + dataPages * pageBytes + FOOTER_BYTES)
  const dv = new DataView(out.buffer)
  for (let i = 0; i < 8; i++) out[i] = HEADER_MAGIC[i]!
  dv.setUint32(8, FORMAT_VERSION, true)
  dv.setUint32(12, pageBytes, true)
  dv.setUint32(16, dataPages, true)
  dv.setUint32(28, crc32c(out, 0, 28), true)
  for (let p = 0; p < dataPages; p++) {
    const base = HEADER_BYTES + p * pageBytes
    const from = p * cap
    const len = Math.min(cap, streamLen - from)
    dv.setUint32(base, PAGE_MAGIC, true)
    dv.setUint32(base + 4, p + 1, true)
    dv.setUint32(base + 8, len, true)
    out.set(stream.subarray(from, from + len), base + PAGE_HEADER_BYTES)
    dv.setUint32(base + pageBytes - 4, crc32c(out, base, base + pageBytes - 4), true)
  }
  const f = HEADER_BYTES + dataPages * pageBytes
  dv.setUint32(f, FOOTER_MAGIC, true)
  dv.setUint32(f + 4, dataPages + 1, true)
  dv.setUint32(f + 8, dataPages, true)
  dv.setFloat64(f + 16, footer.itemCount, true)
  dv.setFloat64(f + 24, footer.payloadBytes, true)
  dv.setFloat64(f + 32, streamLen, true)
  for (let i = 0; i < 4; i++) dv.setInt32(f + 40 + 4 * i, footer.lanes[i]!, true)
  dv.setUint32(f + 60, crc32c(out, f, f + 60), true)
  return out
}

export function checkPageBytes(pageBytes: number): void {
  if (
    !Number.isInteger(pageBytes) ||
    pageBytes < CHECKPOINT_PAGE_BYTES_MIN ||
    pageBytes > CHECKPOINT_PAGE_BYTES_MAX
  ) {
    throw new RangeError(
      `pageBytes must be an integer in [${CHECKPOINT_PAGE_BYTES_MIN}, ${CHECKPOINT_PAGE_BYTES_MAX}]`,
    )
  }
}

const CHUNK_UNITS = 4096

function latin1(b: Uint8Array, from: number, to: number): string {
  if (to - from <= 16) {
    let s = ""
    for (let i = from; i < to; i++) s += String.fromCharCode(b[i]!)
    return s
  }
  let s = ""
  for (let i = from; i < to; i += CHUNK_UNITS) {
    s += String.fromCharCode.apply(null, b.subarray(i, Math.min(to, i + CHUNK_UNITS)) as unknown as number[])
  }
  return s
}

function utf16(b: Uint8Array, from: number, units: number): string {
  const u = new Uint16Array(units)
  for (let i = 0; i < units; i++) u[i] = b[from + 2 * i]! | (b[from + 2 * i + 1]! << 8)
  let s = ""
  for (let i = 0; i < units; i += CHUNK_UNITS) {
    s += String.fromCharCode.apply(null, u.subarray(i, i + CHUNK_UNITS) as unknown as number[])
  }
  return s
}

/**
 * Verifies every page and parses the records. Returns the raw content or a report naming the
 * first page that fails; never throws on bad input.
 */
export function decodeCheckpoint(file: Uint8Array): DecodedCheckpoint | CorruptionReport {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength)
  if (file.length < HEADER_BYTES + FOOTER_BYTES)
    return { page: 0, reason: `file too short (${file.length} bytes)` }
  if (dv.getUint32(28, true) !== crc32c(file, 0, 28)) return { page: 0, reason: "header CRC mismatch" }
  for (let i = 0; i < 8; i++) {
    if (file[i] !== HEADER_MAGIC[i]) return { page: 0, reason: "not a Partita B-tree checkpoint (bad magic)" }
  }
  const version = dv.getUint32(8, true)
  if (version !== FORMAT_VERSION) return { page: 0, reason: `unsupported format version ${version}` }
  const pageBytes = dv.getUint32(12, true)
  if (pageBytes < CHECKPOINT_PAGE_BYTES_MIN || pageBytes > CHECKPOINT_PAGE_BYTES_MAX) {
    return { page: 0, reason: `bad page size ${pageBytes}` }
  }
  if (dv.getUint32(20, true) !== 0 || dv.getUint32(24, true) !== 0)
    return { page: 0, reason: "reserved bits set" }
  const dataPages = dv.getUint32(16, true)
  const expected = HEADER_BYTES + dataPages * pageBytes + FOOTER_BYTES
  if (file.length !== expected) {
    const lastPage = Math.max(0, Math.floor((file.length - HEADER_BYTES) / pageBytes))
    return {
      page: Math.min(lastPage, dataPages + 1),
      reason: `file is ${file.length} bytes, header promises ${expected} (truncated or extended)`,
    }
  }
  const f = HEADER_BYTES + dataPages * pageBytes
  const footerPage = dataPages + 1
  if (dv.getUint32(f + 60, true) !== crc32c(file, f, f + 60))
    return { page: footerPage, reason: "footer CRC mismatch" }
  if (
    dv.getUint32(f, true) !== FOOTER_MAGIC ||
    dv.getUint32(f + 4, true) !== footerPage ||
    dv.getUint32(f + 8, true) !== dataPages ||
    dv.getUint32(f + 12, true) !== 0 ||
    dv.getUint32(f + 56, true) !== 0
  ) {
    return { page: footerPage, reason: "footer fields inconsistent" }
  }
  const itemCount = dv.getFloat64(f + 16, true)
  const payloadBytes = dv.getFloat64(f + 24, true)
  const streamLen = dv.getFloat64(f + 32, true)
  const cap = pageBytes - PAGE_HEADER_BYTES - PAGE_CRC_BYTES
  if (
    !Number.isInteger(streamLen) ||
    Math.ceil(streamLen / cap) !== dataPages ||
    !Number.isInteger(itemCount)
  ) {
    return { page: footerPage, reason: "footer lengths inconsistent with the page count" }
  }
  const lanes: [number, number, number, number] = [
    dv.getInt32(f + 40, true),
    dv.getInt32(f + 44, true),
    dv.getInt32(f + 48, true),
    dv.getInt32(f + 52, true),
  ]
  const stream = new Uint8Array(streamLen)
  for (let p = 0; p < dataPages; p++) {
    const base = HEADER_BYTES + p * pageBytes
    const page = p + 1
    if (dv.getUint32(base + pageBytes - 4, true) !== crc32c(file, base, base + pageBytes - 4)) {
      return { page, reason: "page CRC mismatch" }
    }
    if (dv.getUint32(base, true) !== PAGE_MAGIC || dv.getUint32(base + 4, true) !== page) {
      return { page, reason: "page header names another page" }
    }
    const len = dv.getUint32(base + 8, true)
    const want = Math.min(cap, streamLen - p * cap)
    if (len !== want || dv.getUint32(base + 12, true) !== 0)
      return { page, reason: "page payload length wrong" }
    for (let i = base + PAGE_HEADER_BYTES + len; i < base + pageBytes - 4; i++) {
      if (file[i] !== 0) return { page, reason: "nonzero padding" }
    }
    stream.set(file.subarray(base + PAGE_HEADER_BYTES, base + PAGE_HEADER_BYTES + len), p * cap)
  }
  if (itemCount * 2 > streamLen) return { page: footerPage, reason: "footer item count exceeds the stream" }
  const keys: string[] = new Array(itemCount)
  const encodedValues: Uint8Array[] = new Array(itemCount)
  let pos = 0
  let n = 0
  const pageAt = (offset: number): number => 1 + Math.floor(offset / cap)
  const varint = (): number => {
    let x = 0
    let shift = 0
    for (let i = 0; i < 5; i++) {
      if (pos >= streamLen) return -1
      const b = stream[pos++]!
      x += (b & 0x7f) * 2 ** shift
      if (b < 0x80) return x
      shift += 7
    }
    return -1
  }
  let prev: string | undefined
  while (pos < streamLen) {
    const at = pos
    if (n >= itemCount) return { page: pageAt(at), reason: "more records than the footer's item count" }
    const kh = varint()
    if (kh < 0) return { page: pageAt(at), reason: "bad key header" }
    const units = Math.floor(kh / 2)
    const wide = kh % 2 === 1
    const kb = wide ? 2 * units : units
    if (pos + kb > streamLen) return { page: pageAt(at), reason: "key runs past the stream" }
    const key = wide ? utf16(stream, pos, units) : latin1(stream, pos, pos + kb)
    pos += kb
    if (prev !== undefined && !(prev < key)) return { page: pageAt(at), reason: "keys out of order" }
    prev = key
    const vl = varint()
    if (vl < 0 || pos + vl > streamLen) return { page: pageAt(at), reason: "bad value length" }
    keys[n] = key
    encodedValues[n] = stream.subarray(pos, pos + vl)
    pos += vl
    n++
  }
  if (n !== itemCount)
    return { page: footerPage, reason: `footer promises ${itemCount} items, pages hold ${n}` }
  return { keys, encodedValues, footer: { itemCount, payloadBytes, lanes }, dataPages }
}
