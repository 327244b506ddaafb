/**
 * Log entry encoding. A write is decided on the leader and replicated as its resulting item image,
 * so every replica installs exactly the same bytes:
 *
 *   write   := 0x01 flags:u8 size:u32 ridUnits:u16 [stamp:u64] rid keyUnits:u32 key body
 *   split   := split-json "\n" "null"            split-json := { "split": SplitFence }
 *
 * Integers are little-endian. The request id and the encoded key are ASCII bytes when every
 * unit is below 0x80 (flags bits 2 and 3), else UTF-16 code units (an encoded key may hold any
 * unit, lone surrogates included, which UTF-8 could not carry). `body` is the item's canonical
 * JSON as UTF-8 to the end of the entry, present when flags bit 0 is set (clear: a delete);
 * flags bit 1 says `size` (the item's DynamoDB size) is carried; flags bit 4 says `stamp` is: the
 * leader's clock (whole ms) when it decided the write, which bounds how long replicas remember its
 * request id (`dedupe.ts`). The
 * binary header replaced a JSON one whose `JSON.parse` on each replica was ~15 % of a write's CPU;
 * a JSON write (`{"r","k","z"} "\n" item`) from before still decodes.
 *
 * Binary attribute values (B, BS) are written as `{"$b": base64}`; an AttributeValue never has a
 * `$b` member holding a string, so the form is unambiguous.
 */
import { Buffer } from "node:buffer"
import { FifoCache, type EncodedKey, type Item, itemSize } from "@partita/core"
import type { ByteRange, ItemHashMemo } from "@partita/btree"
import type { Boundary, Partition } from "@partita/partitioner"

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder()

/** A `Buffer.prototype` decoder called on a plain `Uint8Array` range (no view is made). */
type SliceDecoder = (this: Uint8Array, start: number, end: number) => string

/**
 * `Buffer.prototype[name]` where the runtime's `node:buffer` has it and it decodes a plain
 * `Uint8Array` correctly (checked once, on `probe[1..]`); otherwise undefined.
 */
const bufferDecoder = (
  name: "latin1Slice" | "utf8Slice",
  probe: ReadonlyArray<number>,
  expected: string,
): SliceDecoder | undefined => {
  try {
    const f = (Buffer.prototype as unknown as Record<string, unknown>)[name]
    if (typeof f !== "function") return undefined
    const g = f as SliceDecoder
    return g.call(new Uint8Array(probe), 1, probe.length) === expected ? g : undefined
  } catch {
    return undefined
  }
}

/** Latin-1 decoding of a range (else the UTF-8 decoder over a view is used). */
const latin1Slice = bufferDecoder("latin1Slice", [0x41, 0x62, 0x7e], "b~")
/** UTF-8 decoding of a range (else the UTF-8 decoder over a view). */
const utf8Slice = bufferDecoder("utf8Slice", [0x41, 0xc3, 0xa9, 0x7e], "\u00e9~")

/** UTF-8 text of `data[start..]`, without a view when the runtime allows. */
const utf8Of = (data: Uint8Array, start: number): string =>
  utf8Slice !== undefined
    ? utf8Slice.call(data, start, data.length)
    : textDecoder.decode(start === 0 ? data : data.subarray(start))

/**
 * What a replica stores per key: the item's canonical text as UTF-8 bytes (sized, hashed into
 * checksums and checkpointed as they are), with the text and the parsed item on demand.
 */
export interface StoredItem {
  readonly item: Item
  readonly text: string
  /** The bytes (may be made on demand: prefer `byteLength` and `storedItemDigest`). */
  readonly bytes: Uint8Array
  /** Length of `bytes`. */
  readonly byteLength: number
  /** The item's DynamoDB size (`itemSize`), known without parsing when the log carried it. */
  readonly size: number
}

