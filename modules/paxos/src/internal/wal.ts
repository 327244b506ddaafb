/**
 * WAL record framing, encoding and crash recovery (pure functions over bytes).
 *
 * Frame layout (little endian), header 40 bytes:
 *   0  magic u32 "PAXW"          4  length u32 (whole frame)    8  crc u32 (CRC-32C of bytes 12..length)
 *  12  type u8   13 kind u8      14  reserved u16               16  logId u32 (which table/partition)
 *  20  prev u32 (CRC of the previous frame: the hash chain)     24  position f64   32  ballot f64
 *  40  payload
 * The chain (prev) makes a stale or misdirected frame fail even when its own CRC is valid.
 */
import { crc32cUpdate } from "./crc32c.ts"
import type { RecoveredState } from "./core.ts"
import type { Entry, EntryKind, HardState, Membership, Snapshot } from "./types.ts"
import { decodeMembership, encodeMembership } from "./types.ts"

/** Frame header constants. */
export const FRAME_MAGIC = 0x57584150
export const FRAME_HEADER_BYTES = 40
/** Upper bound of one frame, a sanity check while scanning. */
export const FRAME_BYTES_MAX = 64 * 1024 * 1024

/** Frame types. */
export const FRAME_ENTRY = 1
export const FRAME_HARD = 2
export const FRAME_SNAPSHOT = 3

/** A decoded frame. */
export interface WalRecord {
  readonly type: number
  readonly kind: number
  readonly position: number
  readonly ballot: number
  readonly payload: Uint8Array
  readonly offset: number
  readonly crc: number
}

/** Appends frames into a growing buffer and keeps the chain. */
export class FrameWriter {
  private buf: Uint8Array
  private view: DataView
  private len = 0
  /** CRC of the last frame written (the chain head). */
  chain: number

  constructor(
    readonly logId: number,
    chainSeed: number,
    initialBytes = 1 << 16,
  ) {
    this.buf = new Uint8Array(initialBytes)
    this.view = new DataView(this.buf.buffer)
    this.chain = chainSeed >>> 0
  }

  get length(): number {
    return this.len
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return
    let cap = this.buf.length * 2
    while (cap < this.len + n) cap *= 2
    const nb = new Uint8Array(cap)
    nb.set(this.buf.subarray(0, this.len))
    this.buf = nb
    this.view = new DataView(nb.buffer)
  }

  /** Writes one frame; returns its CRC. */
  frame(type: number, kind: number, position: number, ballot: number, payload: Uint8Array): number {
    const n = FRAME_HEADER_BYTES + payload.length
    this.ensure(n)
    const o = this.len
    const v = this.view
    v.setUint32(o, FRAME_MAGIC, true)
    v.setUint32(o + 4, n, true)
    v.setUint8(o + 12, type)
    v.setUint8(o + 13, kind)
    v.setUint16(o + 14, 0, true)
    v.setUint32(o + 16, this.logId >>> 0, true)
    v.setUint32(o + 20, this.chain, true)
    v.setFloat64(o + 24, position, true)
    v.setFloat64(o + 32, ballot, true)
    this.buf.set(payload, o + FRAME_HEADER_BYTES)
    const crc = crc32cUpdate(0, this.buf, o + 12, o + n)
    v.setUint32(o + 8, crc, true)
    this.len += n
    this.chain = crc
    return crc
  }

  entry(e: Entry): number {
    return this.frame(FRAME_ENTRY, e.kind, e.slot, e.ballot, e.data)
  }
  hard(h: HardState): number {
    return this.frame(FRAME_HARD, 0, h.commit, h.promised, EMPTY)
  }
  snapshotMarker(s: Snapshot): number {
    return this.frame(FRAME_SNAPSHOT, 0, s.index, 0, encodeMembership(s.config))
  }

  /** Takes the bytes written so far (a copy) and resets the buffer, keeping the chain. */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.len)
    this.len = 0
    return out
  }
}

const EMPTY = new Uint8Array(0)

/** Result of scanning a WAL file. */
export interface ScanResult {
  readonly records: WalRecord[]
  /** Byte length of the valid prefix (a torn tail beyond it is truncated). */
  readonly validBytes: number
  /** Offset of the first bad frame that is followed by valid frames (corruption), or -1. */
  readonly corruptAt: number
  /** Index in `records` of the first record after the corruption (or records.length). */
  readonly recordsBeforeCorruption: number
  /** Chain head after the last valid frame. */
  readonly chain: number
}

/** Options for `scanFrames`; `skipCrc` exists only as a test canary. */
export interface ScanOptions {
  readonly logId: number
  readonly chainSeed: number
  readonly skipCrc?: boolean
}

