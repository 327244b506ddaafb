/**
 * What a router needs from a Query's key condition to route it: the partition key value and the
 * sort-key range as encoded keys (core's order-preserving `encodeKeyValue`, the encoding partition
 * boundaries use), so it can visit every partition of an item collection split by sort key that
 * the condition touches. Pure functions. The full validation of the condition is the storage
 * node's (`@partita/expressions` `query`): an expression this does not understand only widens the
 * range (more partitions visited, each answering nothing outside the condition).
 */
import { type AttributeValue, type EncodedKey, encodeKeyValue, type Item } from "@partita/core"
import { type ConditionAst, type OperandAst, parseCondition, type TableKeySchema } from "@partita/expressions"
import type { Boundary } from "@partita/partitioner"
import { Either } from "effect"

/** A Query's key condition as routing sees it. */
export interface QueryKeyRange {
  readonly partitionKey: AttributeValue
  /** Lowest encoded sort key that may match (undefined: open below); `fromExclusive`: not itself. */
  readonly from: EncodedKey | undefined
  readonly fromExclusive: boolean
  /** Highest encoded sort key that may match (undefined: open above); `toExclusive`: not itself. */
  readonly to: EncodedKey | undefined
  readonly toExclusive: boolean
  /** begins_with: every match's encoded sort key extends this one. */
  readonly prefix: EncodedKey | undefined
}

const OPEN = { from: undefined, fromExclusive: false, to: undefined, toExclusive: false, prefix: undefined }

/**
 * The partition key value and sort-key range of a Query's `KeyConditionExpression` (resolved
 * through its placeholder maps), or undefined when no `partitionKey = :value` is found.
 */
export const queryKeyRange = (
  input: {
    readonly KeyConditionExpression?: string | undefined
    readonly ExpressionAttributeNames?: Readonly<Record<string, string>> | undefined
    readonly ExpressionAttributeValues?: Readonly<Record<string, AttributeValue>> | undefined
  },
  schema: TableKeySchema,
): QueryKeyRange | undefined => {
  const text = input.KeyConditionExpression
  if (typeof text !== "string") return undefined
  const parsed = parseCondition(text, "KeyConditionExpression")
  if (Either.isLeft(parsed)) return undefined
  const names = input.ExpressionAttributeNames ?? {}
  const values = input.ExpressionAttributeValues ?? {}
  const nameOf = (o: OperandAst): string | undefined => {
    if (o.k !== "path" || o.path.length !== 1) return undefined
    const p = o.path[0]
    if (typeof p !== "string") return undefined
    return p.startsWith("#") ? names[p] : p
  }
  const valueIn = (o: OperandAst): AttributeValue | undefined =>
    o.k === "value" ? values[o.name] : undefined
  let pk: AttributeValue | undefined
  let range: Omit<QueryKeyRange, "partitionKey"> = OPEN
  const skName = schema.sortKey?.name
  let widened = false
  for (const c of conjuncts(parsed.right.ast, [])) {
    if (c === undefined) widened = true
    else if (c.k === "cmp") {
      const swap = c.l.k === "value"
      const name = nameOf(swap ? c.r : c.l)
      const v = valueIn(swap ? c.l : c.r)
      if (name === undefined || v === undefined) continue
      const op = swap ? MIRROR[c.op] : c.op
      if (name === schema.partitionKey.name && op === "=") pk = v
      else if (name === skName && op !== undefined) range = cmpRange(op, v) ?? OPEN
    } else if (c.k === "between") {
      const lo = valueIn(c.lo)
      const hi = valueIn(c.hi)
      if (nameOf(c.v) === skName && lo !== undefined && hi !== undefined) {
        const a = encode(lo)
        const b = encode(hi)
        if (a !== undefined && b !== undefined) range = { ...OPEN, from: a, to: b }
      }
    } else if (c.k === "fn" && c.fn === "begins_with" && c.args.length === 2) {
      const v = valueIn(c.args[1]!)
      const p = v === undefined ? undefined : encode(v)
      if (nameOf(c.args[0]!) === skName && p !== undefined) range = { ...OPEN, from: p, prefix: p }
    }
  }
  if (pk === undefined) return undefined
  return { partitionKey: pk, ...(widened ? OPEN : range) }
}

/**
 * Narrows a range to what follows `ExclusiveStartKey` in the direction of the walk (routing only:
 * the node applies the start key itself).
 */
export const afterStartKey = (
  r: QueryKeyRange,
  esk: Item | undefined,
  schema: TableKeySchema,
  forward: boolean,
): QueryKeyRange => {
  const sk = schema.sortKey === undefined ? undefined : esk?.[schema.sortKey.name]
  const k = sk === undefined ? undefined : encode(sk)
  if (k === undefined) return r
  if (forward) return r.from !== undefined && r.from > k ? r : { ...r, from: k, fromExclusive: true }
  return r.to !== undefined && r.to < k ? r : { ...r, to: k, toExclusive: true }
}

/** Every key at or after encoded sort key `sk` (same partition key) lies above the range. */
export const aboveRange = (r: QueryKeyRange, sk: EncodedKey): boolean =>
  (r.to !== undefined && (r.toExclusive ? sk >= r.to : sk > r.to)) ||
  (r.prefix !== undefined && sk > r.prefix && !sk.startsWith(r.prefix))

/** Every key before encoded sort key `sk` (same partition key) lies below the range. */
export const belowRange = (r: QueryKeyRange, sk: EncodedKey): boolean => r.from !== undefined && sk <= r.from

/**
 * A position inside partition `p` of the item collection at hash `hash` (which `p` holds part
 * of): its start when the collection is split there, else the collection's first key.
 */
export const positionIn = (p: { readonly start: Boundary }, hash: string): Boundary =>
  p.start.hash === hash ? p.start : { hash }

/** The partitions a node reported are adjacent: `next` follows `prev` in the walk's direction. */
export const adjacent = (
  prevEdge: Boundary,
  next: { readonly start: Boundary; readonly end?: Boundary | undefined },
  forward: boolean,
): boolean => {
  const edge = forward ? next.start : next.end
  return edge !== undefined && edge.hash === prevEdge.hash && edge.sortKey === prevEdge.sortKey
}

const MIRROR: Record<string, "=" | "<" | "<=" | ">" | ">=" | undefined> = {
  "=": "=",
  "<": ">",
  "<=": ">=",
  ">": "<",
  ">=": "<=",
}

const cmpRange = (op: string, v: AttributeValue): Omit<QueryKeyRange, "partitionKey"> | undefined => {
  const k = encode(v)
  if (k === undefined) return undefined
  switch (op) {
    case "=":
      return { ...OPEN, from: k, to: k }
    case "<":
    case "<=":
      return { ...OPEN, to: k, toExclusive: op === "<" }
    case ">":
    case ">=":
      return { ...OPEN, from: k, fromExclusive: op === ">" }
    default:
      return undefined
  }
}

const encode = (v: AttributeValue): EncodedKey | undefined => {
  try {
    return encodeKeyValue(v)
  } catch {
    return undefined // not a key scalar: the node reports it
  }
}

/** The AND-ed parts of a condition; `undefined` marks a part routing cannot use (OR, NOT). */
const conjuncts = (
  c: ConditionAst,
  out: Array<ConditionAst | undefined>,
): Array<ConditionAst | undefined> => {
  if (c.k === "and") {
    conjuncts(c.l, out)
    conjuncts(c.r, out)
  } else if (c.k === "or" || c.k === "not") out.push(undefined)
  else out.push(c)
  return out
}
