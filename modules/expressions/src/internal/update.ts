/**
 * Update expressions: SET (with + and −, if_not_exists, list_append), REMOVE (attributes, map
 * entries and list elements), ADD (numbers and sets) and DELETE (set elements). Every operand is
 * read from the item as it was before the update, as DynamoDB does; the result is a new item
 * (the input is never mutated), built copy-on-write along the updated paths.
 */
import type { AttributeValue, Item } from "@partita/core"
import type { OperandAst, SetValueAst, UpdateAst } from "./ast.ts"
import { type Binder, checkPathsDisjoint, type Path } from "./bind.ts"
import { getPath } from "./condition.ts"
import { addNumberText, subtractNumberText } from "./decimal.ts"
import { invalid } from "./errors.ts"
import { bytesKey, numberKey, stringKey, typeLongName, typeOf } from "./values.ts"

type AnyValue = {
  N?: string
  M?: Item
  L?: ReadonlyArray<AttributeValue>
  SS?: ReadonlyArray<string>
  NS?: ReadonlyArray<string>
  BS?: ReadonlyArray<Uint8Array>
}

type Eval = (item: Item) => AttributeValue

/** A bound action, ready to apply. */
type BoundAction =
  | { readonly k: "SET"; readonly path: Path; readonly value: Eval }
  | { readonly k: "REMOVE"; readonly path: Path }
  | { readonly k: "ADD" | "DELETE"; readonly path: Path; readonly value: AttributeValue }

/** A bound update expression. */
export interface BoundUpdate {
  readonly actions: ReadonlyArray<BoundAction>
  /** Every path the update writes (for UPDATED_OLD / UPDATED_NEW and key protection). */
  readonly paths: ReadonlyArray<Path>
}

const WHAT = "UpdateExpression"

const missing = (): never =>
  invalid("The provided expression refers to an attribute that does not exist in the item")
const wrongType = (): never => invalid("An operand in the update expression has an incorrect data type")
const badPath = (): never =>
  invalid("The document path provided in the update expression is invalid for update")

const bindOperand = (o: OperandAst, b: Binder): Eval => {
  switch (o.k) {
    case "value": {
      const v = b.value(o.name, WHAT)
      return () => v
    }
    case "path": {
      const p = b.path(o.path, WHAT)
      return (item) => getPath(item, p) ?? missing()
    }
    case "call": {
      if (o.fn === "if_not_exists") {
        const p = b.path((o.args[0] as { path: Path }).path, WHAT)
        const dflt = bindOperand(o.args[1]!, b)
        return (item) => getPath(item, p) ?? dflt(item)
      }
      // list_append
      const l = bindOperand(o.args[0]!, b)
      const r = bindOperand(o.args[1]!, b)
      return (item) => {
        const x = (l(item) as AnyValue).L
        const y = (r(item) as AnyValue).L
        if (x === undefined || y === undefined) wrongType()
        return { L: [...x!, ...y!] }
      }
    }
  }
}

const bindSetValue = (v: SetValueAst, b: Binder): Eval => {
  if (v.k !== "arith") return bindOperand(v, b)
  const l = bindOperand(v.l, b)
  const r = bindOperand(v.r, b)
  const f = v.op === "+" ? addNumberText : subtractNumberText
  return (item) => {
    const x = (l(item) as AnyValue).N
    const y = (r(item) as AnyValue).N
    if (x === undefined || y === undefined) wrongType()
    return { N: f(x!, y!) }
  }
}

/** Binds a parsed update: resolves placeholders, checks operand types and path overlap. */
export const bindUpdate = (u: UpdateAst, b: Binder): BoundUpdate => {
  const actions: BoundAction[] = []
  for (const clause of u.clauses) {
    for (const a of clause.actions) {
      const path = b.path(a.path, WHAT)
      if (a.k === "SET") actions.push({ k: "SET", path, value: bindSetValue(a.value, b) })
      else if (a.k === "REMOVE") actions.push({ k: "REMOVE", path })
      else {
        const value = b.value(a.value, WHAT)
        const t = typeOf(value)
        const ok =
          a.k === "ADD"
            ? t === "N" || t === "SS" || t === "NS" || t === "BS"
            : t === "SS" || t === "NS" || t === "BS"
        if (!ok) {
          invalid(
            `Invalid ${WHAT}: Incorrect operand type for operator or function; operator: ${a.k}, operand type: ${typeLongName(t)}`,
          )
        }
        actions.push({ k: a.k, path, value })
      }
    }
  }
  const paths = actions.map((a) => a.path)
  checkPathsDisjoint(paths, WHAT)
  return { actions, paths }
}

