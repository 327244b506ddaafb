/**
 * A DynamoDB endpoint over TCP: DynamoDB's JSON 1.0 wire protocol (`POST /` with
 * `X-Amz-Target: DynamoDB_20120810.<Operation>`) served by a `Client` over a cluster, so another
 * process — Partita's `RemoteClient`, the AWS SDKs, `curl` — reads and writes it. HTTP/1.1 through
 * `node:http`, which Bun, Deno and Node all provide.
 *
 * Every answer is DynamoDB's: the operation's JSON, or a 400 (500 for an internal error) with
 * `{ __type, message }`. A body that is not JSON, an unknown operation or an oversized request is
 * refused with a clear message and never reaches the cluster; an exception inside an operation is
 * answered as an `InternalServerError` and the server goes on.
 */
import { Buffer } from "node:buffer"
import { randomUUID } from "node:crypto"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import { type DynamoDBError, isDynamoDBError, ValidationException } from "@partita/core"
import { Data, Effect, type Scope } from "effect"
import type { Client } from "./client.ts"
import type {
  BatchGetItemRequest,
  BatchWriteItemRequest,
  CreateTableInput,
  DeleteItemRequest,
  GetItemRequest,
  PutItemRequest,
  QueryRequest,
  ScanRequest,
  UpdateItemRequest,
  UpdateTableRequest,
} from "./model.ts"
import {
  CONTENT_TYPE,
  coralError,
  convertBody,
  OPERATIONS,
  type Operation,
  TARGET_PREFIX,
  type WireError,
  WireShapeError,
  wireErrorOf,
} from "./wire.ts"

/** DynamoDB's limit on a request's HTTP payload (16 MB). */
export const REQUEST_BYTES_MAX = 16 * 1024 * 1024

/** Options of {@link serveDynamoDB}. */
export interface DynamoDBServerOptions {
  /** TCP port; 0 picks a free one (see `DynamoDBServer.port`). Default 8000, DynamoDB Local's. */
  readonly port?: number | undefined
  /** Address to listen on. Default `127.0.0.1` (this machine only). */
  readonly host?: string | undefined
  /** Largest request body taken, bytes. Default {@link REQUEST_BYTES_MAX}. */
  readonly maxRequestBytes?: number | undefined
}

/** A running endpoint. */
export interface DynamoDBServer {
  /** The port it listens on (the one picked, when asked for 0). */
  readonly port: number
  /** `http://<host>:<port>`, the endpoint to give a client. */
  readonly url: string
  /** Requests answered, by outcome. */
  readonly counters: DynamoDBServerCounters
  /** Stops listening and closes every connection; resolves once closed. The cluster is left running. */
  close(): Promise<void>
}

/** What a server has answered. */
export interface DynamoDBServerCounters {
  /** Operations answered with their result. */
  ok: number
  /** Operations answered with one of DynamoDB's errors (throttles, failed conditions, bad input). */
  errors: number
  /** Requests refused before any operation ran (not JSON, unknown operation, too large, wrong method). */
  refused: number
  /** Operations that threw something other than a DynamoDB error (answered 500). */
  internal: number
}

/** The server could not start (the port is taken, the address is not this machine's). */
export class ServerStartError extends Data.TaggedError("ServerStartError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/** One answer: HTTP status and JSON body. */
export interface WireAnswer {
  readonly status: number
  readonly body: unknown
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v)

/** Runs one operation (the body already converted to the client's values). */
const dispatch = (db: Client, op: Operation, i: Record<string, unknown>): Promise<unknown> => {
  // The request's fields are checked by the operations themselves (the client validates every
  // request that reaches it: outside input either way).
  switch (op) {
    case "CreateTable":
      return db.createTable(i as unknown as CreateTableInput)
    case "DescribeTable":
      return db.describeTable(i as unknown as { TableName: string })
    case "ListTables":
      return db.listTables(i)
    case "UpdateTable":
      return db.updateTable(i as unknown as UpdateTableRequest)
    case "DeleteTable":
      return db.deleteTable(i as unknown as { TableName: string })
    case "GetItem":
      return db.getItem(i as unknown as GetItemRequest)
    case "PutItem":
      return db.putItem(i as unknown as PutItemRequest)
    case "UpdateItem":
      return db.updateItem(i as unknown as UpdateItemRequest)
    case "DeleteItem":
      return db.deleteItem(i as unknown as DeleteItemRequest)
    case "Query":
      return db.query(i as unknown as QueryRequest)
    case "Scan":
      return db.scan(i as unknown as ScanRequest)
    case "BatchGetItem":
      return db.batchGetItem(i as unknown as BatchGetItemRequest)
    case "BatchWriteItem":
      return db.batchWriteItem(i as unknown as BatchWriteItemRequest)
  }
}

const refused = (counters: DynamoDBServerCounters, body: WireError): WireAnswer => {
  counters.refused++
  return { status: 400, body }
}

/**
 * Answers one request of the wire protocol: `target` is the `X-Amz-Target` header, `text` the
 * body. The transport-free core of the server (a test or another transport calls it directly).
 */
export const answerWire = async (
  db: Client,
  target: string | undefined,
  text: string,
  counters: DynamoDBServerCounters = { ok: 0, errors: 0, refused: 0, internal: 0 },
): Promise<WireAnswer> => {
  const op = target?.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined
  if (op === undefined || !(OPERATIONS as ReadonlyArray<string>).includes(op))
    return refused(
      counters,
      coralError(
        "UnknownOperationException",
        target === undefined
          ? `missing X-Amz-Target header (expected ${TARGET_PREFIX}<Operation>)`
          : `unknown operation ${JSON.stringify(target)}; served: ${OPERATIONS.join(", ")}`,
      ),
    )
  let json: unknown
  try {
    json = text.length === 0 ? {} : JSON.parse(text)
  } catch (e) {
    return refused(counters, coralError("SerializationException", `${op}: body is not JSON (${String(e)})`))
  }
  if (!isRecord(json))
    return refused(counters, coralError("SerializationException", `${op}: body must be a JSON object`))
  let input: Record<string, unknown>
  try {
    input = convertBody(json, "in") as Record<string, unknown>
  } catch (e) {
    if (e instanceof WireShapeError) return refused(counters, coralError("SerializationException", e.message))
    throw e
  }
  try {
    const out = await dispatch(db, op as Operation, input)
    counters.ok++
    return { status: 200, body: convertBody(out, "out", "response") }
  } catch (e) {
    if (isDynamoDBError(e)) {
      counters.errors++
      return { status: (e as DynamoDBError & { status?: number }).status ?? 400, body: wireErrorOf(e) }
    }
    counters.internal++
    return {
      status: 500,
      body: {
        __type: "com.amazonaws.dynamodb.v20120810#InternalServerError",
        message: `${op} failed inside the server: ${e instanceof Error ? e.message : String(e)}`,
      },
    }
  }
}

const send = (res: ServerResponse, status: number, body: unknown, requestId: string): void => {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    "content-type": CONTENT_TYPE,
    "content-length": Buffer.byteLength(text),
    "x-amzn-requestid": requestId,
  })
  res.end(text)
}

