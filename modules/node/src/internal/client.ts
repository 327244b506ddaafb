/**
 * The typed client: DynamoDB's operations over a set of request routers, as plain Promise
 * functions (`Client`) and as Effect functions (`DynamoDB` service + accessors). Control-plane
 * operations go to the metadata service; data-plane operations to a router (round-robin).
 */
import type { DynamoDBError } from "@partita/core"
import { Context, Effect, Either, Layer } from "effect"
import type { MetadataService } from "./metadata.ts"
import type {
  BatchGetItemRequest,
  BatchGetItemResponse,
  BatchWriteItemRequest,
  BatchWriteItemResponse,
  CreateTableInput,
  DeleteItemRequest,
  GetItemRequest,
  GetItemResponse,
  ListTablesRequest,
  ListTablesResponse,
  PageResponse,
  PutItemRequest,
  QueryRequest,
  ScanRequest,
  TableDescription,
  UpdateItemRequest,
  UpdateTableRequest,
  WriteItemResponse,
  WriteRequest,
} from "./model.ts"
import { BATCH_GET_KEYS_MAX, BATCH_WRITE_ITEMS_MAX } from "./model.ts"
import type { Callback, RequestRouter, Result } from "./router.ts"
import { ValidationException } from "@partita/core"
import type { ConsumedCapacity } from "@partita/admission"
import type { Item } from "@partita/core"

/**
 * Runs `start` with a callback that is never invoked inside `start` itself: an answer given
 * synchronously (a validation error, a throttle decided by the router's own bucket) is delivered
 * through the runtime's `defer`. A caller that retries from its callback, as load generators and SDK-style retry
 * loops do, would otherwise recurse once per throttled request and overflow the stack.
 */
const later = <I, A>(
  router: RequestRouter,
  op: (this: RequestRouter, input: I, cb: Callback<A>) => void,
  input: I,
  cb: Callback<A>,
): void => {
  // One closure per request (the operation is called as a method, not through a second one).
  let inside = true
  op.call(router, input, (r) => {
    // The runtime's defer: a microtask on real time, the next event at the same instant in the
    // simulation (deterministic, and run by the simulation's own loop).
    if (inside) router.runtime.defer(() => cb(r))
    else cb(r)
  })
  inside = false
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v)

/** UpdateTable's throughput change, its shape checked first (outside input). */
const updateTableOf = (meta: MetadataService, i: UpdateTableRequest) => {
  const pt: unknown = isRecord(i) ? i.ProvisionedThroughput : undefined
  if (!isRecord(pt))
    return Either.left(
      new ValidationException({
        message: "UpdateTable takes ProvisionedThroughput: { ReadCapacityUnits, WriteCapacityUnits }",
      }),
    )
  return meta.updateThroughput(i.TableName, pt.ReadCapacityUnits as number, pt.WriteCapacityUnits as number)
}

/** ListTables' page size, at most and by default (DynamoDB's). */
export const LIST_TABLES_LIMIT_MAX = 100

/** One page of ListTables: names in order after `ExclusiveStartTableName`, `Limit` (1 to 100) of them. */
const listTablesOf = (
  meta: MetadataService,
  i: ListTablesRequest | undefined,
): Either.Either<ListTablesResponse, ValidationException> => {
  const input: Record<string, unknown> = isRecord(i) ? i : {}
  const limit = input.Limit ?? LIST_TABLES_LIMIT_MAX
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > LIST_TABLES_LIMIT_MAX)
    return Either.left(
      new ValidationException({
        message: `ListTables: Limit must be an integer from 1 to ${LIST_TABLES_LIMIT_MAX}, got ${JSON.stringify(limit)}`,
      }),
    )
  const start = input.ExclusiveStartTableName
  if (start !== undefined && typeof start !== "string")
    return Either.left(
      new ValidationException({ message: "ListTables: ExclusiveStartTableName must be a table name" }),
    )
  const names = [...meta.listTables()].sort()
  const from = start === undefined ? 0 : names.findIndex((n) => n > start)
  const page = from < 0 ? [] : names.slice(from, from + limit)
  return Either.right(
    from >= 0 && from + limit < names.length
      ? { TableNames: page, LastEvaluatedTableName: page[page.length - 1] }
      : { TableNames: page },
  )
}

