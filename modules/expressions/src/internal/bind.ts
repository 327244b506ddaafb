/**
 * Placeholder substitution: resolves `#name` and `:value` placeholders against a request's
 * ExpressionAttributeNames / ExpressionAttributeValues, recording which were used so the request
 * can reject unused ones, as DynamoDB does.
 */
import type { AttributeValue } from "@partita/core"
import type { PathAst } from "./ast.ts"
import { invalid } from "./errors.ts"
import { canonicalValue } from "./values.ts"

/** A resolved document path: attribute names and list indexes. */
export type Path = ReadonlyArray<string | number>

/** ExpressionAttributeNames. */
export type NameMap = { readonly [placeholder: string]: string }
/** ExpressionAttributeValues. */
export type ValueMap = { readonly [placeholder: string]: AttributeValue }

const isMap = (v: unknown): boolean => v !== null && typeof v === "object" && !Array.isArray(v)

const NONE: ReadonlySet<string> = new Set()
const NAME_KEY = /^#[A-Za-z0-9_]+$/
const VALUE_KEY = /^:[A-Za-z0-9_]+$/

/** Per-request substitution state shared by all expressions of one request. */
export class Binder {
  // Created on first use: most requests (a GetItem by key) name no placeholder at all.
  private usedNames: Set<string> | undefined
  private usedValues: Set<string> | undefined
  private canonical: Map<string, AttributeValue> | undefined

  constructor(
    readonly names: NameMap | undefined,
    readonly values: ValueMap | undefined,
  ) {
    if (names !== undefined && !isMap(names))
      invalid("ExpressionAttributeNames must be a map of #name to attribute name")
    if (values !== undefined && !isMap(values)) {
      invalid("ExpressionAttributeValues must be a map of :value to attribute value")
    }
  }

  /** Resolves a parsed path; `what` names the expression in errors. */
  path(p: PathAst, what: string): Path {
    let out: (string | number)[] | undefined
    for (let i = 0; i < p.length; i++) {
      const e = p[i]!
      if (typeof e === "string" && e.charCodeAt(0) === 35) {
        out ??= p.slice(0, i) as (string | number)[]
        out.push(this.name(e, what))
      } else if (out !== undefined) out.push(e)
    }
    return out ?? p
  }

  /** Resolves one `#name`. */
  name(placeholder: string, what: string): string {
    const v =
      this.names !== undefined && Object.hasOwn(this.names, placeholder) ? this.names[placeholder] : undefined
    if (v === undefined) {
      return invalid(
        `Invalid ${what}: An expression attribute name used in the document path is not defined; attribute name: ${placeholder}`,
      )
    }
    if (typeof v !== "string" || v.length === 0) {
      invalid(`ExpressionAttributeNames contains invalid value: Empty attribute name for key ${placeholder}`)
    }
    ;(this.usedNames ??= new Set()).add(placeholder)
    return v
  }

  /** Resolves one `:value`, validated and with canonical numbers. */
  value(placeholder: string, what: string): AttributeValue {
    const hit = this.canonical?.get(placeholder)
    if (hit !== undefined) return hit
    const v =
      this.values !== undefined && Object.hasOwn(this.values, placeholder)
        ? this.values[placeholder]
        : undefined
    if (v === undefined) {
      return invalid(
        `Invalid ${what}: An expression attribute value used in expression is not defined; attribute value: ${placeholder}`,
      )
    }
    let c: AttributeValue
    try {
      c = canonicalValue(v)
    } catch (e) {
      return invalid(
        `ExpressionAttributeValues contains invalid value: ${(e as Error).message} for key ${placeholder}`,
      )
    }
    ;(this.usedValues ??= new Set()).add(placeholder)
    ;(this.canonical ??= new Map()).set(placeholder, c)
    return c
  }

  /** Rejects names or values that no expression of the request used. */
  checkUnused(): void {
    if (this.names !== undefined)
      checkMap(this.names, this.usedNames ?? NONE, "ExpressionAttributeNames", NAME_KEY)
    if (this.values !== undefined)
      checkMap(this.values, this.usedValues ?? NONE, "ExpressionAttributeValues", VALUE_KEY)
  }
}

/**
 * Every key of a placeholder map must have been used. A used key was found in an expression, so
 * only unused keys need the syntax check (a bad key is reported as such, not as unused).
 */
const checkMap = (map: object, used: ReadonlySet<string>, what: string, syntax: RegExp): void => {
  let count = 0
  let unused: string[] | undefined
  for (const k in map) {
    if (!Object.hasOwn(map, k)) continue
    count++
    if (!used.has(k)) (unused ??= []).push(k)
  }
  if (count === 0) invalid(`${what} must not be empty`)
  if (unused === undefined) return
  for (const k of unused)
    if (!syntax.test(k)) invalid(`${what} contains invalid key: Syntax error; key: "${k}"`)
  invalid(`Value provided in ${what} unused in expressions: keys: {${unused.join(", ")}}`)
}

/** Text of a resolved path in DynamoDB's error style: `[a, b, [2]]`. */
export const showPath = (p: Path): string =>
  `[${p.map((e) => (typeof e === "number" ? `[${e}]` : e)).join(", ")}]`

/**
 * DynamoDB's rule that one request may not name two paths where one contains the other
 * ("overlap") or where one indexes a list that the other treats as a map ("conflict").
 */
export const checkPathsDisjoint = (paths: ReadonlyArray<Path>, what: string): void => {
  // Typical requests name a handful of paths: compare pairs without allocating.
  if (paths.length <= pairwisePathsMax) {
    for (let i = 1; i < paths.length; i++)
      for (let j = 0; j < i; j++) comparePaths(paths[j]!, paths[i]!, what)
    return
  }
  // Many paths: a trie keeps the check linear in the total path length.
  interface Node {
    end: Path | undefined
    kids: Map<string | number, Node>
    first: Path
  }
  const root: Node = { end: undefined, kids: new Map(), first: [] }
  for (const p of paths) {
    let node = root
    for (let i = 0; i < p.length; i++) {
      if (node.end !== undefined) overlap(node.end, p, what)
      const e = p[i]!
      // A list index and a map key under the same parent cannot both be right.
      for (const [k, other] of node.kids) {
        if (typeof k !== typeof e) conflict(other.first, p, what)
        break
      }
      let kid = node.kids.get(e)
      if (kid === undefined) {
        kid = { end: undefined, kids: new Map(), first: p }
        node.kids.set(e, kid)
      }
      node = kid
    }
    if (node.end !== undefined || node.kids.size > 0) overlap(node.end ?? node.first, p, what)
    node.end = p
  }
}

/** Up to this many paths are checked pairwise; more go through a trie. */
const pairwisePathsMax = 16

const comparePaths = (a: Path, b: Path, what: string): void => {
  const n = Math.min(a.length, b.length)
  for (let k = 0; k < n; k++) {
    const x = a[k]!
    const y = b[k]!
    if (x === y) continue
    if (typeof x !== typeof y) conflict(a, b, what)
    return // they part here: disjoint
  }
  overlap(a, b, what) // one is a prefix of the other (or they are equal)
}

const overlap = (a: Path, b: Path, what: string): never =>
  invalid(
    `Invalid ${what}: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: ${showPath(a)}, path two: ${showPath(b)}`,
  )

const conflict = (a: Path, b: Path, what: string): never =>
  invalid(
    `Invalid ${what}: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: ${showPath(a)}, path two: ${showPath(b)}`,
  )
