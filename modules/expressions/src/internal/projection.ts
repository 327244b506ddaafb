/**
 * Projections: the sub-document of an item named by a list of paths. Nested maps keep their
 * shape; list elements named by index are kept in index order and packed together, as DynamoDB
 * returns them.
 */
import type { AttributeValue, Item } from "@partita/core"
import type { ProjectionAst } from "./ast.ts"
import { type Binder, checkPathsDisjoint, type Path } from "./bind.ts"
import { getPath } from "./condition.ts"

/** Binds a projection: resolves names and rejects overlapping or conflicting paths. */
export const bindProjection = (
  p: ProjectionAst,
  b: Binder,
  what = "ProjectionExpression",
): ReadonlyArray<Path> => {
  const paths = p.map((x) => b.path(x, what))
  checkPathsDisjoint(paths, what)
  return paths
}

interface Node {
  value: AttributeValue | undefined
  kids: Map<string | number, Node> | undefined
}

/** The parts of `item` named by `paths` (paths missing from the item are skipped). */
export const project = (item: Item, paths: ReadonlyArray<Path>): Item => {
  // Fast path: only top-level attributes.
  if (paths.every((p) => p.length === 1)) {
    const out: Record<string, AttributeValue> = {}
    for (const p of paths) {
      const k = p[0] as string
      if (Object.hasOwn(item, k)) out[k] = item[k]!
    }
    return out
  }
  const root: Node = { value: undefined, kids: new Map() }
  for (const p of paths) {
    const v = getPath(item, p)
    if (v === undefined) continue
    let node = root
    for (const e of p) {
      node.kids ??= new Map()
      let kid = node.kids.get(e)
      if (kid === undefined) {
        kid = { value: undefined, kids: undefined }
        node.kids.set(e, kid)
      }
      node = kid
    }
    node.value = v
  }
  const out: Record<string, AttributeValue> = {}
  for (const [k, kid] of root.kids!) out[k as string] = build(kid)
  return out
}

const build = (n: Node): AttributeValue => {
  if (n.value !== undefined) return n.value
  const kids = [...n.kids!]
  if (typeof kids[0]![0] === "number") {
    kids.sort((a, b) => (a[0] as number) - (b[0] as number))
    return { L: kids.map(([, k]) => build(k)) }
  }
  const m: Record<string, AttributeValue> = {}
  for (const [k, kid] of kids) m[k as string] = build(kid)
  return { M: m }
}