/**
 * What is wrong with the shape of a BatchGetItem request (outside input, checked before it is
 * walked), or undefined. Each key is then checked as GetItem checks it.
 */
const batchGetShapeError = (i: unknown): string | undefined => {
  if (!isRecord(i) || !isRecord(i.RequestItems))
    return "BatchGetItem: RequestItems must be a map from table name to { Keys: [key, ...] }"
  for (const [table, v] of Object.entries(i.RequestItems)) {
    if (!isRecord(v) || !Array.isArray(v.Keys))
      return `BatchGetItem: RequestItems[${JSON.stringify(table)}] must be { Keys: [key, ...] }`
    if (!v.Keys.every(isRecord))
      return `BatchGetItem: RequestItems[${JSON.stringify(table)}].Keys must hold key maps (attribute name to value)`
  }
  return undefined
}

/**
 * What is wrong with the shape of a BatchWriteItem request, or undefined: each table's list holds
 * requests that are exactly one of `{ PutRequest: { Item } }` and `{ DeleteRequest: { Key } }`.
 */
const batchWriteShapeError = (i: unknown): string | undefined => {
  if (!isRecord(i) || !isRecord(i.RequestItems))
    return "BatchWriteItem: RequestItems must be a map from table name to a list of write requests"
  for (const [table, writes] of Object.entries(i.RequestItems)) {
    const at = `BatchWriteItem: RequestItems[${JSON.stringify(table)}]`
    if (!Array.isArray(writes)) return `${at} must be a list of write requests`
    for (const w of writes) {
      const put = isRecord(w) ? w.PutRequest : undefined
      const del = isRecord(w) ? w.DeleteRequest : undefined
      if (!isRecord(w) || (put === undefined) === (del === undefined))
        return `${at}: each request must be exactly one of { PutRequest: { Item } } and { DeleteRequest: { Key } }`
      if (put !== undefined && !(isRecord(put) && isRecord(put.Item)))
        return `${at}: PutRequest must be { Item: { ... } }`
      if (del !== undefined && !(isRecord(del) && isRecord(del.Key)))
        return `${at}: DeleteRequest must be { Key: { ... } }`
    }
  }
  return undefined
}

/**
 * The client's operations in callback form (the transport-independent core). Callbacks are always
 * called after the call returns, never inside it.
 */
export class CallbackClient {
  private next = 0
  constructor(
    readonly meta: MetadataService,
    readonly routers: ReadonlyArray<RequestRouter>,
  ) {}

  /** The router the next request goes to (round-robin). */
  router(): RequestRouter {
    const r = this.routers[this.next++ % this.routers.length]
    if (r === undefined) throw new Error("no routers")
    return r
  }

  getItem(i: GetItemRequest, cb: Callback<GetItemResponse>): void {
    const r = this.router()
    later(r, r.getItem, i, cb)
  }
  putItem(i: PutItemRequest, cb: Callback<WriteItemResponse>): void {
    const r = this.router()
    later(r, r.putItem, i, cb)
  }
  updateItem(i: UpdateItemRequest, cb: Callback<WriteItemResponse>): void {
    const r = this.router()
    later(r, r.updateItem, i, cb)
  }
  deleteItem(i: DeleteItemRequest, cb: Callback<WriteItemResponse>): void {
    const r = this.router()
    later(r, r.deleteItem, i, cb)
  }
  query(i: QueryRequest, cb: Callback<PageResponse>): void {
    const r = this.router()
    later(r, r.query, i, cb)
  }
  scan(i: ScanRequest, cb: Callback<PageResponse>): void {
    const r = this.router()
    later(r, r.scan, i, cb)
  }

  /** BatchGetItem: keys the tables' throughput refused come back in UnprocessedKeys. */
  /** Answers `cb` with a validation error, after the call has returned (like every answer). */
  private invalid<A>(cb: Callback<A>, message: string): void {
    const error = new ValidationException({ message })
    this.router().runtime.defer(() => cb({ ok: false, error }))
  }

