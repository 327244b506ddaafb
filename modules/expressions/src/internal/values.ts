/**
 * Attribute values: type tags, DynamoDB's equality and ordering (numbers by value, strings and
 * binaries by unsigned byte order), validation and canonicalisation of client input, item size.
 */
import { type AttributeValue, itemSize as coreItemSize, type Item, MAX_ITEM_SIZE_BYTES } from "@partita/core"
import { canonicalNumber, compareNumberText } from "./decimal.ts"
import { invalid } from "./errors.ts"

/** The ten DynamoDB type descriptors. */
export type TypeTag = "S" | "N" | "B" | "BOOL" | "NULL" | "M" | "L" | "SS" | "NS" | "BS"

/** All type descriptors, as `attribute_type` accepts them. */
export const typeTags: ReadonlyArray<TypeTag> = ["S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"]

/** Largest item DynamoDB stores, in bytes (core's MAX_ITEM_SIZE_BYTES). */
export const itemBytesMax: number = MAX_ITEM_SIZE_BYTES
/** Most levels of nested maps and lists DynamoDB accepts (a top-level map or list is level 1). */
export const nestingLevelsMax = 32

type AnyValue = {
  S?: string
  N?: string
  B?: Uint8Array
  BOOL?: boolean
  NULL?: true
  M?: Item
  L?: ReadonlyArray<AttributeValue>
  SS?: ReadonlyArray<string>
  NS?: ReadonlyArray<string>
  BS?: ReadonlyArray<Uint8Array>
}

/** The type descriptor of a value (undefined for a malformed value). */
export const typeOf = (v: AttributeValue): TypeTag | undefined => {
  const a = v as AnyValue
  if (a.S !== undefined) return "S"
  if (a.N !== undefined) return "N"
  if (a.M !== undefined) return "M"
  if (a.L !== undefined) return "L"
  if (a.BOOL !== undefined) return "BOOL"
  if (a.B !== undefined) return "B"
  if (a.NULL !== undefined) return "NULL"
  if (a.SS !== undefined) return "SS"
  if (a.NS !== undefined) return "NS"
  if (a.BS !== undefined) return "BS"
  return undefined
}

/** Unsigned byte order of two byte arrays (−1, 0, 1). */
export const compareBytes = (a: Uint8Array, b: Uint8Array): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a[i]!
    const y = b[i]!
    if (x !== y) return x < y ? -1 : 1
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}

/**
 * UTF-8 byte order of two strings without encoding them. UTF-8 order is code-point order; JS's
 * `<` is UTF-16 code-unit order, which differs only where a surrogate (U+D800–DFFF, part of a
 * code point ≥ U+10000) meets a unit in U+E000–FFFF. Remapping units fixes exactly that case.
 */
export const compareStrings = (a: string, b: string): number => {
  if (a === b) return 0
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i)
    let y = b.charCodeAt(i)
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000
      }
      return x < y ? -1 : 1
    }
  }
  return a.length < b.length ? -1 : 1
}

/** Number of UTF-8 bytes of a string, without allocating. */
export const utf8Length = (s: string): number => {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4
        i++
      } else n += 3
    } else n += 3
  }
  return n
}

/**
 * Ordering of two scalars of the same type (S, N or B) for `< <= > >= BETWEEN`. Returns NaN when
 * the types differ or are not ordered: DynamoDB makes such a comparison false, not an error.
 */
export const compareScalars = (a: AttributeValue, b: AttributeValue): number => {
  const x = a as AnyValue
  const y = b as AnyValue
  if (x.N !== undefined) return y.N !== undefined ? compareNumberText(x.N, y.N) : Number.NaN
  if (x.S !== undefined) return y.S !== undefined ? compareStrings(x.S, y.S) : Number.NaN
  if (x.B !== undefined) return y.B !== undefined ? compareBytes(x.B, y.B) : Number.NaN
  return Number.NaN
}