/**
 * A stored item held as the bytes the log carried. Followers apply every write but serve few
 * reads, so decoding (UTF-8 to a string) and parsing (`JSON.parse`) at apply time, on each of three
 * replicas, was most of a write's apply cost; now a replica hashes and stores the bytes, and
 * decodes and parses an item once, when it first reads it.
 */
class StoredBytes implements StoredItem, ItemHashMemo, ByteRange {
  // The parsed item is kept (reads need it); its text is not: it is decoded again when asked
  // (scrub visits), so a read item holds one copy of its values, not two.
  private parsed: Item | undefined
  /** -1: not known yet (computed from the item on first use). */
  private sized: number
  /** `bytes` when asked for and `rangeStart` > 0 (a view, made once). */
  private view: Uint8Array | undefined = undefined
  // The item hash, for the trees of the other replicas that store this same object (one decoded
  // command serves every replica in the process: see `decodeCommandShared`).
  memoKey: string | undefined = undefined
  memo0 = 0
  memo1 = 0
  memo2 = 0
  memo3 = 0
  memoAscii = 0
  constructor(
    /** The bytes are `rangeData[rangeStart..]`: a log entry's body stays inside the entry. */
    readonly rangeData: Uint8Array,
    readonly rangeStart: number,
    size: number,
  ) {
    this.sized = size
  }
  get bytes(): Uint8Array {
    if (this.rangeStart === 0) return this.rangeData
    // A view gives the entry an ArrayBuffer of its own (see `decodeCommand`): made only when
    // asked (checkpoints, scrub copies), never on the write or read path.
    if (this.view === undefined) this.view = this.rangeData.subarray(this.rangeStart)
    return this.view
  }
  get byteLength(): number {
    return this.rangeData.length - this.rangeStart
  }
  get size(): number {
    if (this.sized < 0) this.sized = itemSize(this.item)
    return this.sized
  }
  get text(): string {
    return utf8Of(this.rangeData, this.rangeStart)
  }
  get item(): Item {
    let it = this.parsed
    if (it === undefined) {
      it = itemFromText(this.text)
      this.parsed = it
    }
    return it
  }
}

/** Where a stored item keeps its item hash for the B-tree (`ValueCodec.hashMemo`). */
export const storedItemHashMemo = (v: StoredItem): ItemHashMemo | undefined =>
  v instanceof StoredBytes ? v : undefined

/**
 * A stored item's bytes as an array of their own: the item's array when it holds only them, else a
 * copy (never a view, which would give a log entry an `ArrayBuffer`: see `decodeCommand`).
 */
export const storedItemBytes = (v: StoredItem): Uint8Array =>
  v instanceof StoredBytes && v.rangeStart > 0 ? v.rangeData.slice(v.rangeStart) : v.bytes

/** What a stored item's bytes hash as (a range, not a view, for a log entry's body). */
export const storedItemDigest = (v: StoredItem): ByteRange | Uint8Array =>
  v instanceof StoredBytes ? v : v.bytes

/** The stored form of an item's canonical text. */
export const storedItem = (text: string): StoredItem => new StoredBytes(textEncoder.encode(text), 0, -1)

/**
 * The stored form of an item's canonical text as UTF-8 bytes (kept, not copied), with its
 * DynamoDB size when known (else computed from the item when first asked).
 */
export const storedItemOfBytes = (bytes: Uint8Array, size?: number): StoredItem =>
  new StoredBytes(bytes, 0, size === undefined || !(size >= 0) ? -1 : size)

/** The stored form of the canonical text in `data[start..]` (kept in place, not copied). */
const storedItemOfRange = (data: Uint8Array, start: number, size: number | undefined): StoredItem =>
  new StoredBytes(data, start, size === undefined || !(size >= 0) ? -1 : size)

