/**
 * Item operations as pure functions over an ItemStore: GetItem, PutItem, DeleteItem, UpdateItem,
 * Query and Scan with DynamoDB's request validation, conditions, projections and paging.
 *
 * Writes come in two steps so a replicated store can decide on the leader and apply everywhere:
 * `plan*` validates, evaluates the condition and computes the resulting item image without
 * touching the store; `applyWrite` installs that image. `putItem`, `deleteItem` and `updateItem`
 * do both.
 */
import type { AttributeValue, Item } from "@partita/core"
import { Either } from "effect"
import type { ConditionAst } from "./ast.ts"
import { Binder, type NameMap, type Path, type ValueMap } from "./bind.ts"
import { type ExpressionCache, defaultExpressionCache } from "./cache.ts"
import { bindCondition, type Predicate } from "./condition.ts"
import { ConditionalCheckFailedException, invalid, textOf, ValidationException } from "./errors.ts"
import { bindKeyCondition, sortKeyPosition, sortKeyStart } from "./keyCondition.ts"
import { bindProjection, project } from "./projection.ts"
import {
  checkKeyValue,
  type ItemStore,
  keyOf,
  keyValueText,
  type TableKeySchema,
  validateKey,
} from "./store.ts"
import { applyUpdate, bindUpdate } from "./update.ts"
import { canonicalItem, itemBytesMax, itemSize, nestingTooDeep } from "./values.ts"

/** Most data one Query or Scan page reads before stopping (1 MB), applied before the filter. */
export const pageBytesMax = 1024 * 1024
/** Largest TotalSegments DynamoDB accepts. */
export const totalSegmentsMax = 1_000_000

/** Errors an item operation can fail with. */
export type OperationError = ValidationException | ConditionalCheckFailedException

/** ReturnValues of UpdateItem (PutItem and DeleteItem accept NONE and ALL_OLD). */
export type ReturnValues = "NONE" | "ALL_OLD" | "UPDATED_OLD" | "ALL_NEW" | "UPDATED_NEW"

/** Placeholder maps shared by the expressions of one request. */
export interface ExpressionParameters {
  readonly ExpressionAttributeNames?: NameMap | undefined
  readonly ExpressionAttributeValues?: ValueMap | undefined
}

/** Options common to all operations. */
export interface OperationOptions {
  /** Cache of parsed expressions (default: the process-wide one). */
  readonly cache?: ExpressionCache | undefined
  /**
   * Query and Scan: the bytes this page may still read, when it continues one that already read
   * some elsewhere (another partition of the same page). Clamped to 1..`pageBytesMax`; default
   * `pageBytesMax`.
   */
  readonly pageBytes?: number | undefined
}

/** The byte budget of one page under `options`. */
const pageBudget = (options: OperationOptions): number => {
  const b = options.pageBytes
  return b === undefined || !Number.isFinite(b) ? pageBytesMax : Math.min(pageBytesMax, Math.max(1, b))
}

/** The decided effect of a write: the item image to install under `key` (undefined: delete). */
export interface ItemWrite {
  readonly key: Item
  readonly image: Item | undefined
}

/** Result of a write operation. */
export interface WriteOutput {
  /** What ReturnValues asked for (absent when nothing is to be returned). */
  readonly Attributes?: Item | undefined
  /** max(old item size, new item size): the bytes a write is charged for. */
  readonly consumedBytes: number
  /**
   * The item before the write, if any, when the operation read it. A put or delete with no
   * condition and no `ALL_OLD` over a store with `itemSize` only sizes the old item and leaves
   * this undefined.
   */
  readonly oldItem: Item | undefined
  /** The write to install (apply with `applyWrite`, or replicate and apply everywhere). */
  readonly write: ItemWrite
}

/** GetItem request. */
export interface GetItemInput extends Pick<ExpressionParameters, "ExpressionAttributeNames"> {
  readonly Key: Item
  readonly ProjectionExpression?: string | undefined
}

/** GetItem result; consumedBytes is the size of the whole item read (0 when absent). */
export interface GetItemOutput {
  readonly Item?: Item | undefined
  readonly consumedBytes: number
}

/** PutItem request. */
export interface PutItemInput extends ExpressionParameters {
  readonly Item: Item
  readonly ConditionExpression?: string | undefined
  readonly ReturnValues?: "NONE" | "ALL_OLD" | undefined
  /** `ALL_OLD`: a failed condition's error carries the item as it was (`NONE` by default). */
  readonly ReturnValuesOnConditionCheckFailure?: "NONE" | "ALL_OLD" | undefined
}