/** DynamoDB equality: same type and same value (sets as unordered collections, numbers by value). */
export const equalValues = (a: AttributeValue, b: AttributeValue): boolean => {
  const x = a as AnyValue
  const y = b as AnyValue
  if (x.S !== undefined) return x.S === y.S
  if (x.N !== undefined) return y.N !== undefined && (x.N === y.N || compareNumberText(x.N, y.N) === 0)
  if (x.B !== undefined) return y.B !== undefined && compareBytes(x.B, y.B) === 0
  if (x.BOOL !== undefined) return x.BOOL === y.BOOL
  if (x.NULL !== undefined) return y.NULL !== undefined
  if (x.L !== undefined) {
    const l = y.L
    if (l === undefined || l.length !== x.L.length) return false
    for (let i = 0; i < l.length; i++) if (!equalValues(x.L[i]!, l[i]!)) return false
    return true
  }
  if (x.M !== undefined) {
    const m = y.M
    if (m === undefined) return false
    const ka = Object.keys(x.M)
    if (ka.length !== Object.keys(m).length) return false
    for (const k of ka) {
      const w = m[k]
      if (w === undefined || !equalValues(x.M[k]!, w)) return false
    }
    return true
  }
  if (x.SS !== undefined) return y.SS !== undefined && sameSet(x.SS, y.SS, stringKey)
  if (x.NS !== undefined) return y.NS !== undefined && sameSet(x.NS, y.NS, numberKey)
  if (x.BS !== undefined) return y.BS !== undefined && sameSet(x.BS, y.BS, bytesKey)
  return false
}

/** Set element keys: equal elements have equal keys (numbers by value, bytes by content). */
export const stringKey = (s: string): string => s
export const numberKey = (n: string): string => canonicalNumber(n)
export const bytesKey = (b: Uint8Array): string => {
  let k = ""
  for (let i = 0; i < b.length; i++) k += String.fromCharCode(b[i]!)
  return k
}

/** Same elements, in linear time (sets hold no duplicates). */
const sameSet = <T>(a: ReadonlyArray<T>, b: ReadonlyArray<T>, key: (e: T) => string): boolean => {
  if (a.length !== b.length) return false
  const keys = new Set<string>()
  for (const e of a) keys.add(key(e))
  for (const e of b) if (!keys.has(key(e))) return false
  return true
}

/** True when the set contains an element equal to `e`. */
export const setHas = (set: AttributeValue, e: AttributeValue): boolean => {
  const s = set as AnyValue
  const x = e as AnyValue
  if (s.SS !== undefined) return x.S !== undefined && s.SS.includes(x.S)
  if (s.NS !== undefined) {
    const n = x.N
    return n !== undefined && s.NS.some((m) => compareNumberText(m, n) === 0)
  }
  if (s.BS !== undefined) {
    const b = x.B
    return b !== undefined && s.BS.some((m) => compareBytes(m, b) === 0)
  }
  return false
}

/** Long name of a type as DynamoDB's messages spell it. */
export const typeLongName = (t: TypeTag | undefined): string => {
  switch (t) {
    case "S":
      return "STRING"
    case "N":
      return "NUMBER"
    case "B":
      return "BINARY"
    case "BOOL":
      return "BOOLEAN"
    case "NULL":
      return "NULL"
    case "M":
      return "MAP"
    case "L":
      return "LIST"
    case "SS":
      return "STRING_SET"
    case "NS":
      return "NUMBER_SET"
    case "BS":
      return "BINARY_SET"
    default:
      return "UNKNOWN"
  }
}

/** Short text of a value for error messages. */
export const showValue = (v: AttributeValue): string => {
  const t = typeOf(v)
  const a = v as AnyValue
  switch (t) {
    case "S":
      return `{S:${a.S}}`
    case "N":
      return `{N:${a.N}}`
    case "BOOL":
      return `{BOOL:${a.BOOL}}`
    case "NULL":
      return "{NULL:true}"
    default:
      return `{${t ?? "?"}:...}`
  }
}

/**
 * Validates a client-supplied value and returns it with numbers in canonical text. Throws a
 * ValidationException for malformed values, empty or duplicate sets, bad numbers, deep nesting.
 */