  batchGetItem(i: BatchGetItemRequest, cb: Callback<BatchGetItemResponse>): void {
    const shape = batchGetShapeError(i)
    if (shape !== undefined) {
      this.invalid(cb, shape)
      return
    }
    const entries = Object.entries(i.RequestItems)
    const total = entries.reduce((n, [, v]) => n + v.Keys.length, 0)
    if (total > BATCH_GET_KEYS_MAX || total === 0) {
      this.invalid(cb, `BatchGetItem takes 1 to ${BATCH_GET_KEYS_MAX} keys`)
      return
    }
    const responses: Record<string, Item[]> = {}
    const unprocessed: Record<
      string,
      {
        Keys: Item[]
        ConsistentRead?: boolean | undefined
        ProjectionExpression?: string | undefined
        ExpressionAttributeNames?: Record<string, string> | undefined
      }
    > = {}
    const capacity = new Map<string, number>()
    let left = total
    let failed: DynamoDBError | undefined
    const doneOne = (): void => {
      if (--left > 0) return
      if (failed !== undefined) {
        cb({ ok: false, error: failed })
        return
      }
      const cc: ConsumedCapacity[] | undefined =
        i.ReturnConsumedCapacity === undefined || i.ReturnConsumedCapacity === "NONE"
          ? undefined
          : [...capacity].map(([t, u]) => ({ TableName: t, CapacityUnits: u, ReadCapacityUnits: u }))
      cb({ ok: true, value: { Responses: responses, UnprocessedKeys: unprocessed, ConsumedCapacity: cc } })
    }
    for (const [table, req] of entries) {
      responses[table] = []
      for (const key of req.Keys) {
        this.getItem(
          {
            TableName: table,
            Key: key,
            ConsistentRead: req.ConsistentRead,
            ProjectionExpression: req.ProjectionExpression,
            ExpressionAttributeNames: req.ExpressionAttributeNames,
            ReturnConsumedCapacity: "TOTAL",
          },
          (r) => {
            if (r.ok) {
              if (r.value.Item !== undefined) responses[table]!.push(r.value.Item)
              capacity.set(table, (capacity.get(table) ?? 0) + (r.value.ConsumedCapacity?.CapacityUnits ?? 0))
            } else if (isUnprocessed(r.error)) {
              const u = unprocessed[table] ?? { ...req, Keys: [] }
              u.Keys.push(key)
              unprocessed[table] = u
            } else failed ??= r.error
            doneOne()
          },
        )
      }
    }
  }

  /** BatchWriteItem: writes the tables' throughput refused come back in UnprocessedItems. */
  batchWriteItem(i: BatchWriteItemRequest, cb: Callback<BatchWriteItemResponse>): void {
    const shape = batchWriteShapeError(i)
    if (shape !== undefined) {
      this.invalid(cb, shape)
      return
    }
    const entries = Object.entries(i.RequestItems)
    const total = entries.reduce((n, [, v]) => n + v.length, 0)
    if (total > BATCH_WRITE_ITEMS_MAX || total === 0) {
      this.invalid(cb, `BatchWriteItem takes 1 to ${BATCH_WRITE_ITEMS_MAX} requests`)
      return
    }
    const unprocessed: Record<string, WriteRequest[]> = {}
    const capacity = new Map<string, number>()
    let left = total
    let failed: DynamoDBError | undefined
    const doneOne = (): void => {
      if (--left > 0) return
      if (failed !== undefined) {
        cb({ ok: false, error: failed })
        return
      }
      const cc: ConsumedCapacity[] | undefined =
        i.ReturnConsumedCapacity === undefined || i.ReturnConsumedCapacity === "NONE"
          ? undefined
          : [...capacity].map(([t, u]) => ({ TableName: t, CapacityUnits: u, WriteCapacityUnits: u }))
      cb({ ok: true, value: { UnprocessedItems: unprocessed, ConsumedCapacity: cc } })
    }
    for (const [table, writes] of entries) {
      for (const w of writes) {
        const handle = (r: Result<WriteItemResponse>): void => {
          if (r.ok)
            capacity.set(table, (capacity.get(table) ?? 0) + (r.value.ConsumedCapacity?.CapacityUnits ?? 0))
          else if (isUnprocessed(r.error)) (unprocessed[table] ??= []).push(w)
          else failed ??= r.error
          doneOne()
        }
        // (The shape check above: exactly one of the two is present, and not undefined.)
        if ("PutRequest" in w && w.PutRequest !== undefined)
          this.putItem({ TableName: table, Item: w.PutRequest.Item, ReturnConsumedCapacity: "TOTAL" }, handle)
        else if ("DeleteRequest" in w)
          this.deleteItem(
            { TableName: table, Key: w.DeleteRequest.Key, ReturnConsumedCapacity: "TOTAL" },
            handle,
          )
      }
    }
  }
}