/** DeleteItem request. */
export interface DeleteItemInput extends ExpressionParameters {
  readonly Key: Item
  readonly ConditionExpression?: string | undefined
  readonly ReturnValues?: "NONE" | "ALL_OLD" | undefined
  /** `ALL_OLD`: a failed condition's error carries the item as it was (`NONE` by default). */
  readonly ReturnValuesOnConditionCheckFailure?: "NONE" | "ALL_OLD" | undefined
}

/** UpdateItem request. */
export interface UpdateItemInput extends ExpressionParameters {
  readonly Key: Item
  readonly UpdateExpression?: string | undefined
  readonly ConditionExpression?: string | undefined
  readonly ReturnValues?: ReturnValues | undefined
  /** `ALL_OLD`: a failed condition's error carries the item as it was (`NONE` by default). */
  readonly ReturnValuesOnConditionCheckFailure?: "NONE" | "ALL_OLD" | undefined
}

/** Query request. */
export interface QueryInput extends ExpressionParameters {
  readonly KeyConditionExpression: string
  readonly FilterExpression?: string | undefined
  readonly ProjectionExpression?: string | undefined
  /** Ascending sort key order when true (default). */
  readonly ScanIndexForward?: boolean | undefined
  /** Most items to read (before the filter). */
  readonly Limit?: number | undefined
  readonly ExclusiveStartKey?: Item | undefined
  /** COUNT returns only Count and ScannedCount; SPECIFIC_ATTRIBUTES needs a ProjectionExpression. */
  readonly Select?: Select | undefined
}

/** Scan request. */
export interface ScanInput extends ExpressionParameters {
  readonly FilterExpression?: string | undefined
  readonly ProjectionExpression?: string | undefined
  readonly Limit?: number | undefined
  readonly ExclusiveStartKey?: Item | undefined
  readonly Segment?: number | undefined
  readonly TotalSegments?: number | undefined
  /** COUNT returns only Count and ScannedCount; SPECIFIC_ATTRIBUTES needs a ProjectionExpression. */
  readonly Select?: Select | undefined
}

/** What Query and Scan return for each matching item. */
export type Select = "ALL_ATTRIBUTES" | "SPECIFIC_ATTRIBUTES" | "COUNT"

/** Validates Select against ProjectionExpression; true when only counts are wanted. */
const countOnly = (select: unknown, projection: string | undefined): boolean => {
  if (select === undefined) return false
  if (select !== "ALL_ATTRIBUTES" && select !== "SPECIFIC_ATTRIBUTES" && select !== "COUNT") {
    invalid(
      `1 validation error detected: Value '${textOf(select)}' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES]`,
    )
  }
  if (select === "SPECIFIC_ATTRIBUTES" && projection === undefined) {
    invalid("Select type SPECIFIC_ATTRIBUTES requires a ProjectionExpression")
  }
  if (select !== "SPECIFIC_ATTRIBUTES" && projection !== undefined) {
    invalid(`Cannot specify a ProjectionExpression with Select type ${select}`)
  }
  return select === "COUNT"
}

/** Query and Scan result. consumedBytes sums the sizes of the items read (before filtering). */
export interface PageOutput {
  readonly Items: ReadonlyArray<Item>
  /** Items that passed the filter. */
  readonly Count: number
  /** Items read. */
  readonly ScannedCount: number
  /** Where the next page starts; absent when the whole range was read. */
  readonly LastEvaluatedKey?: Item | undefined
  readonly consumedBytes: number
}

/** Runs a body, turning the operation's typed errors into Left values. */
const attempt = <A>(body: () => A): Either.Either<A, OperationError> => {
  try {
    return Either.right(body())
  } catch (e) {
    if (e instanceof ValidationException || e instanceof ConditionalCheckFailedException)
      return Either.left(e)
    throw e
  }
}

/** The condition failed: the error carries the item as it was only when the request asked for it. */
const conditionFailed = (item: Item | undefined, rv: string | undefined): never => {
  throw new ConditionalCheckFailedException({
    message: "The conditional request failed",
    ...(rv === "ALL_OLD" && item !== undefined ? { item } : {}),
  })
}

/** Rejects placeholder maps sent without any expression to use them. */
const checkMapsNeedExpressions = (p: ExpressionParameters, anyExpression: boolean): void => {
  if (anyExpression) return
  if (p.ExpressionAttributeNames !== undefined) {
    invalid("ExpressionAttributeNames can only be specified when using expressions")
  }
  if (p.ExpressionAttributeValues !== undefined) {
    invalid("ExpressionAttributeValues can only be specified when using expressions")
  }
}