/**
 * Serves a client's cluster on DynamoDB's wire protocol. Resolves once listening; rejects with a
 * {@link ServerStartError} if it cannot. Close it with `close()` (the cluster keeps running).
 */
export const serveDynamoDB = (db: Client, options: DynamoDBServerOptions = {}): Promise<DynamoDBServer> => {
  const host = options.host ?? "127.0.0.1"
  const maxBytes = options.maxRequestBytes ?? REQUEST_BYTES_MAX
  const counters: DynamoDBServerCounters = { ok: 0, errors: 0, refused: 0, internal: 0 }
  const idPrefix = randomUUID().slice(0, 8)
  let requests = 0
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const requestId = `${idPrefix}-${(requests++).toString(36)}`
    if (req.method === "GET" && (req.url === "/" || req.url === "/health")) {
      res.writeHead(200, { "content-type": "text/plain" })
      res.end("partita: healthy\n")
      return
    }
    if (req.method !== "POST") {
      counters.refused++
      send(
        res,
        405,
        coralError("SerializationException", `method ${req.method} not served: POST a request`),
        requestId,
      )
      return
    }
    const declared = Number(req.headers["content-length"] ?? 0)
    if (declared > maxBytes) {
      counters.refused++
      send(
        res,
        413,
        wireErrorOf(
          new ValidationException({
            message: `request body of ${declared} bytes is over the limit of ${maxBytes}`,
          }),
        ),
        requestId,
      )
      req.resume()
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    let over = false
    req.on("data", (c: Buffer) => {
      if (over) return
      size += c.length
      if (size > maxBytes) {
        over = true
        counters.refused++
        send(
          res,
          413,
          wireErrorOf(
            new ValidationException({ message: `request body is over the limit of ${maxBytes} bytes` }),
          ),
          requestId,
        )
        return
      }
      chunks.push(c)
    })
    req.on("error", () => {
      // The connection broke before the body arrived: nothing to answer.
    })
    req.on("end", () => {
      if (over) return
      const target = req.headers["x-amz-target"]
      answerWire(
        db,
        Array.isArray(target) ? target[0] : target,
        Buffer.concat(chunks).toString("utf8"),
        counters,
      ).then(
        (a) => send(res, a.status, a.body, requestId),
        (e) => {
          counters.internal++
          send(
            res,
            500,
            { __type: "com.amazonaws.dynamodb.v20120810#InternalServerError", message: String(e) },
            requestId,
          )
        },
      )
    })
  }
  return new Promise<DynamoDBServer>((resolve, reject) => {
    const server: Server = createServer(handle)
    const onError = (e: Error): void =>
      reject(
        new ServerStartError({
          message: `cannot listen on ${host}:${options.port ?? 8000}: ${e.message}`,
          cause: e,
        }),
      )
    server.once("error", onError)
    server.listen(options.port ?? 8000, host, () => {
      server.off("error", onError)
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : (options.port ?? 8000)
      resolve({
        port,
        url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
        counters,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            ;(server as Server & { closeAllConnections?: () => void }).closeAllConnections?.()
          }),
      })
    })
  })
}

/** {@link serveDynamoDB} as a scoped Effect: the server closes when the scope does. */
export const serveDynamoDBScoped = (
  db: Client,
  options: DynamoDBServerOptions = {},
): Effect.Effect<DynamoDBServer, ServerStartError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () => serveDynamoDB(db, options),
      catch: (e) =>
        e instanceof ServerStartError ? e : new ServerStartError({ message: String(e), cause: e }),
    }),
    (s) => Effect.promise(() => s.close()),
  )
