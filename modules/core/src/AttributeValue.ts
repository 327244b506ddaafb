/**
 * A DynamoDB attribute value, in DynamoDB's own JSON shape (`{ S: "abc" }`, `{ N: "1.5" }`, ...).
 * Numbers are kept as their exact decimal text (never a JS float); binaries as bytes.
 */
export type AttributeValue =
  | { readonly S: string }
  | { readonly N: string }
  | { readonly B: Uint8Array }
  | { readonly BOOL: boolean }
  | { readonly NULL: true }
  | { readonly M: { readonly [name: string]: AttributeValue } }
  | { readonly L: ReadonlyArray<AttributeValue> }
  | { readonly SS: ReadonlyArray<string> }
  | { readonly NS: ReadonlyArray<string> }
  | { readonly BS: ReadonlyArray<Uint8Array> }

/** An item: attribute name → value. */
export type Item = { readonly [name: string]: AttributeValue }

/** Scalar types allowed for key attributes. */
export type KeyType = "S" | "N" | "B"

/**
 * An order-preserving encoded key. Comparing two encodings with JS `<` (UTF-16 code-unit order)
 * gives DynamoDB's order of the keys they encode.
 */
export type EncodedKey = string

/** The data type tag of an attribute value. */
export type AttributeType = "S" | "N" | "B" | "BOOL" | "NULL" | "M" | "L" | "SS" | "NS" | "BS"

/** Every data type tag, in DynamoDB's documentation order. */
export const ATTRIBUTE_TYPES: ReadonlyArray<AttributeType> = [
  "S",
  "N",
  "B",
  "BOOL",
  "NULL",
  "M",
  "L",
  "SS",
  "NS",
  "BS",
]

/** The data type tag of a (valid) attribute value, e.g. `attributeType({ N: "1" }) === "N"`. */
export const attributeType = (v: AttributeValue): AttributeType => {
  for (const k in v) return k as AttributeType
  throw new Error("attributeType: an attribute value has exactly one data type key")
}
