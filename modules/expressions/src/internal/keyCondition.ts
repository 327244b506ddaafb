/**
 * Key conditions for Query: equality on the partition key and at most one of
 * `= < <= > >= BETWEEN begins_with` on the sort key, joined by AND.
 */
import type { AttributeValue } from "@partita/core"
import type { Comparator, ConditionAst, OperandAst } from "./ast.ts"
import type { Binder } from "./bind.ts"
import { invalid } from "./errors.ts"
import type { SortKeyStart, TableKeySchema } from "./store.ts"
import { compareBytes, compareScalars, showValue, typeOf } from "./values.ts"

const WHAT = "KeyConditionExpression"

/** The sort-key part of a key condition. */
export type SortKeyCondition =
  | { readonly op: Exclude<Comparator, "<>">; readonly value: AttributeValue }
  | { readonly op: "between"; readonly lo: AttributeValue; readonly hi: AttributeValue }
  | { readonly op: "begins_with"; readonly prefix: AttributeValue }

/** A bound key condition. */
export interface KeyCondition {
  readonly partitionKey: AttributeValue
  readonly sortKey: SortKeyCondition | undefined
}

const conjuncts = (c: ConditionAst, out: ConditionAst[]): ConditionAst[] => {
  if (c.k === "and") {
    conjuncts(c.l, out)
    conjuncts(c.r, out)
  } else if (c.k === "or" || c.k === "not") {
    invalid(`Invalid operator used in ${WHAT}: ${c.k.toUpperCase()}`)
  } else out.push(c)
  return out
}

const MIRROR: Record<string, Exclude<Comparator, "<>">> = {
  "=": "=",
  "<": ">",
  "<=": ">=",
  ">": "<",
  ">=": "<=",
}

/** Binds a parsed key condition against the table's key schema. */
export const bindKeyCondition = (ast: ConditionAst, b: Binder, schema: TableKeySchema): KeyCondition => {
  let pk: AttributeValue | undefined
  let sk: SortKeyCondition | undefined
  const keyName = (o: OperandAst): string => {
    if (o.k !== "path") return invalid(`Invalid ${WHAT}: Query key condition not supported`)
    const p = b.path(o.path, WHAT)
    if (p.length !== 1) invalid(`Invalid ${WHAT}: Key condition may only name top-level key attributes`)
    return p[0] as string
  }
  const value = (o: OperandAst): AttributeValue =>
    o.k === "value" ? b.value(o.name, WHAT) : invalid(`Invalid ${WHAT}: Query key condition not supported`)
  for (const c of conjuncts(ast, [])) {
    let name: string
    let cond: SortKeyCondition
    if (c.k === "cmp") {
      if (c.op === "<>") invalid(`Invalid ${WHAT}: Unsupported operator in key condition: <>`)
      const swap = c.l.k === "value" && c.r.k === "path"
      name = keyName(swap ? c.r : c.l)
      cond = {
        op: swap ? MIRROR[c.op]! : (c.op as Exclude<Comparator, "<>">),
        value: value(swap ? c.l : c.r),
      }
    } else if (c.k === "between") {
      name = keyName(c.v)
      cond = { op: "between", lo: value(c.lo), hi: value(c.hi) }
    } else if (c.k === "fn" && c.fn === "begins_with") {
      name = keyName(c.args[0]!)
      cond = { op: "begins_with", prefix: value(c.args[1]!) }
    } else {
      return invalid(`Invalid operator used in ${WHAT}: ${c.k === "fn" ? c.fn : c.k.toUpperCase()}`)
    }
    if (name === schema.partitionKey.name) {
      if (cond.op !== "=") invalid(`Invalid ${WHAT}: Query key condition not supported`)
      if (pk !== undefined) invalid(`${WHAT}s must only contain one condition per key`)
      pk = (cond as { value: AttributeValue }).value
      checkType(pk, schema.partitionKey.type)
    } else if (schema.sortKey !== undefined && name === schema.sortKey.name) {
      if (sk !== undefined) invalid(`${WHAT}s must only contain one condition per key`)
      sk = checkSortCondition(cond, schema.sortKey.type)
    } else {
      invalid(`Invalid ${WHAT}: Query key condition not supported; ${name} is not a key attribute`)
    }
  }
  if (pk === undefined) invalid(`Query condition missed key schema element: ${schema.partitionKey.name}`)
  return { partitionKey: pk!, sortKey: sk }
}

const checkType = (v: AttributeValue, t: string): void => {
  if (typeOf(v) !== t) {
    invalid("One or more parameter values were invalid: Condition parameter type does not match schema type")
  }
}

const checkSortCondition = (c: SortKeyCondition, t: string): SortKeyCondition => {
  if (c.op === "between") {
    checkType(c.lo, t)
    checkType(c.hi, t)
    if (compareScalars(c.lo, c.hi) > 0) {
      invalid(
        `Invalid ${WHAT}: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: ${showValue(c.lo)}, upper bound operand: AttributeValue: ${showValue(c.hi)}`,
      )
    }
  } else if (c.op === "begins_with") {
    if (t === "N") {
      invalid(
        `Invalid ${WHAT}: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N`,
      )
    }
    checkType(c.prefix, t)
  } else checkType(c.value, t)
  return c
}

/**
 * Where a sort key lies relative to the condition's range, in ascending order: −1 before it,
 * 0 inside, 1 after it. (Every condition selects one contiguous run of sort keys.)
 */
export const sortKeyPosition = (c: SortKeyCondition, v: AttributeValue): number => {
  switch (c.op) {
    case "=": {
      const d = compareScalars(v, c.value)
      return d < 0 ? -1 : d > 0 ? 1 : 0
    }
    case "<":
      return compareScalars(v, c.value) < 0 ? 0 : 1
    case "<=":
      return compareScalars(v, c.value) <= 0 ? 0 : 1
    case ">":
      return compareScalars(v, c.value) > 0 ? 0 : -1
    case ">=":
      return compareScalars(v, c.value) >= 0 ? 0 : -1
    case "between":
      return compareScalars(v, c.lo) < 0 ? -1 : compareScalars(v, c.hi) > 0 ? 1 : 0
    case "begins_with": {
      const p = c.prefix as { S?: string; B?: Uint8Array }
      const x = v as { S?: string; B?: Uint8Array }
      if (p.S !== undefined && x.S !== undefined) {
        if (x.S.startsWith(p.S)) return 0
      } else if (p.B !== undefined && x.B !== undefined) {
        if (x.B.length >= p.B.length && compareBytes(x.B.subarray(0, p.B.length), p.B) === 0) return 0
      }
      return compareScalars(v, c.prefix) < 0 ? -1 : 1
    }
  }
}

/** The first sort key a walk in the given direction needs to visit, when the condition bounds it. */
export const sortKeyStart = (c: SortKeyCondition | undefined, forward: boolean): SortKeyStart | undefined => {
  if (c === undefined) return undefined
  switch (c.op) {
    case "=":
      return { sortKey: c.value, inclusive: true }
    case "between":
      return { sortKey: forward ? c.lo : c.hi, inclusive: true }
    case "begins_with":
      return forward ? { sortKey: c.prefix, inclusive: true } : undefined
    case ">":
    case ">=":
      return forward ? { sortKey: c.value, inclusive: c.op === ">=" } : undefined
    case "<":
    case "<=":
      return forward ? undefined : { sortKey: c.value, inclusive: c.op === "<=" }
  }
}
