/**
 * The item store the operations run over, and a sorted in-memory implementation for tests,
 * examples and the simulator. A store knows its table's key schema; items of one partition key
 * are ordered by sort key in DynamoDB's order (numbers by value, strings and binaries by
 * unsigned bytes).
 */
import type { AttributeValue, Item, KeyAttribute, KeySchema } from "@partita/core"
import BTreeModule from "sorted-btree"
import { canonicalNumber } from "./decimal.ts"
import { invalid } from "./errors.ts"
import { compareScalars, typeOf } from "./values.ts"

/** A table's primary key (core's `KeySchema`: a partition key and an optional sort key). */
export type TableKeySchema = KeySchema

/** Where an ordered partition walk starts. */
export interface SortKeyStart {
  readonly sortKey: AttributeValue
  /** Whether an item with exactly this sort key is included. */
  readonly inclusive: boolean
}

/**
 * Storage the item operations read and write. Implementations need not validate: the operations
 * pass only well-formed keys and items.
 */
export interface ItemStore {
  readonly keySchema: TableKeySchema
  /** The item with this primary key (the key holds exactly the key attributes). */
  get(key: Item): Item | undefined
  /**
   * Optional: the DynamoDB size (`itemSize`) of the item with this key, or undefined when there is
   * none, without materializing the item. A write that needs only the old item's size (no
   * condition, no `ALL_OLD`) then never reads it: a store that keeps items serialized (a replica's
   * B-tree) saves a parse per write, and GetItem charges a read without walking the item. Must
   * equal `itemSize(get(key))` whenever the item exists.
   */
  itemSize?(key: Item): number | undefined
  /**
   * Optional: the item with this key and its DynamoDB size from one lookup, or undefined when
   * there is none. GetItem uses it instead of `get` then `itemSize`, which would find the key
   * twice. `size` must equal `itemSize(item)`.
   */
  getSized?(key: Item): { readonly item: Item; readonly size: number } | undefined
  /** Inserts or replaces the item with the item's primary key. */
  put(item: Item): void
  /** Removes the item with this primary key, if any. */
  delete(key: Item): void
  /**
   * Items whose partition key equals `partitionKey`, ordered by sort key ascending (`forward`)
   * or descending, starting at `start` in that direction (from the first item when absent).
   */
  partition(partitionKey: AttributeValue, forward: boolean, start: SortKeyStart | undefined): Iterable<Item>
  /** Every item in the store's fixed scan order, strictly after `exclusiveStartKey` when given. */
  scan(exclusiveStartKey: Item | undefined): Iterable<Item>
}

/** The primary key attributes of an item. */
export const keyOf = (item: Item, schema: TableKeySchema): Item => {
  const pk = schema.partitionKey.name
  const sk = schema.sortKey?.name
  return sk === undefined ? { [pk]: item[pk]! } : { [pk]: item[pk]!, [sk]: item[sk]! }
}

const hex = (b: Uint8Array): string => {
  let s = ""
  for (const x of b) s += (x < 16 ? "0" : "") + x.toString(16)
  return s
}

/** A string identifying a key value (type and canonical text); equal keys give equal strings. */
export const keyValueText = (v: AttributeValue): string => {
  const a = v as { S?: string; N?: string; B?: Uint8Array }
  if (a.S !== undefined) return `S${a.S}`
  if (a.N !== undefined) return `N${canonicalNumber(a.N)}`
  if (a.B !== undefined) return `B${hex(a.B)}`
  return invalid("Key attributes must be scalars of type S, N or B")
}

/**
 * Checks that `key` holds exactly the table's key attributes with the declared types; returns it
 * with canonical numbers.
 */
export const validateKey = (key: Item, schema: TableKeySchema): Item => {
  if (key === null || typeof key !== "object")
    return invalid("The provided key element does not match the schema")
  const names = Object.keys(key)
  const expected = schema.sortKey === undefined ? 1 : 2
  if (names.length !== expected) invalid("The provided key element does not match the schema")
  const out: Record<string, AttributeValue> = {}
  for (const attr of [schema.partitionKey, schema.sortKey]) {
    if (attr === undefined) continue
    const v = key[attr.name]
    if (v === undefined || typeOf(v) !== attr.type)
      invalid("The provided key element does not match the schema")
    out[attr.name] = checkKeyValue(attr, v!)
  }
  return out
}

