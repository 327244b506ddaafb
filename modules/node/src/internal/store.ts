/**
 * The storage replica's item store: a B-tree (`@partita/btree`) keyed by core's order-preserving
 * `encodeKey(pk, sk)`, values the item with its canonical text. Two `ItemStore` views serve the
 * expressions module's operations: `committed` (what has been applied from the log: reads) and
 * `planning` (committed plus the leader's proposed-but-unapplied writes: deciding writes).
 */
import { BTree, type BTreeOptions, type ValueCodec } from "@partita/btree"
import {
  type AttributeValue,
  ChurnMap,
  type EncodedKey,
  encodeKey,
  type Item,
  itemSize,
  partitionKeyRange,
} from "@partita/core"
import type { ItemStore, SortKeyStart, TableKeySchema } from "@partita/expressions"
import {
  type StoredItem,
  storedItemBytes,
  storedItemDigest,
  storedItemHashMemo,
  storedItemOfBytes,
} from "./codec.ts"

/**
 * B-tree value codec: size, digest and checkpoint form are the canonical text's UTF-8 bytes, so
 * replicas' checksums agree byte for byte (and hashing bytes takes half the rounds of hashing the
 * same text as UTF-16 units).
 */
export const storedItemCodec: ValueCodec<StoredItem> = {
  sizeOf: (v) => v.byteLength,
  // A log entry's body is hashed in place (a range of the entry, not a view of it).
  digest: storedItemDigest,
  encode: storedItemBytes,
  decode: (b) => storedItemOfBytes(b.slice()),
  // Three replicas in one process store the same object for each write: one hash serves all.
  hashMemo: storedItemHashMemo,
}

/**
 * Options of every replica tree: the stored-item codec, and item hashes kept in the leaves, so an
 * overwrite never reads the old (cold) 1 KB value to take its hash out of the checksums.
 */
export const replicaTreeOptions: BTreeOptions<StoredItem> = { codec: storedItemCodec, storeItemHashes: true }

/** Creates an empty replica tree. */
export const makeTree = (): BTree<StoredItem> => new BTree<StoredItem>(replicaTreeOptions)

/** The encoded primary key of an item or key map. */
export const encodedKeyOf = (schema: TableKeySchema, key: Item): EncodedKey => {
  const sk = schema.sortKey
  return encodeKey(key[schema.partitionKey.name]!, sk === undefined ? undefined : key[sk.name])
}

/** A pending (proposed, not yet applied) write on the leader. */
interface Pending {
  image: Item | undefined
  count: number
}

/** Committed view over the tree (reads never see unapplied writes). */
export class TreeItemStore implements ItemStore {
  constructor(
    readonly keySchema: TableKeySchema,
    public tree: BTree<StoredItem>,
  ) {}

  get(key: Item): Item | undefined {
    return this.tree.get(encodedKeyOf(this.keySchema, key))?.item
  }
  /** The stored item's DynamoDB size, without parsing it when the log carried the size. */
  itemSize(key: Item): number | undefined {
    return this.tree.get(encodedKeyOf(this.keySchema, key))?.size
  }
  /** The stored item (lazily parsed) with its size, from one tree lookup. */
  getSized(key: Item): StoredItem | undefined {
    return this.tree.get(encodedKeyOf(this.keySchema, key))
  }
  put(_item: Item): void {
    throw new Error("TreeItemStore is read-only: writes go through the replicated log")
  }
  delete(_key: Item): void {
    throw new Error("TreeItemStore is read-only: writes go through the replicated log")
  }
  *partition(
    partitionKey: AttributeValue,
    forward: boolean,
    start: SortKeyStart | undefined,
  ): Iterable<Item> {
    const r = partitionKeyRange(partitionKey)
    const sk = start === undefined ? undefined : encodeKey(partitionKey, start.sortKey)
    const opts = forward
      ? {
          ...(sk === undefined ? { gte: r.start } : start!.inclusive ? { gte: sk } : { gt: sk }),
          lt: r.end,
        }
      : {
          gte: r.start,
          ...(sk === undefined ? { lt: r.end } : start!.inclusive ? { lte: sk } : { lt: sk }),
          reverse: true,
        }
    for (const [, v] of this.tree.range(opts)) yield v.item
  }
  *scan(exclusiveStartKey: Item | undefined): Iterable<Item> {
    const opts =
      exclusiveStartKey === undefined ? {} : { gt: encodedKeyOf(this.keySchema, exclusiveStartKey) }
    for (const [, v] of this.tree.range(opts)) yield v.item
  }
}

/** The leader's planning view: pending writes shadow the committed tree. */
export class PlanningStore implements ItemStore {
  /** By key; set and deleted per write, so a `ChurnMap` (see there). */
  readonly pending = new ChurnMap<EncodedKey, Pending>()
  constructor(readonly committed: TreeItemStore) {}
  get keySchema(): TableKeySchema {
    return this.committed.keySchema
  }
  get(key: Item): Item | undefined {
    const p = this.pending.get(encodedKeyOf(this.keySchema, key))
    return p !== undefined ? p.image : this.committed.get(key)
  }
  itemSize(key: Item): number | undefined {
    const p = this.pending.get(encodedKeyOf(this.keySchema, key))
    if (p === undefined) return this.committed.itemSize(key)
    return p.image === undefined ? undefined : itemSize(p.image)
  }
  /** Records a proposed write. */
  propose(k: EncodedKey, image: Item | undefined): void {
    const p = this.pending.get(k)
    if (p === undefined) this.pending.set(k, { image, count: 1 })
    else {
      p.image = image
      p.count++
    }
  }
  /** A proposed write was applied (or abandoned): drop it once its last proposal is done. */
  settle(k: EncodedKey): void {
    const p = this.pending.get(k)
    if (p === undefined) return
    if (--p.count <= 0) this.pending.delete(k)
  }
  clear(): void {
    this.pending.clear()
  }
  put(_item: Item): void {
    throw new Error("PlanningStore does not apply writes")
  }
  delete(_key: Item): void {
    throw new Error("PlanningStore does not apply writes")
  }
  partition(partitionKey: AttributeValue, forward: boolean, start: SortKeyStart | undefined): Iterable<Item> {
    return this.committed.partition(partitionKey, forward, start)
  }
  scan(exclusiveStartKey: Item | undefined): Iterable<Item> {
    return this.committed.scan(exclusiveStartKey)
  }
}
