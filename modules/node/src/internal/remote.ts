/**
 * The client of another process: the same operations as `Client` (Promise) and `DynamoDBService`
 * (Effect), sent over HTTP on DynamoDB's wire protocol to an endpoint — a Partita server
 * (`serveDynamoDB`, `partita serve`) or anything else that speaks DynamoDB's JSON 1.0 protocol.
 * Answers and errors are the local client's: items with binaries as bytes, DynamoDB's typed errors
 * rebuilt from the wire's `__type`.
 */
import { type DynamoDBError, InternalServerError } from "@partita/core"
import { Effect, Layer } from "effect"
import { DynamoDB, type DynamoDBService } from "./client.ts"
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
} from "./model.ts"
import { CONTENT_TYPE, convertBody, errorOfWire, type Operation, TARGET_PREFIX } from "./wire.ts"

/** Options of a {@link RemoteClient}. */
export interface RemoteClientOptions {
  /** Longest wait for one answer, ms; past it the call fails with an `InternalServerError`. Default 10,000. */
  readonly timeoutMs?: number | undefined
  /** The `fetch` to send with (default the runtime's). */
  readonly fetch?: typeof fetch | undefined
}

/**
 * DynamoDB's operations on an endpoint over HTTP, as Promise functions. A failed call rejects with
 * DynamoDB's typed error; a connection that fails or an answer that is not DynamoDB's rejects with
 * an `InternalServerError` naming what happened (retryable, as the SDKs treat such failures).
 */
export class RemoteClient {
  private readonly timeoutMs: number
  private readonly send: typeof fetch
  constructor(
    /** The endpoint, e.g. `http://127.0.0.1:8000`. */
    readonly endpoint: string,
    options: RemoteClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000
    this.send = options.fetch ?? fetch
  }

  /** Sends one operation; resolves with its answer (binaries as bytes). */
  async call<A>(op: Operation, input: unknown): Promise<A> {
    let res: Response
    try {
      res = await this.send(this.endpoint, {
        method: "POST",
        headers: { "content-type": CONTENT_TYPE, "x-amz-target": `${TARGET_PREFIX}${op}` },
        body: JSON.stringify(convertBody(input, "out")),
        signal: AbortSignal.timeout(this.timeoutMs),
      })
    } catch (e) {
      throw new InternalServerError({
        message: `${op}: no answer from ${this.endpoint}: ${e instanceof Error ? e.message : String(e)}`,
      })
    }
    let text: string
    try {
      text = await res.text()
    } catch (e) {
      throw new InternalServerError({
        message: `${op}: the answer from ${this.endpoint} broke off: ${String(e)}`,
      })
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      throw new InternalServerError({
        message: `${op}: ${this.endpoint} answered HTTP ${res.status} with a body that is not JSON`,
      })
    }
    if (res.ok) return convertBody(json, "in", "response") as A
    throw errorOfWire(json, res.status)
  }

  createTable(i: CreateTableInput): Promise<{ TableDescription: TableDescription }> {
    return this.call("CreateTable", i)
  }
  describeTable(i: { TableName: string }): Promise<{ Table: TableDescription }> {
    return this.call("DescribeTable", i)
  }
  listTables(i: ListTablesRequest = {}): Promise<ListTablesResponse> {
    return this.call("ListTables", i)
  }
  deleteTable(i: { TableName: string }): Promise<{ TableDescription: TableDescription }> {
    return this.call("DeleteTable", i)
  }
  updateTable(i: UpdateTableRequest): Promise<{ TableDescription: TableDescription }> {
    return this.call("UpdateTable", i)
  }
  getItem(i: GetItemRequest): Promise<GetItemResponse> {
    return this.call("GetItem", i)
  }
  putItem(i: PutItemRequest): Promise<WriteItemResponse> {
    return this.call("PutItem", i)
  }
  updateItem(i: UpdateItemRequest): Promise<WriteItemResponse> {
    return this.call("UpdateItem", i)
  }
  deleteItem(i: DeleteItemRequest): Promise<WriteItemResponse> {
    return this.call("DeleteItem", i)
  }
  query(i: QueryRequest): Promise<PageResponse> {
    return this.call("Query", i)
  }
  scan(i: ScanRequest): Promise<PageResponse> {
    return this.call("Scan", i)
  }
  batchGetItem(i: BatchGetItemRequest): Promise<BatchGetItemResponse> {
    return this.call("BatchGetItem", i)
  }
  batchWriteItem(i: BatchWriteItemRequest): Promise<BatchWriteItemResponse> {
    return this.call("BatchWriteItem", i)
  }
}

/** The Effect client over an endpoint: the same service as `makeDynamoDB`, across a process boundary. */
export const makeRemoteDynamoDB = (endpoint: string, options: RemoteClientOptions = {}): DynamoDBService => {
  const c = new RemoteClient(endpoint, options)
  const eff =
    <I, A>(f: (i: I) => Promise<A>) =>
    (i: I): Effect.Effect<A, DynamoDBError> =>
      Effect.tryPromise({ try: () => f.call(c, i), catch: (e) => e as DynamoDBError })
  return {
    createTable: eff(c.createTable),
    describeTable: eff(c.describeTable),
    listTables: (i) => Effect.tryPromise({ try: () => c.listTables(i), catch: (e) => e as DynamoDBError }),
    deleteTable: eff(c.deleteTable),
    updateTable: eff(c.updateTable),
    getItem: eff(c.getItem),
    putItem: eff(c.putItem),
    updateItem: eff(c.updateItem),
    deleteItem: eff(c.deleteItem),
    query: eff(c.query),
    scan: eff(c.scan),
    batchGetItem: eff(c.batchGetItem),
    batchWriteItem: eff(c.batchWriteItem),
  }
}

/** A layer serving the `DynamoDB` service from a remote endpoint. */
export const remoteDynamoDBLayer = (
  endpoint: string,
  options: RemoteClientOptions = {},
): Layer.Layer<DynamoDB> => Layer.succeed(DynamoDB, makeRemoteDynamoDB(endpoint, options))
