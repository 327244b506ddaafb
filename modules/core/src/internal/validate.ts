/**
 * One pass over an attribute value that both validates it as DynamoDB does and computes its size as
 * DynamoDB counts it. The path of a problem is built only when there is one (on the way back up), so
 * a valid item costs no string building.
 */
import { decimalSizeBytes, formatDecimal, parseDecimal } from "./decimal.ts"
import { isWellFormed, utf8Length } from "./utf8.ts"

/** Deepest level a value may sit at; a top-level attribute's value is level 1. */
export const NESTING_LEVELS_MAX = 32
/** Bytes of overhead of a List or a Map, whatever its contents. */
export const CONTAINER_OVERHEAD_BYTES = 3
/** Bytes of overhead per element of a List or Map. */
export const ELEMENT_OVERHEAD_BYTES = 1

/** What is wrong, and where: `path` lists the segments from the innermost outward. */
export class Problem {
  readonly path: Array<string | number> = []
  constructor(readonly message: string) {}
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Renders a path like `item.a.b[3]`; names that are not identifiers are quoted: `item["a b"]`. */
export const renderPath = (root: string, segmentsInnerFirst: ReadonlyArray<string | number>): string => {
  let out = root
  for (let i = segmentsInnerFirst.length - 1; i >= 0; i--) {
    const s = segmentsInnerFirst[i]!
    out += typeof s === "number" ? `[${s}]` : IDENT.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`
  }
  return out
}

const describe = (u: unknown): string =>
  u === null
    ? "null"
    : Array.isArray(u)
      ? "an array"
      : u instanceof Uint8Array
        ? "a Uint8Array"
        : `a ${typeof u}`

const TYPE_KEYS = "S, N, B, BOOL, NULL, M, L, SS, NS, BS"

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u) && !(u instanceof Uint8Array)

/**
 * Validates `v` as an attribute value at nesting `level` and returns its size in bytes (without the
 * attribute name), or the problem found.
 */
export const checkValue = (v: unknown, level: number): number | Problem => {
  if (level > NESTING_LEVELS_MAX)
    return new Problem(
      `nesting exceeds ${NESTING_LEVELS_MAX} levels (DynamoDB's limit for nested attributes)`,
    )
  if (!isRecord(v))
    return new Problem(`expected an attribute value such as {"S": "text"}, got ${describe(v)}`)
  let tag = ""
  let count = 0
  for (const k in v) {
    if (count++ === 0) tag = k
  }
  if (count !== 1)
    return new Problem(
      count === 0
        ? `an attribute value needs exactly one data type key (${TYPE_KEYS}); got none`
        : `an attribute value needs exactly one data type key (${TYPE_KEYS}); got ${count}: ${Object.keys(v).join(", ")}`,
    )
  const x = v[tag]
  switch (tag) {
    case "S":
      if (typeof x !== "string") return new Problem(`S must hold a string, got ${describe(x)}`)
      if (!isWellFormed(x)) return new Problem("S holds a string with a lone surrogate (not valid Unicode)")
      return utf8Length(x)
    case "N": {
      if (typeof x !== "string") return new Problem(`N must hold the number as a string, got ${describe(x)}`)
      const d = parseDecimal(x)
      return typeof d === "string" ? new Problem(d) : decimalSizeBytes(d)
    }
    case "B":
      if (!(x instanceof Uint8Array)) return new Problem(`B must hold a Uint8Array, got ${describe(x)}`)
      return x.length
    case "BOOL":
      if (typeof x !== "boolean") return new Problem(`BOOL must hold true or false, got ${describe(x)}`)
      return 1
    case "NULL":
      if (x !== true)
        return new Problem(`NULL must hold true (DynamoDB rejects any other value), got ${String(x)}`)
      return 1
    case "M": {
      if (!isRecord(x)) return new Problem(`M must hold an object of attribute values, got ${describe(x)}`)
      let size = CONTAINER_OVERHEAD_BYTES
      for (const name in x) {
        const r = checkValue(x[name], level + 1)
        if (typeof r !== "number") {
          r.path.push(name)
          return r
        }
        size += ELEMENT_OVERHEAD_BYTES + utf8Length(name) + r
      }
      return size
    }
    case "L": {
      if (!Array.isArray(x))
        return new Problem(`L must hold an array of attribute values, got ${describe(x)}`)
      let size = CONTAINER_OVERHEAD_BYTES
      for (let i = 0; i < x.length; i++) {
        const r = checkValue(x[i], level + 1)
        if (typeof r !== "number") {
          r.path.push(i)
          return r
        }
        size += ELEMENT_OVERHEAD_BYTES + r
      }
      return size
    }
    case "SS":
    case "NS":
    case "BS":
      return checkSet(tag, x)
    default:
      return new Problem(`unknown data type key ${JSON.stringify(tag)}; expected one of ${TYPE_KEYS}`)
  }
}

const bytesKey = (b: Uint8Array): string => {
  let s = ""
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!)
  return s
}

const checkSet = (tag: "SS" | "NS" | "BS", x: unknown): number | Problem => {
  if (!Array.isArray(x)) return new Problem(`${tag} must hold an array, got ${describe(x)}`)
  if (x.length === 0) return new Problem(`an ${tag} set must not be empty`)
  const seen = new Map<string, number>()
  let size = 0
  for (let i = 0; i < x.length; i++) {
    const e: unknown = x[i]
    let key: string
    if (tag === "SS") {
      if (typeof e !== "string") return at(new Problem(`SS elements must be strings, got ${describe(e)}`), i)
      if (!isWellFormed(e)) return at(new Problem("SS element has a lone surrogate (not valid Unicode)"), i)
      size += utf8Length(e)
      key = e
    } else if (tag === "NS") {
      if (typeof e !== "string")
        return at(new Problem(`NS elements must be numbers as strings, got ${describe(e)}`), i)
      const d = parseDecimal(e)
      if (typeof d === "string") return at(new Problem(d), i)
      size += decimalSizeBytes(d)
      key = formatDecimal(d)
    } else {
      if (!(e instanceof Uint8Array))
        return at(new Problem(`BS elements must be Uint8Arrays, got ${describe(e)}`), i)
      size += e.length
      key = bytesKey(e)
    }
    const prev = seen.get(key)
    if (prev !== undefined)
      return at(
        new Problem(
          tag === "NS"
            ? `the NS set has duplicate elements: ${JSON.stringify(x[prev])} and ${JSON.stringify(e)} are the same number`
            : `the ${tag} set has duplicate elements (same as element ${prev})`,
        ),
        i,
      )
    seen.set(key, i)
  }
  return size
}

const at = (p: Problem, i: number): Problem => {
  p.path.push(i)
  return p
}

/** Validates an item (attribute name → value) and returns its size in bytes, or the problem found. */
export const checkItem = (item: unknown): number | Problem => {
  if (!isRecord(item))
    return new Problem(`an item must be an object of attribute values, got ${describe(item)}`)
  let size = 0
  for (const name in item) {
    if (name.length === 0) return new Problem("attribute names must not be empty")
    const r = checkValue(item[name], 1)
    if (typeof r !== "number") {
      r.path.push(name)
      return r
    }
    size += utf8Length(name) + r
  }
  return size
}