const bindOptionalCondition = (
  text: string | undefined,
  what: string,
  b: Binder,
  cache: ExpressionCache,
): Predicate | undefined =>
  text === undefined ? undefined : bindCondition(cache.condition(text, what).ast, b, what)

const bindOptionalProjection = (
  text: string | undefined,
  b: Binder,
  cache: ExpressionCache,
): ReadonlyArray<Path> | undefined =>
  text === undefined ? undefined : bindProjection(cache.projection(text).ast, b)

/** Installs a decided write into a store. */
export const applyWrite = (store: ItemStore, write: ItemWrite): void => {
  if (write.image === undefined) store.delete(write.key)
  else store.put(write.image)
}

/** GetItem: the item with this key, optionally projected. */
export const getItem = (
  store: ItemStore,
  input: GetItemInput,
  options: OperationOptions = {},
): Either.Either<GetItemOutput, ValidationException> =>
  attempt(() => {
    const cache = options.cache ?? defaultExpressionCache
    const key = validateKey(input.Key, store.keySchema)
    checkMapsNeedExpressions(input, input.ProjectionExpression !== undefined)
    const b = new Binder(input.ExpressionAttributeNames, undefined)
    const paths = bindOptionalProjection(input.ProjectionExpression, b, cache)
    b.checkUnused()
    let item: Item | undefined
    let size: number
    if (store.getSized !== undefined) {
      // One lookup for both (a replica's B-tree would otherwise be searched twice).
      const sized = store.getSized(key)
      if (sized === undefined) return { consumedBytes: 0 }
      item = sized.item
      size = sized.size
    } else {
      item = store.get(key)
      if (item === undefined) return { consumedBytes: 0 }
      // A store that knows the size spares a walk over the whole item (cold memory on a big store).
      size = store.itemSize?.(key) ?? itemSize(item)
    }
    return { Item: paths === undefined ? item : project(item, paths), consumedBytes: size }
  }) as Either.Either<GetItemOutput, ValidationException>

/** Validates a full item for PutItem: attribute values, key attributes, size. */
const validatePutItem = (raw: Item, schema: TableKeySchema): Item => {
  const item = canonicalItem(raw)
  let out = item
  for (const attr of [schema.partitionKey, schema.sortKey]) {
    if (attr === undefined) continue
    const v = item[attr.name]
    if (v === undefined)
      invalid(`One or more parameter values were invalid: Missing the key ${attr.name} in the item`)
    const c = checkKeyValue(attr, v!)
    if (c !== v) out = { ...out, [attr.name]: c }
  }
  if (itemSize(out) > itemBytesMax) invalid("Item size has exceeded the maximum allowed size")
  return out
}

const checkReturnValues = (
  rv: string | undefined,
  allowed: ReadonlyArray<string>,
  field = "returnValues",
): void => {
  if (rv !== undefined && !allowed.includes(rv)) {
    invalid(
      `1 validation error detected: Value '${textOf(rv)}' at '${field}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(", ")}]`,
    )
  }
}

const checkOnConditionFailure = (rv: string | undefined): void =>
  checkReturnValues(rv, ["NONE", "ALL_OLD"], "returnValuesOnConditionCheckFailure")

/** PutItem decided but not applied: validation, condition, the image to install. */
export const planPutItem = (
  store: ItemStore,
  input: PutItemInput,
  options: OperationOptions = {},
): Either.Either<WriteOutput, OperationError> =>
  attempt(() => {
    const cache = options.cache ?? defaultExpressionCache
    checkReturnValues(input.ReturnValues, ["NONE", "ALL_OLD"])
    checkOnConditionFailure(input.ReturnValuesOnConditionCheckFailure)
    const item = validatePutItem(input.Item, store.keySchema)
    checkMapsNeedExpressions(input, input.ConditionExpression !== undefined)
    const b = new Binder(input.ExpressionAttributeNames, input.ExpressionAttributeValues)
    const cond = bindOptionalCondition(input.ConditionExpression, "ConditionExpression", b, cache)
    b.checkUnused()
    const key = keyOf(item, store.keySchema)
    const newSize = itemSize(item)
    if (cond === undefined && input.ReturnValues !== "ALL_OLD" && store.itemSize !== undefined) {
      const oldSize = store.itemSize(key) ?? 0
      return { consumedBytes: Math.max(newSize, oldSize), oldItem: undefined, write: { key, image: item } }
    }
    const old = store.get(key)
    if (cond !== undefined && !cond(old ?? EMPTY))
      conditionFailed(old, input.ReturnValuesOnConditionCheckFailure)
    return {
      Attributes: input.ReturnValues === "ALL_OLD" ? old : undefined,
      consumedBytes: Math.max(newSize, old === undefined ? 0 : itemSize(old)),
      oldItem: old,
      write: { key, image: item },
    }
  })

