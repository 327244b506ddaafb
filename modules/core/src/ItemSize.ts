/**
 * Item size exactly as DynamoDB counts it (developer guide, "DynamoDB item sizes and formats"):
 * the UTF-8 bytes of every attribute name plus the size of every value —
 *
 * - S: UTF-8 bytes; B: raw bytes; BOOL and NULL: 1 byte;
 * - N: 1 byte + 1 byte per pair of digits (base-100 pairs aligned on the decimal point, so
 *   "about one byte per two significant digits") + 1 byte if negative; zero is 1 byte;
 * - M and L: 3 bytes + 1 byte per element + the elements (for M, each key's UTF-8 bytes too);
 * - SS, NS, BS: the sum of their elements' sizes.
 */
import type { AttributeValue, Item } from "./AttributeValue.ts"
import { ValidationException } from "./Errors.ts"
import { decimalSizeBytes, parseDecimal } from "./internal/decimal.ts"
import { CONTAINER_OVERHEAD_BYTES, ELEMENT_OVERHEAD_BYTES } from "./internal/validate.ts"
import { utf8Length } from "./internal/utf8.ts"

/** DynamoDB's item size limit: 400 KB = 409,600 bytes (names and values). */
export const MAX_ITEM_SIZE_BYTES = 400 * 1024

/** Size in bytes DynamoDB counts for one number text (1 for an invalid one, which validation rejects). */
export const numberSizeBytes = (text: string): number => {
  const d = parseDecimal(text)
  return typeof d === "string" ? 1 : decimalSizeBytes(d)
}

/** Size in bytes of one attribute value, without its attribute name. */
export const attributeValueSize = (v: AttributeValue): number => {
  if ("S" in v) return utf8Length(v.S)
  if ("N" in v) return numberSizeBytes(v.N)
  if ("B" in v) return v.B.length
  if ("BOOL" in v || "NULL" in v) return 1
  if ("M" in v) {
    let size = CONTAINER_OVERHEAD_BYTES
    const m = v.M
    for (const name in m) size += ELEMENT_OVERHEAD_BYTES + utf8Length(name) + attributeValueSize(m[name]!)
    return size
  }
  if ("L" in v) {
    let size = CONTAINER_OVERHEAD_BYTES
    for (const e of v.L) size += ELEMENT_OVERHEAD_BYTES + attributeValueSize(e)
    return size
  }
  let size = 0
  if ("SS" in v) for (const s of v.SS) size += utf8Length(s)
  else if ("NS" in v) for (const n of v.NS) size += numberSizeBytes(n)
  else if ("BS" in v) for (const b of v.BS) size += b.length
  return size
}

/** Size in bytes of an item as DynamoDB counts it: attribute names' UTF-8 bytes plus values. */
export const itemSize = (item: Item): number => {
  let size = 0
  for (const name in item) size += utf8Length(name) + attributeValueSize(item[name]!)
  return size
}

/** Fails when the item is larger than {@link MAX_ITEM_SIZE_BYTES}; returns undefined otherwise. */
export const checkItemSize = (item: Item): ValidationException | undefined => {
  const size = itemSize(item)
  return size > MAX_ITEM_SIZE_BYTES ? itemTooLarge(size) : undefined
}

/** The error DynamoDB gives for an item over 400 KB, with the measured size. */
export const itemTooLarge = (size: number): ValidationException =>
  new ValidationException({
    message: `Item size has exceeded the maximum allowed size: ${size} bytes > ${MAX_ITEM_SIZE_BYTES} bytes (400 KB)`,
  })