const replacer = (_k: string, v: unknown): unknown =>
  v instanceof Uint8Array ? { $b: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") } : v

const reviver = (_k: string, v: unknown): unknown => {
  if (v !== null && typeof v === "object" && typeof (v as { $b?: unknown }).$b === "string") {
    const b = Buffer.from((v as { $b: string }).$b, "base64")
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
  }
  return v
}

const valueHasBinary = (v: unknown): boolean => {
  if (v === null || typeof v !== "object") return false
  const a = v as { B?: unknown; BS?: unknown; M?: Record<string, unknown>; L?: unknown[] }
  if (a.B !== undefined || a.BS !== undefined) return true
  if (a.M !== undefined) for (const k in a.M) if (valueHasBinary(a.M[k])) return true
  if (a.L !== undefined) for (const x of a.L) if (valueHasBinary(x)) return true
  return false
}

/** Item → canonical JSON text (the replacer, which slows JSON.stringify, only for binary values). */
export const itemToText = (item: Item): string => {
  for (const k in item) if (valueHasBinary(item[k])) return JSON.stringify(item, replacer)
  return JSON.stringify(item)
}

/** Canonical JSON text → item. */
export const itemFromText = (text: string): Item =>
  (text.includes('"$b"') ? JSON.parse(text, reviver) : JSON.parse(text)) as Item

/** The fence that ends a partition at a split: children take over from this log position. */
export interface SplitFence {
  readonly parentEpoch: number
  readonly splitKey: Boundary
  readonly left: Partition
  readonly right: Partition
}

/**
 * A decoded write: the item image as UTF-8 bytes, `data[bodyAt..]` of the log entry (kept in
 * place: see `decodeCommand`), and as text on demand.
 */
export class WriteCommand {
  readonly kind = "write" as const
  constructor(
    readonly requestId: string,
    readonly key: EncodedKey,
    /** The log entry whose tail from `bodyAt` is the item's canonical text (undefined: delete). */
    readonly data: Uint8Array | undefined,
    readonly bodyAt: number,
    /** The item's DynamoDB size as the leader computed it (undefined: not carried). */
    readonly size: number | undefined,
    /** The leader's clock when it decided the write, whole ms (undefined: not carried). */
    readonly stamp: number | undefined = undefined,
  ) {}
  /** A delete (no item). */
  get deletes(): boolean {
    return this.data === undefined
  }
  /** The item's canonical text as UTF-8 bytes, a copy (undefined: delete). */
  get body(): Uint8Array | undefined {
    return this.data?.slice(this.bodyAt)
  }
  /** The item text (undefined: delete). */
  get text(): string | undefined {
    return this.data === undefined ? undefined : utf8Of(this.data, this.bodyAt)
  }
  private storedItem: StoredItem | undefined
  /**
   * The stored form of the written item (made once per command: replicas in one process that
   * apply the same entry share it, and so its parsed form; it is immutable).
   */
  stored(): StoredItem | undefined {
    if (this.data === undefined) return undefined
    if (this.storedItem === undefined) this.storedItem = storedItemOfRange(this.data, this.bodyAt, this.size)
    return this.storedItem
  }
}

/** Entries remembered by `decodeCommandShared` (FIFO). */
export const SHARED_COMMANDS_MAX = 8192
/**
 * Decoded commands of the newest entries, by the entry's data array (its identity). A
 * `FifoCache`: evicting through `keys().next()` on a `Map` skipped the deleted slots at the front
 * of its table, 1.1 µs per write.
 */
const recentCommands = new FifoCache<Uint8Array, Command>(SHARED_COMMANDS_MAX)

/**
 * `decodeCommand`, once per entry data array: in one process the replicas of a group receive the
 * leader's array itself, so the second and third replica to apply it reuse the first's decoding
 * (and the stored item, see `WriteCommand.stored`). An array seen for the first time, such as one
 * read back from a disk, is decoded afresh; a decoding depends only on the bytes, so sharing it
 * changes nothing but the work. Entry data is immutable once created (see `decodeCommand`).
 */
export const decodeCommandShared = (data: Uint8Array): Command => {
  const seen = recentCommands.get(data)
  if (seen !== undefined) return seen
  const c = decodeCommand(data)
  recentCommands.set(data, c)
  return c
}

/**
 * `encodeWrite`, and the decoded command remembered for `decodeCommandShared` from the strings the
 * caller already holds: the leader's replicas in this process then apply it without decoding the
 * entry (two strings and a header parse per write). It equals what `decodeCommand` gives.
 */
export const encodeWriteShared = (
  requestId: string,
  key: EncodedKey,
  text: string | undefined,
  size?: number,
  stamp?: number,
): Uint8Array => {
  const out = encodeWrite(requestId, key, text, size, stamp)
  const flags = out[1]!
  const ridAt = (flags & FLAG_STAMP) !== 0 ? 16 : 8
  const ridEnd = ridAt + ((flags & FLAG_RID_ASCII) !== 0 ? 1 : 2) * requestId.length
  const bodyAt = ridEnd + 4 + ((flags & FLAG_KEY_ASCII) !== 0 ? 1 : 2) * key.length
  const carried = (flags & FLAG_SIZE) !== 0 ? getU32(out, 2) : undefined
  recentCommands.set(
    out,
    new WriteCommand(
      requestId,
      key,
      (flags & FLAG_BODY) !== 0 ? out : undefined,
      bodyAt,
      carried,
      (flags & FLAG_STAMP) !== 0 ? getU64(out, 8) : undefined,
    ),
  )
  return out
}

/** A decoded log command. */
export type Command = WriteCommand | { readonly kind: "split"; readonly fence: SplitFence }

/** First byte of a binary write; a JSON header starts with `{`. */
const WRITE_TAG = 0x01
const FLAG_BODY = 1
const FLAG_SIZE = 2
const FLAG_RID_ASCII = 4
const FLAG_KEY_ASCII = 8
const FLAG_STAMP = 16
/** Largest stamp carried (whole ms): 2^53 - 1, the exact integers of a double. */
const STAMP_MAX = Number.MAX_SAFE_INTEGER
/** Longest request id (UTF-16 units) the header holds. */
export const REQUEST_ID_UNITS_MAX = 0xffff

/**
 * Encodes a decided write; `size` is the item's DynamoDB size, carried so replicas know it
 * without parsing the item (a later write's capacity is charged on the larger of the two);
 * `stamp` is the leader's clock in whole ms (carried when a whole number in 0..2^53-1).
 */
export const encodeWrite = (
  requestId: string,
  key: EncodedKey,
  text: string | undefined,
  size?: number,
  stamp?: number,
): Uint8Array => {
  if (requestId.length > REQUEST_ID_UNITS_MAX) throw new RangeError("request id too long")
  const ridAscii = isAscii(requestId)
  const keyAscii = isAscii(key)
  const stamped = stamp !== undefined && Number.isInteger(stamp) && stamp >= 0 && stamp <= STAMP_MAX
  const ridAt = stamped ? 16 : 8
  const head = ridAt + (ridAscii ? 1 : 2) * requestId.length + 4 + (keyAscii ? 1 : 2) * key.length
  let out: Uint8Array
  if (text === undefined) out = new Uint8Array(head)
  else {
    // ASCII text (the usual case) fits exactly in one allocation; anything else is encoded first.
    out = new Uint8Array(head + text.length)
    if (encodeAt(text, out, head) !== text.length) {
      const body = textEncoder.encode(text)
      out = new Uint8Array(head + body.length)
      out.set(body, head)
    }
  }
  const carried = size !== undefined && Number.isInteger(size) && size >= 0 && size <= 0xffffffff
  out[0] = WRITE_TAG
  out[1] =
    (text === undefined ? 0 : FLAG_BODY) |
    (carried ? FLAG_SIZE : 0) |
    (ridAscii ? FLAG_RID_ASCII : 0) |
    (keyAscii ? FLAG_KEY_ASCII : 0) |
    (stamped ? FLAG_STAMP : 0)
  putU32(out, 2, carried ? size : 0)
  out[6] = requestId.length & 0xff
  out[7] = requestId.length >>> 8
  if (stamped) putU64(out, 8, stamp)
  let o = putText(out, ridAt, requestId, ridAscii)
  putU32(out, o, key.length)
  o = putText(out, o + 4, key, keyAscii)
  return out
}

/** Scratch for `encodeAt` (grown as needed; its one buffer is shared by every view of it). */
let scratch = new Uint8Array(4096)

/**
 * UTF-8 encodes `text` into `out` from `at` when it fills exactly `out.length - at` bytes, and
 * returns that count (-1 otherwise). `encodeInto(text, out.subarray(at))` would do it in one step,
 * but a view gives `out` an `ArrayBuffer` of its own, which every full collection then walks while
 * the program is stopped (see `decodeCommand`); the views made here are of the shared scratch.
 */
const encodeAt = (text: string, out: Uint8Array, at: number): number => {
  const room = out.length - at
  if (scratch.length < room) scratch = new Uint8Array(Math.max(room, scratch.length * 2))
  const view = scratch.subarray(0, room)
  const r = textEncoder.encodeInto(text, view)
  if (r.read !== text.length || r.written !== room) return -1
  out.set(view, at)
  return room
}

const isAscii = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false
  return true
}

