/**
 * Condition evaluation. A parsed condition is bound once per request (placeholders resolved,
 * constant operands type-checked) into a tree of small closures; evaluating it against an item
 * allocates nothing on the common paths.
 */
import type { AttributeValue, Item } from "@partita/core"
import type { ConditionAst, OperandAst } from "./ast.ts"
import type { Binder, Path } from "./bind.ts"
import { invalid } from "./errors.ts"
import {
  compareBytes,
  compareScalars,
  equalValues,
  setHas,
  showValue,
  type TypeTag,
  typeOf,
  typeTags,
  utf8Length,
} from "./values.ts"

/** A bound condition: true when the item satisfies it. */
export type Predicate = (item: Item) => boolean
/** A bound operand: its value in the item, or undefined when absent. */
export type Getter = (item: Item) => AttributeValue | undefined

type AnyValue = {
  S?: string
  N?: string
  B?: Uint8Array
  M?: Item
  L?: ReadonlyArray<AttributeValue>
  SS?: ReadonlyArray<string>
  NS?: ReadonlyArray<string>
  BS?: ReadonlyArray<Uint8Array>
}

/** The value at a resolved path, or undefined. */
export const getPath = (item: Item, path: Path): AttributeValue | undefined => {
  let v: AttributeValue | undefined = item[path[0] as string]
  for (let i = 1; i < path.length && v !== undefined; i++) {
    const e = path[i]!
    if (typeof e === "number") {
      const l = (v as AnyValue).L
      v = l === undefined ? undefined : l[e]
    } else {
      const m = (v as AnyValue).M
      v = m === undefined ? undefined : Object.hasOwn(m, e) ? m[e] : undefined
    }
  }
  return v
}

/** Builds a getter for a resolved path, specialised for the common one- and two-step paths. */
export const pathGetter = (path: Path): Getter => {
  const first = path[0] as string
  if (path.length === 1) return (item) => (Object.hasOwn(item, first) ? item[first] : undefined)
  return (item) => getPath(item, path)
}

/** Size as `size()` reports it, or undefined when the type has no size. */
export const sizeOf = (v: AttributeValue): number | undefined => {
  const a = v as AnyValue
  if (a.S !== undefined) return utf8Length(a.S)
  if (a.B !== undefined) return a.B.length
  if (a.L !== undefined) return a.L.length
  if (a.M !== undefined) return Object.keys(a.M).length
  if (a.SS !== undefined) return a.SS.length
  if (a.NS !== undefined) return a.NS.length
  if (a.BS !== undefined) return a.BS.length
  return undefined
}

interface BoundOperand {
  readonly get: Getter
  /** The value when the operand is a constant (:value), for bind-time checks. */
  readonly constant: AttributeValue | undefined
}

const bindOperand = (o: OperandAst, b: Binder, what: string): BoundOperand => {
  switch (o.k) {
    case "value": {
      const v = b.value(o.name, what)
      return { get: () => v, constant: v }
    }
    case "path":
      return { get: pathGetter(b.path(o.path, what)), constant: undefined }
    case "call": {
      // Only size() reaches here in a condition (the parser rejects the others).
      const inner = pathGetter(b.path((o.args[0] as { path: Path }).path, what))
      return {
        get: (item) => {
          const v = inner(item)
          const n = v === undefined ? undefined : sizeOf(v)
          return n === undefined ? undefined : { N: String(n) }
        },
        constant: undefined,
      }
    }
  }
}

const ORDERED: ReadonlySet<TypeTag | undefined> = new Set<TypeTag | undefined>(["N", "S", "B"])

const requireOrdered = (op: string, c: AttributeValue | undefined, what: string): void => {
  if (c !== undefined && !ORDERED.has(typeOf(c))) {
    invalid(
      `Invalid ${what}: Incorrect operand type for operator or function; operator or function: ${op}, operand type: ${typeOf(c)}`,
    )
  }
}