const EMPTY: Item = {}

/** PutItem: writes the item (replacing any item with its key) when the condition holds. */
export const putItem = (
  store: ItemStore,
  input: PutItemInput,
  options: OperationOptions = {},
): Either.Either<WriteOutput, OperationError> => applied(store, planPutItem(store, input, options))

const applied = (
  store: ItemStore,
  r: Either.Either<WriteOutput, OperationError>,
): Either.Either<WriteOutput, OperationError> => {
  if (Either.isRight(r)) applyWrite(store, r.right.write)
  return r
}

/** DeleteItem decided but not applied. */
export const planDeleteItem = (
  store: ItemStore,
  input: DeleteItemInput,
  options: OperationOptions = {},
): Either.Either<WriteOutput, OperationError> =>
  attempt(() => {
    const cache = options.cache ?? defaultExpressionCache
    checkReturnValues(input.ReturnValues, ["NONE", "ALL_OLD"])
    checkOnConditionFailure(input.ReturnValuesOnConditionCheckFailure)
    const key = validateKey(input.Key, store.keySchema)
    checkMapsNeedExpressions(input, input.ConditionExpression !== undefined)
    const b = new Binder(input.ExpressionAttributeNames, input.ExpressionAttributeValues)
    const cond = bindOptionalCondition(input.ConditionExpression, "ConditionExpression", b, cache)
    b.checkUnused()
    if (cond === undefined && input.ReturnValues !== "ALL_OLD" && store.itemSize !== undefined) {
      return { consumedBytes: store.itemSize(key) ?? 0, oldItem: undefined, write: { key, image: undefined } }
    }
    const old = store.get(key)
    if (cond !== undefined && !cond(old ?? EMPTY))
      conditionFailed(old, input.ReturnValuesOnConditionCheckFailure)
    return {
      Attributes: input.ReturnValues === "ALL_OLD" ? old : undefined,
      consumedBytes: old === undefined ? 0 : itemSize(old),
      oldItem: old,
      write: { key, image: undefined },
    }
  })

/** DeleteItem: removes the item when the condition holds (deleting a missing item succeeds). */
export const deleteItem = (
  store: ItemStore,
  input: DeleteItemInput,
  options: OperationOptions = {},
): Either.Either<WriteOutput, OperationError> => applied(store, planDeleteItem(store, input, options))

/** UpdateItem decided but not applied; `write.image` is the complete new item. */
export const planUpdateItem = (
  store: ItemStore,
  input: UpdateItemInput,
  options: OperationOptions = {},
): Either.Either<WriteOutput, OperationError> =>
  attempt(() => {
    const cache = options.cache ?? defaultExpressionCache
    const schema = store.keySchema
    checkReturnValues(input.ReturnValues, ["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"])
    checkOnConditionFailure(input.ReturnValuesOnConditionCheckFailure)
    const key = validateKey(input.Key, schema)
    checkMapsNeedExpressions(
      input,
      input.ConditionExpression !== undefined || input.UpdateExpression !== undefined,
    )
    const b = new Binder(input.ExpressionAttributeNames, input.ExpressionAttributeValues)
    const update =
      input.UpdateExpression === undefined
        ? undefined
        : bindUpdate(cache.update(input.UpdateExpression).ast, b)
    const cond = bindOptionalCondition(input.ConditionExpression, "ConditionExpression", b, cache)
    b.checkUnused()
    if (update !== undefined) {
      for (const p of update.paths) {
        const head = p[0] as string
        if (head === schema.partitionKey.name || head === schema.sortKey?.name) {
          invalid(
            `One or more parameter values were invalid: Cannot update attribute ${head}. This attribute is part of the key`,
          )
        }
      }
    }
    const old = store.get(key)
    if (cond !== undefined && !cond(old ?? EMPTY))
      conditionFailed(old, input.ReturnValuesOnConditionCheckFailure)
    const base = old ?? key
    const next = update === undefined ? base : applyUpdate(update, base)
    const size = itemSize(next)
    if (size > itemBytesMax) invalid("Item size to update has exceeded the maximum allowed size")
    if (update !== undefined && nestingTooDeep(next)) invalid("Nesting Levels have exceeded supported limits")
    const paths = update?.paths ?? []
    let attributes: Item | undefined
    switch (input.ReturnValues) {
      case "ALL_OLD":
        attributes = old
        break
      case "ALL_NEW":
        attributes = next
        break
      case "UPDATED_OLD":
        attributes = old === undefined ? undefined : nonEmpty(project(old, paths))
        break
      case "UPDATED_NEW":
        attributes = nonEmpty(project(next, paths))
        break
    }
    return {
      Attributes: attributes,
      consumedBytes: Math.max(size, old === undefined ? 0 : itemSize(old)),
      oldItem: old,
      write: { key, image: next },
    }
  })