/** Applies a bound update to an item (an empty object for a missing item); returns the new item. */
export const applyUpdate = (u: BoundUpdate, item: Item): Item => {
  // Phase 1: every operand sees the old item.
  const sets: { path: Path; value: AttributeValue }[] = []
  for (const a of u.actions) {
    if (a.k === "SET") sets.push({ path: a.path, value: a.value(item) })
    else if (a.k === "ADD") sets.push({ path: a.path, value: added(getPath(item, a.path), a.value) })
    else if (a.k === "DELETE") {
      const cur = getPath(item, a.path)
      if (cur !== undefined) sets.push({ path: a.path, value: deleted(cur, a.value) })
      else if (!parentExists(item, a.path)) badPath() // like REMOVE: only the last step may be absent
    }
  }
  // Phase 2: write. Removals go last and, within one list, from the highest index down, so each
  // index names the element it named in the old item.
  const work: Record<string, AttributeValue> = { ...item }
  const owned: Owned = new Set()
  const removals: Path[] = []
  for (const s of sets) {
    if (s.value === EMPTIED) removals.push(s.path)
    else writePath(work, s.path, s.value, owned)
  }
  for (const a of u.actions) if (a.k === "REMOVE") removals.push(a.path)
  removals.sort(compareRemovalOrder)
  for (const p of removals) removePath(work, p, owned)
  return work
}

/** True when the container that would hold the path's last step exists with the right type. */
const parentExists = (item: Item, path: Path): boolean => {
  if (path.length === 1) return true
  const parent = getPath(item, path.slice(0, -1)) as AnyValue | undefined
  if (parent === undefined) return false
  return typeof path[path.length - 1] === "number" ? parent.L !== undefined : parent.M !== undefined
}

/** Marker for a DELETE that empties a set: the attribute is removed. */
const EMPTIED: AttributeValue = { NULL: true }

const added = (cur: AttributeValue | undefined, v: AttributeValue): AttributeValue => {
  if (cur === undefined) return v
  const c = cur as AnyValue
  const x = v as AnyValue
  if (x.N !== undefined) return c.N !== undefined ? { N: addNumberText(c.N, x.N) } : wrongType()
  if (x.SS !== undefined) return c.SS !== undefined ? { SS: union(c.SS, x.SS, stringKey) } : wrongType()
  if (x.NS !== undefined) {
    return c.NS !== undefined ? { NS: union(c.NS, x.NS, numberKey) } : wrongType()
  }
  if (x.BS !== undefined) {
    return c.BS !== undefined ? { BS: union(c.BS, x.BS, bytesKey) } : wrongType()
  }
  return wrongType()
}

const deleted = (cur: AttributeValue, v: AttributeValue): AttributeValue => {
  const c = cur as AnyValue
  const x = v as AnyValue
  let out: AttributeValue
  if (x.SS !== undefined && c.SS !== undefined) out = { SS: minus(c.SS, x.SS, stringKey) }
  else if (x.NS !== undefined && c.NS !== undefined) {
    out = { NS: minus(c.NS, x.NS, numberKey) }
  } else if (x.BS !== undefined && c.BS !== undefined) {
    out = { BS: minus(c.BS, x.BS, bytesKey) }
  } else return wrongType()
  const o = out as AnyValue
  return (o.SS ?? o.NS ?? o.BS)!.length === 0 ? EMPTIED : out
}

/** a ∪ b keeping a's order, then b's new elements; linear through element keys. */
const union = <T>(a: ReadonlyArray<T>, b: ReadonlyArray<T>, key: (e: T) => string): T[] => {
  const out = a.slice()
  const keys = new Set<string>()
  for (const e of a) keys.add(key(e))
  for (const e of b) {
    const k = key(e)
    if (!keys.has(k)) {
      keys.add(k)
      out.push(e)
    }
  }
  return out
}

