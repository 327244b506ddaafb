/**
 * DynamoDB's wire protocol (the JSON 1.0 protocol of `DynamoDB_20120810`): the operation names a
 * request's `X-Amz-Target` header carries, the error bodies, and the one difference between the
 * wire JSON and the client's values: binaries (`B`, `BS`) travel as base64 text. Shared by the
 * server (`server.ts`) and the remote client (`remote.ts`).
 */
import { Buffer } from "node:buffer"
import {
  ConditionalCheckFailedException,
  type DynamoDBError,
  InternalServerError,
  ItemCollectionSizeLimitExceededException,
  LimitExceededException,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ResourceInUseException,
  ResourceNotFoundException,
  ThrottlingException,
  TransactionCanceledException,
  TransactionConflictException,
  toWireError,
  ValidationException,
} from "@partita/core"

/** The `X-Amz-Target` prefix of every operation (DynamoDB's API version). */
export const TARGET_PREFIX = "DynamoDB_20120810."

/** The operations Partita serves on the wire. */
export const OPERATIONS = [
  "CreateTable",
  "DescribeTable",
  "ListTables",
  "UpdateTable",
  "DeleteTable",
  "GetItem",
  "PutItem",
  "UpdateItem",
  "DeleteItem",
  "Query",
  "Scan",
  "BatchGetItem",
  "BatchWriteItem",
] as const

/** One wire operation. */
export type Operation = (typeof OPERATIONS)[number]

/** The JSON 1.0 protocol's content type. */
export const CONTENT_TYPE = "application/x-amz-json-1.0"

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)

/** Base64 as DynamoDB takes it (standard alphabet, padded). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** A request whose JSON could not be read as the operation's shape (answered 400). */
export class WireShapeError extends Error {}

/** Which way a conversion goes: from the wire (base64 to bytes) or to it (bytes to base64). */
type Direction = "in" | "out"

const bytesOf = (s: string, at: string): Uint8Array => {
  if (!BASE64.test(s)) throw new WireShapeError(`${at}: binary values must be base64 text`)
  const b = Buffer.from(s, "base64")
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}
const textOf = (b: unknown): unknown => (b instanceof Uint8Array ? Buffer.from(b).toString("base64") : b)

/** One attribute value; anything that is not one is left for the operation's own checks. */
const value = (v: unknown, dir: Direction, at: string): unknown => {
  if (!isRecord(v)) return v
  if ("B" in v)
    return { ...v, B: dir === "in" ? (typeof v.B === "string" ? bytesOf(v.B, `${at}.B`) : v.B) : textOf(v.B) }
  if ("BS" in v && Array.isArray(v.BS))
    return {
      ...v,
      BS: v.BS.map((s, i) =>
        dir === "in" ? (typeof s === "string" ? bytesOf(s, `${at}.BS[${i}]`) : s) : textOf(s),
      ),
    }
  if ("M" in v && isRecord(v.M)) return { ...v, M: values(v.M, dir, `${at}.M`) }
  if ("L" in v && Array.isArray(v.L)) return { ...v, L: v.L.map((x, i) => value(x, dir, `${at}.L[${i}]`)) }
  return v
}

/** A map of attribute values (an item, a key, `ExpressionAttributeValues`). */
const values = (m: unknown, dir: Direction, at: string): unknown => {
  if (!isRecord(m)) return m
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(m)) out[k] = value(m[k], dir, `${at}.${k}`)
  return out
}

const itemList = (l: unknown, dir: Direction, at: string): unknown =>
  Array.isArray(l) ? l.map((x, i) => values(x, dir, `${at}[${i}]`)) : l

/** Fields holding one item or key map. */
const MAP_FIELDS = new Set([
  "Item",
  "Key",
  "Attributes",
  "LastEvaluatedKey",
  "ExclusiveStartKey",
  "ExpressionAttributeValues",
])
/** Fields holding a list of item or key maps. */
const LIST_FIELDS = new Set(["Items", "Keys"])
/** Fields holding a map from table name to batch requests or answers. */
const TABLE_FIELDS = new Set(["RequestItems", "Responses", "UnprocessedKeys", "UnprocessedItems"])