const isUnprocessed = (e: DynamoDBError): boolean =>
  e._tag === "ProvisionedThroughputExceededException" ||
  e._tag === "ThrottlingException" ||
  e._tag === "InternalServerError"

const promise = <A>(f: (cb: Callback<A>) => void): Promise<A> =>
  new Promise<A>((resolve, reject) => f((r) => (r.ok ? resolve(r.value) : reject(r.error))))

const fromEither = <A, E>(e: Either.Either<A, E>): Promise<A> =>
  Either.isRight(e) ? Promise.resolve(e.right) : Promise.reject(e.left)

/** The DynamoDB client as plain Promise functions (errors reject with DynamoDB's typed errors). */
export class Client {
  readonly cb: CallbackClient
  constructor(meta: MetadataService, routers: ReadonlyArray<RequestRouter>) {
    this.cb = new CallbackClient(meta, routers)
  }
  createTable(i: CreateTableInput): Promise<{ TableDescription: TableDescription }> {
    return fromEither(Either.map(this.cb.meta.createTable(i), (d) => ({ TableDescription: d })))
  }
  describeTable(i: { TableName: string }): Promise<{ Table: TableDescription }> {
    return fromEither(Either.map(this.cb.meta.describeTable(i.TableName), (d) => ({ Table: d })))
  }
  /** ListTables, one page (all tables, up to 100, without arguments). */
  listTables(i?: ListTablesRequest): Promise<ListTablesResponse> {
    return fromEither(listTablesOf(this.cb.meta, i))
  }
  deleteTable(i: { TableName: string }): Promise<{ TableDescription: TableDescription }> {
    return fromEither(Either.map(this.cb.meta.deleteTable(i.TableName), (d) => ({ TableDescription: d })))
  }
  updateTable(i: UpdateTableRequest): Promise<{ TableDescription: TableDescription }> {
    return fromEither(Either.map(updateTableOf(this.cb.meta, i), (d) => ({ TableDescription: d })))
  }
  getItem(i: GetItemRequest): Promise<GetItemResponse> {
    return promise((cb) => this.cb.getItem(i, cb))
  }
  putItem(i: PutItemRequest): Promise<WriteItemResponse> {
    return promise((cb) => this.cb.putItem(i, cb))
  }
  updateItem(i: UpdateItemRequest): Promise<WriteItemResponse> {
    return promise((cb) => this.cb.updateItem(i, cb))
  }
  deleteItem(i: DeleteItemRequest): Promise<WriteItemResponse> {
    return promise((cb) => this.cb.deleteItem(i, cb))
  }
  query(i: QueryRequest): Promise<PageResponse> {
    return promise((cb) => this.cb.query(i, cb))
  }
  scan(i: ScanRequest): Promise<PageResponse> {
    return promise((cb) => this.cb.scan(i, cb))
  }
  batchGetItem(i: BatchGetItemRequest): Promise<BatchGetItemResponse> {
    return promise((cb) => this.cb.batchGetItem(i, cb))
  }
  batchWriteItem(i: BatchWriteItemRequest): Promise<BatchWriteItemResponse> {
    return promise((cb) => this.cb.batchWriteItem(i, cb))
  }
}

