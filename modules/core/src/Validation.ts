/**
 * Plain, fast validation of items and attribute values for hot paths (no Effect allocation), with
 * messages that name the path and the problem: `Invalid item: item.tags: an SS set must not be empty`.
 * The Effect Schemas in `Schema.ts` use the same checks.
 */
import type { AttributeValue, Item } from "./AttributeValue.ts"
import { ValidationException } from "./Errors.ts"
import { itemTooLarge, MAX_ITEM_SIZE_BYTES } from "./ItemSize.ts"
import { formatDecimal, parseDecimal } from "./internal/decimal.ts"
import { checkItem, checkValue, NESTING_LEVELS_MAX, renderPath } from "./internal/validate.ts"

/** Deepest nesting DynamoDB accepts: a top-level attribute's value is level 1, its elements level 2 … 32. */
export const MAX_NESTING_LEVELS = NESTING_LEVELS_MAX

/**
 * Checks an item as DynamoDB does before storing it: each value well-formed (one data type key,
 * right JS type), numbers valid (≤ 38 digits, in range), sets non-empty with unique elements (NS by
 * numeric value), nesting ≤ 32 levels, names non-empty, size ≤ 400 KB. Returns undefined when valid.
 * Empty strings and binaries are allowed (key attributes are checked by `keyOf`).
 */
export const validateItem = (item: unknown): ValidationException | undefined => {
  const r = checkItem(item)
  if (typeof r === "number") return r > MAX_ITEM_SIZE_BYTES ? itemTooLarge(r) : undefined
  return new ValidationException({ message: `Invalid item: ${renderPath("item", r.path)}: ${r.message}` })
}

/** Checks one attribute value (top level = nesting level 1). Returns undefined when valid. */
export const validateAttributeValue = (value: unknown, root = "value"): ValidationException | undefined => {
  const r = checkValue(value, 1)
  if (typeof r === "number") return undefined
  return new ValidationException({
    message: `Invalid attribute value: ${renderPath(root, r.path)}: ${r.message}`,
  })
}

/** True when `u` is a valid attribute value. */
export const isAttributeValue = (u: unknown): u is AttributeValue => typeof checkValue(u, 1) === "number"

/** True when `u` is a valid item (including the 400 KB limit). */
export const isItem = (u: unknown): u is Item => validateItem(u) === undefined

/**
 * The value with every number (N and NS elements, at any depth) in canonical text. Returns the same
 * object when nothing changes. Precondition: `v` is valid.
 */
export const normalizeAttributeValue = (v: AttributeValue): AttributeValue => {
  if ("N" in v) {
    const c = canonical(v.N)
    return c === v.N ? v : { N: c }
  }
  if ("NS" in v) {
    let out: Array<string> | undefined
    for (let i = 0; i < v.NS.length; i++) {
      const c = canonical(v.NS[i]!)
      if (c !== v.NS[i] && out === undefined) out = v.NS.slice(0, i)
      if (out !== undefined) out.push(c)
    }
    return out === undefined ? v : { NS: out }
  }
  if ("M" in v) {
    const m = normalizeItem(v.M)
    return m === v.M ? v : { M: m }
  }
  if ("L" in v) {
    let out: Array<AttributeValue> | undefined
    for (let i = 0; i < v.L.length; i++) {
      const e = v.L[i]!
      const c = normalizeAttributeValue(e)
      if (c !== e && out === undefined) out = v.L.slice(0, i)
      if (out !== undefined) out.push(c)
    }
    return out === undefined ? v : { L: out }
  }
  return v
}

/** The item with every number in canonical text; the same object when nothing changes. Precondition: valid. */
export const normalizeItem = (item: Item): Item => {
  let out: Record<string, AttributeValue> | undefined
  for (const name in item) {
    const e = item[name]!
    const c = normalizeAttributeValue(e)
    if (c !== e && out === undefined) out = { ...item }
    if (out !== undefined) out[name] = c
  }
  return out ?? item
}

const canonical = (text: string): string => {
  const d = parseDecimal(text)
  return typeof d === "string" ? text : formatDecimal(d)
}