/**
 * Converts the binaries of a request or response body of any operation between wire JSON and the
 * client's values, by the fields DynamoDB's shapes keep attribute values in. Returns a copy where
 * something was converted; everything else is left for the operation's own validation.
 */
export const convertBody = (body: unknown, dir: Direction, at = "request"): unknown => {
  if (!isRecord(body)) return body
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(body)) {
    const v = body[k]
    const where = `${at}.${k}`
    if (MAP_FIELDS.has(k)) out[k] = values(v, dir, where)
    else if (LIST_FIELDS.has(k)) out[k] = itemList(v, dir, where)
    else if ((k === "PutRequest" || k === "DeleteRequest") && isRecord(v)) out[k] = convertBody(v, dir, where)
    else if (TABLE_FIELDS.has(k) && isRecord(v)) {
      const tables: Record<string, unknown> = {}
      for (const t of Object.keys(v)) {
        const per = v[t]
        const tw = `${where}.${t}`
        tables[t] = !Array.isArray(per)
          ? convertBody(per, dir, tw) // BatchGetItem's { Keys, ... }
          : k === "Responses"
            ? itemList(per, dir, tw) // BatchGetItem's items
            : per.map((x, i) => convertBody(x, dir, `${tw}[${i}]`)) // BatchWriteItem's writes
      }
      out[k] = tables
    } else out[k] = v
  }
  return out
}

/** A wire error body. */
export interface WireError {
  readonly __type: string
  readonly message: string
  /** ConditionalCheckFailedException with `ReturnValuesOnConditionCheckFailure = ALL_OLD`. */
  readonly Item?: unknown
}

/** The wire body of a DynamoDB error (binaries of a returned item as base64). */
export const wireErrorOf = (e: DynamoDBError): WireError => {
  const w = toWireError(e)
  return e._tag === "ConditionalCheckFailedException" && e.item !== undefined
    ? { ...w, Item: values(e.item, "out", "Item") }
    : w
}

/** A protocol-level error body that is not one of DynamoDB's data errors. */
export const coralError = (
  name: "SerializationException" | "UnknownOperationException" | "MissingAuthenticationTokenException",
  message: string,
): WireError => ({ __type: `com.amazon.coral.service#${name}`, message })

type ErrorClass = new (args: { message: string }) => DynamoDBError
const CLASSES: Record<string, ErrorClass> = {
  ValidationException,
  ConditionalCheckFailedException,
  ProvisionedThroughputExceededException,
  ThrottlingException,
  ResourceNotFoundException,
  ResourceInUseException,
  ItemCollectionSizeLimitExceededException,
  TransactionConflictException,
  RequestLimitExceeded,
  LimitExceededException,
  InternalServerError,
}

/**
 * The typed error of a wire error body: DynamoDB's class named by `__type` (after its `#`), with
 * the message. Protocol errors (a body the server could not read, an unknown operation) become a
 * `ValidationException` naming them; anything unreadable an `InternalServerError`.
 */
export const errorOfWire = (body: unknown, status: number): DynamoDBError => {
  const type = isRecord(body) && typeof body.__type === "string" ? body.__type : ""
  const name = type.slice(type.lastIndexOf("#") + 1)
  const raw = isRecord(body) ? (body.message ?? body.Message) : undefined
  const message = typeof raw === "string" ? raw : `HTTP ${status}`
  if (name === "ConditionalCheckFailedException" && isRecord(body) && body.Item !== undefined)
    return new ConditionalCheckFailedException({ message, item: values(body.Item, "in", "Item") })
  if (name === "TransactionCanceledException")
    return new TransactionCanceledException({ message, cancellationReasons: [] })
  const C = CLASSES[name]
  if (C !== undefined) return new C({ message })
  if (name !== "") return new ValidationException({ message: `${name}: ${message}` })
  return new InternalServerError({ message: `HTTP ${status} without a DynamoDB error body: ${message}` })
}