const nonEmpty = (i: Item): Item | undefined => {
  for (const _ in i) return i
  return undefined
}

/** UpdateItem: applies the update expression (creating the item when absent) if the condition holds. */
export const updateItem = (
  store: ItemStore,
  input: UpdateItemInput,
  options: OperationOptions = {},
): Either.Either<WriteOutput, OperationError> => applied(store, planUpdateItem(store, input, options))

const checkLimit = (limit: number | undefined): void => {
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) {
    invalid(
      `1 validation error detected: Value '${textOf(limit)}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1`,
    )
  }
}

const topLevelNames = (c: ConditionAst, b: Binder, what: string, out: string[]): string[] => {
  const operand = (o: {
    k: string
    path?: ReadonlyArray<string | number>
    args?: ReadonlyArray<unknown>
  }): void => {
    if (o.k === "path") out.push(b.path(o.path!, what)[0] as string)
    else if (o.k === "call") for (const a of o.args!) operand(a as typeof o)
  }
  switch (c.k) {
    case "and":
    case "or":
      topLevelNames(c.l, b, what, out)
      topLevelNames(c.r, b, what, out)
      break
    case "not":
      topLevelNames(c.c, b, what, out)
      break
    case "cmp":
      operand(c.l)
      operand(c.r)
      break
    case "between":
      operand(c.v)
      operand(c.lo)
      operand(c.hi)
      break
    case "in":
      operand(c.v)
      c.list.forEach(operand)
      break
    case "fn":
      c.args.forEach(operand)
      break
  }
  return out
}

/** Query: items of one partition in sort key order, within the key condition, filtered, paged. */
export const query = (
  store: ItemStore,
  input: QueryInput,
  options: OperationOptions = {},
): Either.Either<PageOutput, ValidationException> =>
  attempt(() => {
    const cache = options.cache ?? defaultExpressionCache
    const schema = store.keySchema
    checkLimit(input.Limit)
    if (typeof input.KeyConditionExpression !== "string") {
      invalid(
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
      )
    }
    const b = new Binder(input.ExpressionAttributeNames, input.ExpressionAttributeValues)
    const keyAst = cache.condition(input.KeyConditionExpression, "KeyConditionExpression").ast
    const kc = bindKeyCondition(keyAst, b, schema)
    let filter: Predicate | undefined
    if (input.FilterExpression !== undefined) {
      const ast = cache.condition(input.FilterExpression, "FilterExpression").ast
      for (const n of topLevelNames(ast, b, "FilterExpression", [])) {
        if (n === schema.partitionKey.name || n === schema.sortKey?.name) {
          invalid(
            `Filter Expression can only contain non-primary key attributes: Primary key attribute: ${n}`,
          )
        }
      }
      filter = bindCondition(ast, b, "FilterExpression")
    }
    const paths = bindOptionalProjection(input.ProjectionExpression, b, cache)
    b.checkUnused()
    const forward = input.ScanIndexForward !== false
    let start = sortKeyStart(kc.sortKey, forward)
    if (input.ExclusiveStartKey !== undefined) {
      const esk = validateKey(input.ExclusiveStartKey, schema)
      if (keyValueText(esk[schema.partitionKey.name]!) !== keyValueText(kc.partitionKey)) {
        invalid(
          "The provided starting key is invalid: The provided key element does not match the query's partition key",
        )
      }
      if (schema.sortKey === undefined) return { Items: [], Count: 0, ScannedCount: 0, consumedBytes: 0 }
      start = { sortKey: esk[schema.sortKey.name]!, inclusive: false }
    }
    const skName = schema.sortKey?.name
    const skCond = kc.sortKey
    const counting = countOnly(input.Select, input.ProjectionExpression)
    return page(
      store.partition(kc.partitionKey, forward, start),
      (item) => {
        if (skCond === undefined || skName === undefined) return 0
        const pos = sortKeyPosition(skCond, item[skName]!)
        return forward ? pos : -pos
      },
      undefined,
      filter,
      paths,
      input.Limit,
      schema,
      counting,
      pageBudget(options),
    )
  }) as Either.Either<PageOutput, ValidationException>