const readFrame = (
  bytes: Uint8Array,
  view: DataView,
  o: number,
  opts: ScanOptions,
  prev: number | null,
): WalRecord | null => {
  if (o + FRAME_HEADER_BYTES > bytes.length) return null
  if (view.getUint32(o, true) !== FRAME_MAGIC) return null
  const n = view.getUint32(o + 4, true)
  if (n < FRAME_HEADER_BYTES || n > FRAME_BYTES_MAX || o + n > bytes.length) return null
  const crc = view.getUint32(o + 8, true)
  if (!opts.skipCrc && crc32cUpdate(0, bytes, o + 12, o + n) !== crc) return null
  if (!opts.skipCrc && view.getUint32(o + 16, true) !== opts.logId >>> 0) return null
  if (!opts.skipCrc && prev !== null && view.getUint32(o + 20, true) !== prev) return null
  return {
    type: view.getUint8(o + 12),
    kind: view.getUint8(o + 13),
    position: view.getFloat64(o + 24, true),
    ballot: view.getFloat64(o + 32, true),
    payload: bytes.subarray(o + FRAME_HEADER_BYTES, o + n),
    offset: o,
    crc,
  }
}

/**
 * Scans a WAL: stops at the first bad frame; if a valid frame (right log id, valid CRC) follows
 * anywhere later it is corruption (`corruptAt`), otherwise a torn tail (`validBytes` marks
 * where to truncate).
 */
export const scanFrames = (bytes: Uint8Array, opts: ScanOptions): ScanResult => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const records: WalRecord[] = []
  let o = 0
  let chain = opts.chainSeed >>> 0
  let corruptAt = -1
  let before = -1
  let validBytes = 0
  while (o < bytes.length) {
    const r = readFrame(bytes, view, o, opts, chain)
    if (r !== null) {
      records.push(r)
      chain = r.crc
      o += FRAME_HEADER_BYTES + r.payload.length
      validBytes = o
      continue
    }
    // Bad frame at o: is anything valid after it?
    let found = -1
    for (let p = o + 1; p + FRAME_HEADER_BYTES <= bytes.length; p++) {
      if (bytes[p] !== 0x50 || view.getUint32(p, true) !== FRAME_MAGIC) continue
      if (readFrame(bytes, view, p, opts, null) !== null) {
        found = p
        break
      }
    }
    if (found < 0) break
    if (corruptAt < 0) {
      corruptAt = o
      before = records.length
    }
    const r2 = readFrame(bytes, view, found, opts, null)!
    records.push(r2)
    chain = r2.crc
    o = found + FRAME_HEADER_BYTES + r2.payload.length
    validBytes = o
  }
  return {
    records,
    validBytes,
    corruptAt,
    recordsBeforeCorruption: corruptAt < 0 ? records.length : before,
    chain,
  }
}

/**
 * Rebuilds acceptor state from scanned records. With corruption, only the prefix through the
 * last commit recorded before the bad frame is trusted (slots at or below a recorded commit are
 * never rewritten later), and the replica must be repaired through the highest slot it had
 * seen before it may vote again.
 */
export const recoverState = (
  scan: ScanResult,
  snapshotData: (index: number) => Uint8Array | null,
): RecoveredState => {
  let promised = 0
  let commit = 0
  let snapshot: Snapshot | null = null
  const slots = new Map<number, Entry>()
  let maxSlot = 0
  let trustedCommit = 0
  const recs = scan.records
  for (let i = 0; i < recs.length; i++) {
    const r = recs[i]!
    const trusted = i < scan.recordsBeforeCorruption
    if (r.type === FRAME_HARD) {
      if (r.ballot > promised) promised = r.ballot
      if (r.position > commit) commit = r.position
      if (trusted && r.position > trustedCommit) trustedCommit = r.position
    } else if (r.type === FRAME_ENTRY) {
      if (r.position > maxSlot) maxSlot = r.position
      if (r.ballot > promised) promised = r.ballot
      if (trusted)
        slots.set(r.position, {
          slot: r.position,
          ballot: r.ballot,
          kind: r.kind as EntryKind,
          data: r.payload.slice(),
        })
    } else if (r.type === FRAME_SNAPSHOT && trusted) {
      const config: Membership = decodeMembership(r.payload)
      snapshot = { index: r.position, config, data: snapshotData(r.position) }
      if (r.position > trustedCommit) trustedCommit = r.position
      if (r.position > commit) commit = r.position
    }
  }
  const corrupt = scan.corruptAt >= 0
  const first = snapshot === null ? 1 : snapshot.index + 1
  const last = corrupt ? trustedCommit : maxSlot
  const entries: Entry[] = []
  for (let s = first; s <= last; s++) {
    const e = slots.get(s)
    if (e === undefined) break
    entries.push(e)
  }
  const lastKept = first - 1 + entries.length
  return {
    hardState: { promised, commit: corrupt ? Math.min(trustedCommit, lastKept) : Math.min(commit, lastKept) },
    snapshot,
    entries,
    repairThrough: corrupt ? Math.max(maxSlot, commit, trustedCommit + 1) : 0,
  }
}