const eff = <A>(f: (cb: Callback<A>) => void): Effect.Effect<A, DynamoDBError> =>
  Effect.async<A, DynamoDBError>((resume) =>
    f((r) => resume(r.ok ? Effect.succeed(r.value) : Effect.fail(r.error))),
  )

/** The DynamoDB client as an Effect service. */
export interface DynamoDBService {
  readonly createTable: (
    i: CreateTableInput,
  ) => Effect.Effect<{ TableDescription: TableDescription }, DynamoDBError>
  readonly describeTable: (i: {
    TableName: string
  }) => Effect.Effect<{ Table: TableDescription }, DynamoDBError>
  readonly listTables: (i?: ListTablesRequest) => Effect.Effect<ListTablesResponse, DynamoDBError>
  readonly deleteTable: (i: {
    TableName: string
  }) => Effect.Effect<{ TableDescription: TableDescription }, DynamoDBError>
  readonly updateTable: (
    i: UpdateTableRequest,
  ) => Effect.Effect<{ TableDescription: TableDescription }, DynamoDBError>
  readonly getItem: (i: GetItemRequest) => Effect.Effect<GetItemResponse, DynamoDBError>
  readonly putItem: (i: PutItemRequest) => Effect.Effect<WriteItemResponse, DynamoDBError>
  readonly updateItem: (i: UpdateItemRequest) => Effect.Effect<WriteItemResponse, DynamoDBError>
  readonly deleteItem: (i: DeleteItemRequest) => Effect.Effect<WriteItemResponse, DynamoDBError>
  readonly query: (i: QueryRequest) => Effect.Effect<PageResponse, DynamoDBError>
  readonly scan: (i: ScanRequest) => Effect.Effect<PageResponse, DynamoDBError>
  readonly batchGetItem: (i: BatchGetItemRequest) => Effect.Effect<BatchGetItemResponse, DynamoDBError>
  readonly batchWriteItem: (i: BatchWriteItemRequest) => Effect.Effect<BatchWriteItemResponse, DynamoDBError>
}

/** The DynamoDB client service tag. */
export class DynamoDB extends Context.Tag("@partita/node/DynamoDB")<DynamoDB, DynamoDBService>() {
  /** A layer serving the client over a cluster's metadata service and routers. */
  static layer(meta: MetadataService, routers: ReadonlyArray<RequestRouter>): Layer.Layer<DynamoDB> {
    return Layer.succeed(DynamoDB, makeDynamoDB(meta, routers))
  }
}

/** Builds the Effect client over a metadata service and routers. */
export const makeDynamoDB = (
  meta: MetadataService,
  routers: ReadonlyArray<RequestRouter>,
): DynamoDBService => {
  const c = new CallbackClient(meta, routers)
  return {
    createTable: (i) => Effect.map(meta.createTable(i), (d) => ({ TableDescription: d })),
    describeTable: (i) => Effect.map(meta.describeTable(i.TableName), (d) => ({ Table: d })),
    listTables: (i) => Effect.suspend(() => listTablesOf(meta, i)),
    deleteTable: (i) => Effect.map(meta.deleteTable(i.TableName), (d) => ({ TableDescription: d })),
    updateTable: (i) => Effect.map(updateTableOf(meta, i), (d) => ({ TableDescription: d })),
    getItem: (i) => eff((cb) => c.getItem(i, cb)),
    putItem: (i) => eff((cb) => c.putItem(i, cb)),
    updateItem: (i) => eff((cb) => c.updateItem(i, cb)),
    deleteItem: (i) => eff((cb) => c.deleteItem(i, cb)),
    query: (i) => eff((cb) => c.query(i, cb)),
    scan: (i) => eff((cb) => c.scan(i, cb)),
    batchGetItem: (i) => eff((cb) => c.batchGetItem(i, cb)),
    batchWriteItem: (i) => eff((cb) => c.batchWriteItem(i, cb)),
  }
}