/** a − b, linear through element keys. */
const minus = <T>(a: ReadonlyArray<T>, b: ReadonlyArray<T>, key: (e: T) => string): T[] => {
  const drop = new Set<string>()
  for (const e of b) drop.add(key(e))
  return a.filter((e) => !drop.has(key(e)))
}

const compareRemovalOrder = (a: Path, b: Path): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a[i]!
    const y = b[i]!
    if (x === y) continue
    if (typeof x === "number" && typeof y === "number") return y - x
    return String(x) < String(y) ? -1 : 1
  }
  return a.length - b.length
}

/**
 * Containers copied during one update. The first write below a container copies it (the input
 * item is never touched); later writes under the same container mutate that private copy, so many
 * actions on one big list or map cost one copy, not one each.
 */
type Owned = Set<AttributeValue>

type MutableList = { L: AttributeValue[] }
type MutableMap = { M: Record<string, AttributeValue> }

const ownList = (v: AttributeValue, owned: Owned): MutableList | undefined => {
  const l = (v as AnyValue).L
  if (l === undefined) return undefined
  if (owned.has(v)) return v as MutableList
  const c: MutableList = { L: l.slice() }
  owned.add(c)
  return c
}

const ownMap = (v: AttributeValue, owned: Owned): MutableMap | undefined => {
  const m = (v as AnyValue).M
  if (m === undefined) return undefined
  if (owned.has(v)) return v as MutableMap
  const c: MutableMap = { M: { ...m } }
  owned.add(c)
  return c
}

const writePath = (
  work: Record<string, AttributeValue>,
  path: Path,
  value: AttributeValue,
  owned: Owned,
): void => {
  const head = path[0] as string
  if (path.length === 1) {
    work[head] = value
    return
  }
  const parent = work[head]
  if (parent === undefined) badPath()
  work[head] = writeIn(parent!, path, 1, value, owned)
}

const writeIn = (
  v: AttributeValue,
  path: Path,
  i: number,
  value: AttributeValue,
  owned: Owned,
): AttributeValue => {
  const e = path[i]!
  const last = i === path.length - 1
  if (typeof e === "number") {
    const c = ownList(v, owned) ?? badPath()
    const list = c.L
    if (last) {
      // Writing past the end appends, as DynamoDB does.
      if (e >= list.length) list.push(value)
      else list[e] = value
    } else {
      const child = list[e]
      if (child === undefined) return badPath()
      list[e] = writeIn(child, path, i + 1, value, owned)
    }
    return c
  }
  const c = ownMap(v, owned) ?? badPath()
  const map = c.M
  if (last) map[e] = value
  else {
    const child = Object.hasOwn(map, e) ? map[e] : undefined
    if (child === undefined) return badPath()
    map[e] = writeIn(child, path, i + 1, value, owned)
  }
  return c
}

const removePath = (work: Record<string, AttributeValue>, path: Path, owned: Owned): void => {
  const head = path[0] as string
  if (path.length === 1) {
    delete work[head]
    return
  }
  const parent = work[head]
  if (parent === undefined) badPath()
  work[head] = removeIn(parent!, path, 1, owned)
}

/**
 * Removes the element at path[i..]. As in DynamoDB, the removed element's parent must exist (and
 * be a map or list as the path says); the element itself may be absent, which is a no-op.
 */
const removeIn = (v: AttributeValue, path: Path, i: number, owned: Owned): AttributeValue => {
  const e = path[i]!
  const last = i === path.length - 1
  if (typeof e === "number") {
    const l = (v as AnyValue).L
    if (l === undefined) return badPath()
    if (e >= l.length) return last ? v : badPath()
    const c = ownList(v, owned)!
    if (last) c.L.splice(e, 1)
    else c.L[e] = removeIn(c.L[e]!, path, i + 1, owned)
    return c
  }
  const m = (v as AnyValue).M
  if (m === undefined) return badPath()
  if (!Object.hasOwn(m, e)) return last ? v : badPath()
  const c = ownMap(v, owned)!
  if (last) delete c.M[e]
  else c.M[e] = removeIn(c.M[e]!, path, i + 1, owned)
  return c
}
