/**
 * Log entry encoding. A write is decided on the leader and replicated as its resulting item image,
 * so every replica installs exactly the same bytes:
 *
 *   command := header-json "\n" item-json        (item-json is "null" for a delete)
 *   header  := { "r": requestId, "k": encodedKey }  |  { "split": SplitFence }
 *
 * Binary attribute values (B, BS) are written as `{"$b": base64}`; an AttributeValue never has a
 * `$b` member holding a string, so the form is unambiguous.
 */
import { Buffer } from "node:buffer"
import { type EncodedKey, type Item, itemSize } from "@partita/core"
import type { Boundary, Partition } from "@partita/partitioner"

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder()

/**
 * What a replica stores per key: the item's canonical text as UTF-8 bytes (sized, hashed into
 * checksums and checkpointed as they are), with the text and the parsed item on demand.
 */
export interface StoredItem {
  readonly item: Item
  readonly text: string
  readonly bytes: Uint8Array
  /** The item's DynamoDB size (`itemSize`), known without parsing when the log carried it. */
  readonly size: number
}

/**
 * A stored item held as the bytes the log carried. Followers apply every write but serve few
 * reads, so decoding (UTF-8 to a string) and parsing (`JSON.parse`) at apply time, on each of three
 * replicas, was most of a write's apply cost; now a replica hashes and stores the bytes, and
 * decodes and parses an item once, when it first reads it.
 */
class StoredBytes implements StoredItem {
  private decoded: string | undefined
  private parsed: Item | undefined
  /** -1: not known yet (computed from the item on first use). */
  private sized: number
  constructor(
    readonly bytes: Uint8Array,
    size: number,
  ) {
    this.sized = size
  }
  get size(): number {
    if (this.sized < 0) this.sized = itemSize(this.item)
    return this.sized
  }
  get text(): string {
    let t = this.decoded
    if (t === undefined) {
      t = textDecoder.decode(this.bytes)
      this.decoded = t
    }
    return t
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

/** The stored form of an item's canonical text. */
export const storedItem = (text: string): StoredItem => new StoredBytes(textEncoder.encode(text), -1)

/**
 * The stored form of an item's canonical text as UTF-8 bytes (kept, not copied), with its
 * DynamoDB size when known (else computed from the item when first asked).
 */
export const storedItemOfBytes = (bytes: Uint8Array, size?: number): StoredItem =>
  new StoredBytes(bytes, size === undefined || !(size >= 0) ? -1 : size)

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

/** A decoded write: the item image as UTF-8 bytes (`body`), and as text on demand. */
export class WriteCommand {
  readonly kind = "write" as const
  constructor(
    readonly requestId: string,
    readonly key: EncodedKey,
    /** The item's canonical text as UTF-8 bytes, a view into the entry (undefined: delete). */
    readonly body: Uint8Array | undefined,
    /** The item's DynamoDB size as the leader computed it (undefined: not carried). */
    readonly size: number | undefined,
  ) {}
  /** The item text (undefined: delete). */
  get text(): string | undefined {
    return this.body === undefined ? undefined : textDecoder.decode(this.body)
  }
}

/** A decoded log command. */
export type Command = WriteCommand | { readonly kind: "split"; readonly fence: SplitFence }

/**
 * Encodes a decided write; `size` is the item's DynamoDB size, carried so replicas know it
 * without parsing the item (a later write's capacity is charged on the larger of the two).
 */
export const encodeWrite = (
  requestId: string,
  key: EncodedKey,
  text: string | undefined,
  size?: number,
): Uint8Array =>
  textEncoder.encode(
    `${JSON.stringify(size === undefined ? { r: requestId, k: key } : { r: requestId, k: key, z: size })}\n${text ?? "null"}`,
  )

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
 * Decodes a command. Only the small header is decoded and parsed; the body stays bytes: a view
 * into `data`, not a copy. Log entry data is immutable once created (the leader encodes it once,
 * the in-process transport passes that array to every replica, and disks and WAL readers hand out
 * copies), so replicas holding views of it share one buffer instead of three copies: copying was
 * 9 % of a write's CPU, most of it in typed-array allocation and the collections it triggers.
 * The header is JSON, which never holds a raw newline byte, so the first newline ends it.
 */
export const decodeCommand = (data: Uint8Array): Command => {
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
    isNull(data, at) ? undefined : data.subarray(at),
    typeof z === "number" && Number.isInteger(z) && z >= 0 ? z : undefined,
  )
}