/** Validates one key attribute value of an item (type and non-emptiness). */
export const checkKeyValue = (attr: KeyAttribute, v: AttributeValue): AttributeValue => {
  const t = typeOf(v)
  if (t !== attr.type) {
    invalid(
      `One or more parameter values were invalid: Type mismatch for key ${attr.name} expected: ${attr.type} actual: ${t}`,
    )
  }
  const a = v as { S?: string; N?: string; B?: Uint8Array }
  if ((a.S !== undefined && a.S.length === 0) || (a.B !== undefined && a.B.length === 0)) {
    invalid(
      `One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty ${t === "S" ? "string" : "binary"} value. Key: ${attr.name}`,
    )
  }
  if (a.N !== undefined) {
    const n = canonicalNumber(a.N)
    return n === a.N ? v : { N: n }
  }
  return v
}

// sorted-btree is CommonJS: Bun's default import is the class, Deno's is `module.exports`.
const BTree: typeof BTreeModule =
  (BTreeModule as unknown as { default?: typeof BTreeModule }).default ?? BTreeModule

interface TreeKey {
  readonly p: string
  readonly s: AttributeValue | undefined
  /** −1: before every sort key of partition p; +1: after every one; 0: a real key. */
  readonly edge: number
}

const compareTreeKeys = (a: TreeKey, b: TreeKey): number => {
  if (a.p !== b.p) return a.p < b.p ? -1 : 1
  if (a.edge !== 0 || b.edge !== 0) return a.edge - b.edge
  if (a.s === undefined || b.s === undefined) return 0
  return compareScalars(a.s, b.s)
}

/**
 * A sorted in-memory ItemStore (a B+ tree keyed by partition key text, then sort key). The scan
 * order is partition key text order, then sort key order.
 */
export class InMemoryItemStore implements ItemStore {
  private readonly tree: BTreeModule<TreeKey, Item> = new BTree<TreeKey, Item>(undefined, compareTreeKeys)

  constructor(readonly keySchema: TableKeySchema) {}

  /** Number of items stored. */
  get size(): number {
    return this.tree.size
  }

  private treeKey(item: Item): TreeKey {
    const pk = item[this.keySchema.partitionKey.name]!
    const skName = this.keySchema.sortKey?.name
    return { p: keyValueText(pk), s: skName === undefined ? undefined : item[skName], edge: 0 }
  }

  get(key: Item): Item | undefined {
    return this.tree.get(this.treeKey(key))
  }

  put(item: Item): void {
    this.tree.set(this.treeKey(item), item, true)
  }

  delete(key: Item): void {
    this.tree.delete(this.treeKey(key))
  }

  *partition(
    partitionKey: AttributeValue,
    forward: boolean,
    start: SortKeyStart | undefined,
  ): Iterable<Item> {
    const p = keyValueText(partitionKey)
    const from: TreeKey =
      start === undefined || this.keySchema.sortKey === undefined
        ? { p, s: undefined, edge: forward ? -1 : 1 }
        : { p, s: start.sortKey, edge: 0 }
    const it = forward ? this.tree.entries(from) : this.tree.entriesReversed(from)
    for (const [k, v] of it) {
      if (k.p !== p) return
      if (start !== undefined && !start.inclusive && from.edge === 0 && compareTreeKeys(k, from) === 0)
        continue
      yield v
    }
  }

  *scan(exclusiveStartKey: Item | undefined): Iterable<Item> {
    const from = exclusiveStartKey === undefined ? undefined : this.treeKey(exclusiveStartKey)
    for (const [k, v] of this.tree.entries(from)) {
      if (from !== undefined && compareTreeKeys(k, from) === 0) continue
      yield v
    }
  }
}
