/**
 * A bounded least-recently-used cache of parsed expressions, keyed by expression kind and text.
 * Placeholders are resolved after the cache, so one entry serves every request that sends the
 * same text with different names and values. Parse failures are cached too: a client retrying a
 * bad expression costs one lookup.
 */
import type { ConditionAst, Parsed, ProjectionAst, UpdateAst } from "./ast.ts"
import { ValidationException } from "./errors.ts"
import { parseConditionText, parseProjectionText, parseUpdateText, requireText } from "./parser.ts"

/** Default number of parsed expressions kept per cache. */
export const expressionCacheEntriesMax = 1024

type Entry = Parsed<unknown> | ValidationException

/** LRU cache of parsed expressions (Map insertion order is the recency order). */
export class ExpressionCache {
  private readonly map = new Map<string, Entry>()
  hits = 0
  misses = 0

  constructor(readonly entriesMax: number = expressionCacheEntriesMax) {
    if (!(entriesMax >= 1)) throw new RangeError("ExpressionCache needs room for at least one entry")
  }

  /** Number of cached entries. */
  get size(): number {
    return this.map.size
  }

  private get<A>(key: string, parse: () => Parsed<A>): Parsed<A> {
    const hit = this.map.get(key)
    if (hit !== undefined) {
      this.hits++
      // Move to the newest position.
      this.map.delete(key)
      this.map.set(key, hit)
      if (hit instanceof ValidationException) throw hit
      return hit as Parsed<A>
    }
    this.misses++
    let entry: Entry
    try {
      entry = parse()
    } catch (e) {
      if (!(e instanceof ValidationException)) throw e
      entry = e
    }
    if (this.map.size >= this.entriesMax) this.map.delete(this.map.keys().next().value!)
    this.map.set(key, entry)
    if (entry instanceof ValidationException) throw entry
    return entry as Parsed<A>
  }

  /** Parsed condition (throws the cached ValidationException for invalid text). */
  condition(text: string, what = "ConditionExpression"): Parsed<ConditionAst> {
    return this.get(`C${what}\u0000${requireText(text, what)}`, () => parseConditionText(text, what))
  }

  /** Parsed update expression. */
  update(text: string): Parsed<UpdateAst> {
    return this.get(`U\u0000${requireText(text, "UpdateExpression")}`, () => parseUpdateText(text))
  }

  /** Parsed projection expression. */
  projection(text: string): Parsed<ProjectionAst> {
    return this.get(`P\u0000${requireText(text, "ProjectionExpression")}`, () => parseProjectionText(text))
  }

  /** Drops every entry. */
  clear(): void {
    this.map.clear()
  }
}

/** The process-wide cache the item operations use unless given another. */
export const defaultExpressionCache = new ExpressionCache()