const putU32 = (b: Uint8Array, at: number, v: number): void => {
  b[at] = v & 0xff
  b[at + 1] = (v >>> 8) & 0xff
  b[at + 2] = (v >>> 16) & 0xff
  b[at + 3] = v >>> 24
}

const getU32 = (b: Uint8Array, at: number): number =>
  (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0

/** A whole number in 0..2^53-1 as two little-endian u32 words (low first). */
const putU64 = (b: Uint8Array, at: number, v: number): void => {
  const hi = Math.floor(v / 0x1_0000_0000)
  putU32(b, at, v - hi * 0x1_0000_0000)
  putU32(b, at + 4, hi)
}

const getU64 = (b: Uint8Array, at: number): number => getU32(b, at + 4) * 0x1_0000_0000 + getU32(b, at)

const putText = (b: Uint8Array, at: number, s: string, ascii: boolean): number => {
  if (ascii) {
    for (let i = 0; i < s.length; i++) b[at++] = s.charCodeAt(i)
    return at
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    b[at++] = c & 0xff
    b[at++] = c >>> 8
  }
  return at
}

/**
 * Reads `n` units as one flat string. ASCII goes through the UTF-8 decoder, which makes the
 * compact one-byte strings the rest of the node holds: a key built unit by unit (a rope, or a
 * two-byte string) made the B-tree's compares and the dedupe set's hashing slow paths, 10 % of
 * a write. Other units are read as UTF-16.
 */
const getText = (b: Uint8Array, at: number, n: number, ascii: boolean): string => {
  if (ascii) {
    if (n === 0) return ""
    // Latin-1 over the entry itself: no view is allocated, and the string is flat and one byte
    // per unit (2.5x cheaper than the UTF-8 decoder over a `subarray` on Bun).
    return latin1Slice === undefined
      ? textDecoder.decode(b.subarray(at, at + n))
      : latin1Slice.call(b, at, at + n)
  }
  let s = ""
  for (let from = 0; from < n; from += UNITS_CHUNK) {
    const m = Math.min(UNITS_CHUNK, n - from)
    const units = new Array<number>(m)
    for (let i = 0; i < m; i++) {
      const p = at + 2 * (from + i)
      units[i] = b[p]! | (b[p + 1]! << 8)
    }
    s += String.fromCharCode(...units)
  }
  return s
}

/** Units per `String.fromCharCode` call (well under any engine's argument limit). */
const UNITS_CHUNK = 4096

/** Whether an entry is a split fence (log replicas apply only those). */
export const isSplitCommand = (data: Uint8Array): boolean => data[0] === 0x7b && data[2] === 0x73

/** Encodes a split fence. */
export const encodeSplit = (fence: SplitFence): Uint8Array =>
  textEncoder.encode(`${JSON.stringify({ split: fence })}\nnull`)

const NEWLINE = 0x0a

/** Is `data[at..)` exactly the four bytes of `null`? */
const isNull = (data: Uint8Array, at: number): boolean =>
  data.length - at === 4 &&
  data[at] === 0x6e &&
  data[at + 1] === 0x75 &&
  data[at + 2] === 0x6c &&
  data[at + 3] === 0x6c

/**
 * Decodes a command. Only the small header is decoded and parsed; the body stays bytes in place:
 * the command names the entry and where its body starts, and the stored item keeps that range
 * (`ByteRange` of `@partita/btree`, which hashes it as the bytes alone). Replicas in one process
 * share the decoded command (`decodeCommandShared`), so the three trees hold one entry's bytes.
 *
 * Not a view (`subarray`) of the body: in JavaScriptCore a view gives the entry an `ArrayBuffer`
 * of its own, and the collector keeps every such buffer on a list that each full collection walks
 * while the program is stopped. With one per log entry (60,000 in the benchmark's cluster) the
 * final pauses of full collections measured 11-16 ms on average at 25,000 writes/s; without,
 * 5.5-7.4 ms. Nor a copy (`slice`): that cost ~0.5 us per write and one more 1 KB array for the
 * collector's sweeper to free.
 * A JSON header (splits, and writes from before the binary header) never holds a raw newline
 * byte, so the first newline ends it.
 */
export const decodeCommand = (data: Uint8Array): Command => {
  if (data[0] === WRITE_TAG) {
    const fail = (what: string): never => {
      throw new Error(`corrupt command: ${what}`)
    }
    const flags = data[1]!
    const stamped = (flags & FLAG_STAMP) !== 0
    const ridAt = stamped ? 16 : 8
    if (data.length < ridAt + 4) fail("write header cut short")
    const rn = data[6]! | (data[7]! << 8)
    const ridW = (flags & FLAG_RID_ASCII) !== 0 ? 1 : 2
    const keyW = (flags & FLAG_KEY_ASCII) !== 0 ? 1 : 2
    let o = ridAt + ridW * rn
    if (o + 4 > data.length) fail("request id runs past the entry")
    const requestId = getText(data, ridAt, rn, ridW === 1)
    const stamp = stamped ? getU64(data, 8) : undefined
    if (stamp !== undefined && stamp > STAMP_MAX) fail("stamp out of range")
    const kn = getU32(data, o)
    o += 4
    if (o + keyW * kn > data.length) fail("key runs past the entry")
    const key = getText(data, o, kn, keyW === 1)
    o += keyW * kn
    const hasBody = (flags & FLAG_BODY) !== 0
    if (!hasBody && o !== data.length) fail("bytes after a delete")
    return new WriteCommand(
      requestId,
      key,
      hasBody ? data : undefined,
      o,
      (flags & FLAG_SIZE) !== 0 ? getU32(data, 2) : undefined,
      stamp,
    )
  }
  const nl = data.indexOf(NEWLINE)
  if (nl < 0) throw new Error("corrupt command: no header")
  const header = JSON.parse(textDecoder.decode(data.subarray(0, nl))) as {
    r?: string
    k?: string
    z?: number
    split?: SplitFence
  }
  if (header.split !== undefined) return { kind: "split", fence: header.split }
  const at = nl + 1
  const z = header.z
  return new WriteCommand(
    header.r!,
    header.k!,
    isNull(data, at) ? undefined : data,
    at,
    typeof z === "number" && Number.isInteger(z) && z >= 0 ? z : undefined,
  )
}
