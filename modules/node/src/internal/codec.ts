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
import type { EncodedKey, Item } from "@partita/core"
import type { Boundary, Partition } from "@partita/partitioner"

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder()

/** What a replica stores per key: the item and its canonical text (hashed into checksums). */
export interface StoredItem {
  readonly item: Item
  readonly text: string
}

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

/** A decoded log command. */
export type Command =
  | {
      readonly kind: "write"
      readonly requestId: string
      readonly key: EncodedKey
      /** The item text (undefined: delete). */
      readonly text: string | undefined
    }
  | { readonly kind: "split"; readonly fence: SplitFence }

/** Encodes a decided write. */
export const encodeWrite = (requestId: string, key: EncodedKey, text: string | undefined): Uint8Array =>
  textEncoder.encode(`${JSON.stringify({ r: requestId, k: key })}\n${text ?? "null"}`)

/** Encodes a split fence. */
export const encodeSplit = (fence: SplitFence): Uint8Array =>
  textEncoder.encode(`${JSON.stringify({ split: fence })}\nnull`)

/** Decodes a command. */
export const decodeCommand = (data: Uint8Array): Command => {
  const s = textDecoder.decode(data)
  const nl = s.indexOf("\n")
  if (nl < 0) throw new Error("corrupt command: no header")
  const header = JSON.parse(s.slice(0, nl)) as { r?: string; k?: string; split?: SplitFence }
  if (header.split !== undefined) return { kind: "split", fence: header.split }
  const body = s.slice(nl + 1)
  return { kind: "write", requestId: header.r!, key: header.k!, text: body === "null" ? undefined : body }
}