export const canonicalValue = (v: AttributeValue, depth = 0): AttributeValue => {
  if (v === null || typeof v !== "object")
    return invalid("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
  // Count keys without allocating an array (this runs for every value of every request).
  let tag: string | undefined
  let count = 0
  for (const k in v) {
    if (!Object.hasOwn(v, k)) continue
    tag = k
    if (++count > 1) break
  }
  if (count !== 1) {
    return invalid(
      count === 0
        ? "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        : "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
    )
  }
  const a = v as AnyValue
  switch (tag) {
    case "S":
      if (typeof a.S !== "string") invalid("Invalid attribute value type")
      return v
    case "N": {
      if (typeof a.N !== "string") invalid("Invalid attribute value type")
      const n = canonicalNumber(a.N!)
      return n === a.N ? v : { N: n }
    }
    case "B":
      if (!(a.B instanceof Uint8Array)) invalid("Invalid attribute value type")
      return v
    case "BOOL":
      if (typeof a.BOOL !== "boolean") invalid("Invalid attribute value type")
      return v
    case "NULL":
      if (a.NULL !== true)
        invalid(
          "One or more parameter values were invalid: Null attribute value types must have the value of true",
        )
      return v
    case "L": {
      if (!Array.isArray(a.L)) invalid("Invalid attribute value type")
      if (depth >= nestingLevelsMax) invalid("Nesting Levels have exceeded supported limits")
      let changed = false
      const out = a.L!.map((e) => {
        const c = canonicalValue(e, depth + 1)
        if (c !== e) changed = true
        return c
      })
      return changed ? { L: out } : v
    }
    case "M": {
      if (a.M === null || typeof a.M !== "object") invalid("Invalid attribute value type")
      if (depth >= nestingLevelsMax) invalid("Nesting Levels have exceeded supported limits")
      let changed = false
      const out: Record<string, AttributeValue> = {}
      for (const k of Object.keys(a.M!)) {
        const e = a.M![k]!
        const c = canonicalValue(e, depth + 1)
        if (c !== e) changed = true
        out[k] = c
      }
      return changed ? { M: out } : v
    }
    case "SS":
      return {
        SS: checkSet(
          "string",
          a.SS,
          (s) => typeof s === "string",
          (s) => s,
          (s) => s,
        ),
      }
    case "NS":
      return {
        NS: checkSet(
          "number",
          a.NS,
          (s) => typeof s === "string",
          canonicalNumber,
          (s) => s,
        ),
      }
    case "BS":
      return {
        BS: checkSet(
          "binary",
          a.BS,
          (s) => s instanceof Uint8Array,
          (s) => s,
          (s) => Array.from(s).join(","),
        ),
      }
    default:
      return invalid(`Supplied AttributeValue has an unsupported datatype: ${tag}`)
  }
}

const checkSet = <T>(
  kind: string,
  set: ReadonlyArray<T> | undefined,
  ok: (e: T) => boolean,
  canon: (e: T) => T,
  key: (e: T) => string,
): ReadonlyArray<T> => {
  if (!Array.isArray(set)) return invalid("Invalid attribute value type")
  if (set.length === 0) invalid(`One or more parameter values were invalid: An ${kind} set  may not be empty`)
  const seen = new Set<string>()
  const out: T[] = []
  for (const e of set as ReadonlyArray<T>) {
    if (!ok(e)) invalid("Invalid attribute value type")
    const c = canon(e)
    const k = key(c)
    if (seen.has(k))
      invalid(`One or more parameter values were invalid: Input collection contains duplicates`)
    seen.add(k)
    out.push(c)
  }
  return out
}

/** Validates every attribute of an item and returns it with canonical numbers. */
export const canonicalItem = (item: Item): Item => {
  if (item === null || typeof item !== "object") return invalid("Item must be a map of attribute values")
  let changed = false
  const out: Record<string, AttributeValue> = {}
  for (const k of Object.keys(item)) {
    if (k.length === 0)
      invalid(
        "One or more parameter values were invalid: An AttributeValue may not contain an empty attribute name",
      )
    const v = item[k]!
    const c = canonicalValue(v)
    if (c !== v) changed = true
    out[k] = c
  }
  return changed ? out : item
}

/** Item size in bytes as DynamoDB counts it (core's implementation, one source for Partita). */
export const itemSize: (item: Item) => number = coreItemSize

/** True when some map or list in the item nests deeper than DynamoDB allows (32 levels). */
export const nestingTooDeep = (item: Item): boolean => {
  const deep = (v: AttributeValue, depth: number): boolean => {
    const a = v as AnyValue
    if (a.M !== undefined) {
      if (depth >= nestingLevelsMax) return true
      for (const k in a.M) if (deep(a.M[k]!, depth + 1)) return true
    } else if (a.L !== undefined) {
      if (depth >= nestingLevelsMax) return true
      for (const e of a.L) if (deep(e, depth + 1)) return true
    }
    return false
  }
  for (const k in item) if (deep(item[k]!, 0)) return true
  return false
}

/** Deep copy-free helper: the attribute at `name` of a map value, if the value is a map. */
export const mapOf = (v: AttributeValue | undefined): Item | undefined => (v as AnyValue | undefined)?.M
/** The elements of a list value, if the value is a list. */
export const listOf = (v: AttributeValue | undefined): ReadonlyArray<AttributeValue> | undefined =>
  (v as AnyValue | undefined)?.L