/** 32-bit FNV-1a of a string: spreads partition keys over scan segments. */
const fnv1a = (s: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  // Final avalanche (MurmurHash3 fmix32): FNV alone barely moves the high bits that pick the segment.
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** The scan segment (0 … total−1) that holds a partition key value. */
export const segmentOf = (partitionKey: AttributeValue, totalSegments: number): number =>
  Math.floor((fnv1a(keyValueText(partitionKey)) * totalSegments) / 0x1_0000_0000)

/** Scan: every item (or one segment's share), filtered, projected, paged. */
export const scan = (
  store: ItemStore,
  input: ScanInput,
  options: OperationOptions = {},
): Either.Either<PageOutput, ValidationException> =>
  attempt(() => {
    const cache = options.cache ?? defaultExpressionCache
    const schema = store.keySchema
    checkLimit(input.Limit)
    const { Segment: seg, TotalSegments: total } = input
    if (seg !== undefined || total !== undefined) {
      if (total === undefined) {
        invalid(
          "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
        )
      }
      if (seg === undefined) {
        invalid(
          "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
        )
      }
      if (!Number.isInteger(total) || total! < 1 || total! > totalSegmentsMax) {
        invalid(
          `1 validation error detected: Value '${textOf(total)}' at 'totalSegments' failed to satisfy constraint: Member must have value between 1 and ${totalSegmentsMax}`,
        )
      }
      if (!Number.isInteger(seg) || seg! < 0 || seg! >= total!) {
        invalid(
          `The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: ${textOf(seg)} is not less than TotalSegments: ${textOf(total)}`,
        )
      }
    }
    checkMapsNeedExpressions(
      input,
      input.FilterExpression !== undefined || input.ProjectionExpression !== undefined,
    )
    const b = new Binder(input.ExpressionAttributeNames, input.ExpressionAttributeValues)
    const filter = bindOptionalCondition(input.FilterExpression, "FilterExpression", b, cache)
    const paths = bindOptionalProjection(input.ProjectionExpression, b, cache)
    b.checkUnused()
    const esk =
      input.ExclusiveStartKey === undefined ? undefined : validateKey(input.ExclusiveStartKey, schema)
    const pkName = schema.partitionKey.name
    const inSegment =
      total === undefined || total === 1 ? undefined : (item: Item) => segmentOf(item[pkName]!, total) === seg
    const counting = countOnly(input.Select, input.ProjectionExpression)
    return page(
      store.scan(esk),
      () => 0,
      inSegment,
      filter,
      paths,
      input.Limit,
      schema,
      counting,
      pageBudget(options),
    )
  }) as Either.Either<PageOutput, ValidationException>

/**
 * One page of Query or Scan. `position` says where an item lies relative to the wanted range in
 * walk order (−1 not yet, 0 inside, 1 past: stop). Limit and the 1 MB bound count items read,
 * before the filter, as DynamoDB does.
 */
const page = (
  items: Iterable<Item>,
  position: (item: Item) => number,
  include: ((item: Item) => boolean) | undefined,
  filter: Predicate | undefined,
  paths: ReadonlyArray<Path> | undefined,
  limit: number | undefined,
  schema: TableKeySchema,
  counting: boolean,
  budget: number,
): PageOutput => {
  const out: Item[] = []
  let count = 0
  let scanned = 0
  let bytes = 0
  let last: Item | undefined
  for (const item of items) {
    const pos = position(item)
    if (pos < 0) continue
    if (pos > 0) break
    if (include !== undefined && !include(item)) continue
    scanned++
    bytes += itemSize(item)
    if (filter === undefined || filter(item)) {
      count++
      if (!counting) out.push(paths === undefined ? item : project(item, paths))
    }
    if (scanned === limit || bytes >= budget) {
      last = keyOf(item, schema)
      break
    }
  }
  return {
    Items: out,
    Count: count,
    ScannedCount: scanned,
    LastEvaluatedKey: last,
    consumedBytes: bytes,
  }
}