/** Binds a condition tree into a predicate. */
export const bindCondition = (c: ConditionAst, b: Binder, what: string): Predicate => {
  switch (c.k) {
    case "and": {
      const l = bindCondition(c.l, b, what)
      const r = bindCondition(c.r, b, what)
      return (item) => l(item) && r(item)
    }
    case "or": {
      const l = bindCondition(c.l, b, what)
      const r = bindCondition(c.r, b, what)
      return (item) => l(item) || r(item)
    }
    case "not": {
      const p = bindCondition(c.c, b, what)
      return (item) => !p(item)
    }
    case "cmp":
      return bindComparison(c.op, bindOperand(c.l, b, what), bindOperand(c.r, b, what), what)
    case "between": {
      const v = bindOperand(c.v, b, what)
      const lo = bindOperand(c.lo, b, what)
      const hi = bindOperand(c.hi, b, what)
      requireOrdered("BETWEEN", v.constant, what)
      requireOrdered("BETWEEN", lo.constant, what)
      requireOrdered("BETWEEN", hi.constant, what)
      if (lo.constant !== undefined && hi.constant !== undefined) {
        const order = compareScalars(lo.constant, hi.constant)
        if (Number.isNaN(order)) {
          invalid(
            `Invalid ${what}: The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: ${showValue(lo.constant)}, upper bound operand: AttributeValue: ${showValue(hi.constant)}`,
          )
        }
        if (order > 0) {
          invalid(
            `Invalid ${what}: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: ${showValue(lo.constant)}, upper bound operand: AttributeValue: ${showValue(hi.constant)}`,
          )
        }
      }
      const gv = v.get
      const gl = lo.get
      const gh = hi.get
      return (item) => {
        const x = gv(item)
        const l = gl(item)
        const h = gh(item)
        if (x === undefined || l === undefined || h === undefined) return false
        return compareScalars(l, x) <= 0 && compareScalars(x, h) <= 0
      }
    }
    case "in": {
      const v = bindOperand(c.v, b, what).get
      const list = c.list.map((o) => bindOperand(o, b, what).get)
      return (item) => {
        const x = v(item)
        if (x === undefined) return false
        for (const g of list) {
          const y = g(item)
          if (y !== undefined && equalValues(x, y)) return true
        }
        return false
      }
    }
    case "fn":
      return bindFunction(c, b, what)
  }
}

const bindComparison = (op: string, l: BoundOperand, r: BoundOperand, what: string): Predicate => {
  const gl = l.get
  const gr = r.get
  if (op === "=" || op === "<>") {
    const want = op === "="
    // A constant right-hand side, the overwhelmingly common shape, skips one closure call.
    const k = r.constant
    if (k !== undefined) {
      return (item) => {
        const x = gl(item)
        return x === undefined ? !want : equalValues(x, k) === want
      }
    }
    return (item) => {
      const x = gl(item)
      const y = gr(item)
      if (x === undefined || y === undefined) return !want
      return equalValues(x, y) === want
    }
  }
  requireOrdered(op, l.constant, what)
  requireOrdered(op, r.constant, what)
  const test: (n: number) => boolean =
    op === "<" ? (n) => n < 0 : op === "<=" ? (n) => n <= 0 : op === ">" ? (n) => n > 0 : (n) => n >= 0
  return (item) => {
    const x = gl(item)
    const y = gr(item)
    if (x === undefined || y === undefined) return false
    return test(compareScalars(x, y)) // NaN (type mismatch) makes every test false
  }
}

const bindFunction = (c: Extract<ConditionAst, { k: "fn" }>, b: Binder, what: string): Predicate => {
  const target = bindOperand(c.args[0]!, b, what).get
  switch (c.fn) {
    case "attribute_exists":
      return (item) => target(item) !== undefined
    case "attribute_not_exists":
      return (item) => target(item) === undefined
    case "attribute_type": {
      const t = bindOperand(c.args[1]!, b, what).constant!
      const name = (t as AnyValue).S
      if (name === undefined || !typeTags.includes(name as TypeTag)) {
        invalid(
          `Invalid ${what}: Invalid attribute type name found in type: ${name ?? typeOf(t)}, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}`,
        )
      }
      return (item) => {
        const v = target(item)
        return v !== undefined && typeOf(v) === name
      }
    }
    case "begins_with": {
      const prefix = bindOperand(c.args[1]!, b, what)
      const k = prefix.constant
      if (k !== undefined && (k as AnyValue).S === undefined && (k as AnyValue).B === undefined) {
        invalid(
          `Invalid ${what}: Incorrect operand type for operator or function; operator or function: begins_with, operand type: ${typeOf(k)}`,
        )
      }
      const gp = prefix.get
      return (item) => {
        const v = target(item) as AnyValue | undefined
        const p = gp(item) as AnyValue | undefined
        if (v === undefined || p === undefined) return false
        if (v.S !== undefined) return p.S !== undefined && v.S.startsWith(p.S)
        if (v.B !== undefined && p.B !== undefined) {
          return p.B.length <= v.B.length && compareBytes(v.B.subarray(0, p.B.length), p.B) === 0
        }
        return false
      }
    }
    case "contains": {
      const gp = bindOperand(c.args[1]!, b, what).get
      return (item) => {
        const v = target(item) as AnyValue | undefined
        const p = gp(item)
        if (v === undefined || p === undefined) return false
        const q = p as AnyValue
        if (v.S !== undefined) return q.S !== undefined && v.S.includes(q.S)
        if (v.B !== undefined) return q.B !== undefined && bytesInclude(v.B, q.B)
        if (v.L !== undefined) return v.L.some((e) => equalValues(e, p))
        return setHas(v as AttributeValue, p)
      }
    }
  }
}

const bytesInclude = (hay: Uint8Array, needle: Uint8Array): boolean => {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer
    return true
  }
  return false
}
