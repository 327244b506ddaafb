/**
 * DynamoDB's errors as typed values, named as DynamoDB names them.
 *
 * Each carries a `message` that says what was wrong, the HTTP `status` DynamoDB answers with, and a
 * `retryable` flag: `true` exactly for the errors the DynamoDB developer guide marks "OK to retry"
 * (the AWS SDKs retry the throttling ones and the 5xx ones on their own).
 */
import { Data } from "effect"

/** A request parameter, item or key was invalid (HTTP 400). Not retryable: the request must change. */
export class ValidationException extends Data.TaggedError("ValidationException")<{
  readonly message: string
}> {
  /** The AWS SDKs do not retry it. */
  readonly retryable = false
  /** HTTP status DynamoDB answers with. */
  readonly status = 400
}

/** A condition expression evaluated to false (HTTP 400). Carries the item when it was asked for. */
export class ConditionalCheckFailedException extends Data.TaggedError("ConditionalCheckFailedException")<{
  readonly message: string
  /** The item as it was, when `ReturnValuesOnConditionCheckFailure = ALL_OLD` was set. */
  readonly item?: unknown
}> {
  /** Retrying the same request fails the same way. */
  readonly retryable = false
  /** HTTP status DynamoDB answers with. */
  readonly status = 400
}

/**
 * The request rate is above the table's or partition's provisioned throughput (HTTP 400).
 * `reason` follows DynamoDB's ThrottlingReason format (e.g. "TableWriteKeyRangeThroughputExceeded")
 * and `resource` names the throttled table or index, when the thrower knows them.
 */
export class ProvisionedThroughputExceededException extends Data.TaggedError(
  "ProvisionedThroughputExceededException",
)<{ readonly message: string; readonly reason?: string; readonly resource?: string }> {
  /** The SDKs retry it with exponential backoff. */
  readonly retryable = true
  /** HTTP status DynamoDB answers with. */
  readonly status = 400
}

/**
 * The request rate is too high for the control plane or an on-demand table scaling up (HTTP 400).
 * `reason` and `resource` as for `ProvisionedThroughputExceededException`.
 */
export class ThrottlingException extends Data.TaggedError("ThrottlingException")<{
  readonly message: string
  readonly reason?: string
  readonly resource?: string
}> {
  /** The SDKs retry it with exponential backoff. */
  readonly retryable = true
  /** HTTP status DynamoDB answers with. */
  readonly status = 400
}

/** The table or index does not exist, or is not ACTIVE (HTTP 400). */
export class ResourceNotFoundException extends Data.TaggedError("ResourceNotFoundException")<{
  readonly message: string
}> {
  /** Not retryable without a change (create the table first). */
  readonly retryable = false
  /** HTTP status DynamoDB answers with. */
  readonly status = 400
}

/** The resource is being created, updated or deleted, or already exists (HTTP 400). */
export class ResourceInUseException extends Data.TaggedError("ResourceInUseException")<{
  readonly message: string
}> {
  /** Not retryable as is. */
  readonly retryable = false
  /** HTTP status DynamoDB answers with. */
  readonly status = 400
}

/** An item collection (items of one partition key in a table with LSIs) would exceed 10 GB (HTTP 400). */
export class ItemCollectionSizeLimitExceededException extends Data.TaggedError(
  "ItemCollectionSizeLimitExceededException",
)<{ readonly message: string }> {
  /** The developer guide marks it OK to retry (after deleting items). */
  readonly retryable = true
  /** HTTP status DynamoDB answers with. */
  readonly status = 400
}

/** The item is part of another ongoing transaction (HTTP 400). */
export class TransactionConflictException extends Data.TaggedError("TransactionConflictException")<{
  readonly message: string
}> {
  /** The developer guide marks it OK to retry. */
  readonly retryable = true
  /** HTTP status DynamoDB answers with. */
  readonly status = 400
}

/** One reason in a canceled transaction, in the order of the transaction's actions. */
export interface CancellationReason {
  /** `None`, `ConditionalCheckFailed`, `ItemCollectionSizeLimitExceeded`, `TransactionConflict`, `ProvisionedThroughputExceeded`, `ThrottlingError`, `ValidationError`. */
  readonly code: string
  /** What went wrong for this action, or undefined when `code` is `None`. */
  readonly message?: string
  /** The item, when the action asked for it on a failed condition. */
  readonly item?: unknown
}

/** A TransactWriteItems / TransactGetItems request was canceled as a whole (HTTP 400). */
export class TransactionCanceledException extends Data.TaggedError("TransactionCanceledException")<{
  readonly message: string
  /** One reason per action of the request. */
  readonly cancellationReasons: ReadonlyArray<CancellationReason>
}> {
  /** The SDKs do not retry it; the caller inspects the reasons. */
  readonly retryable = false
  /** HTTP status DynamoDB answers with. */
  readonly status = 400
}

/** The account's throughput limit was exceeded (HTTP 400). */
export class RequestLimitExceeded extends Data.TaggedError("RequestLimitExceeded")<{
  readonly message: string
}> {
  /** The SDKs retry it with exponential backoff. */
  readonly retryable = true
  /** HTTP status DynamoDB answers with. */
  readonly status = 400
}

/** Too many concurrent control-plane operations, or another account/table limit was hit (HTTP 400). */
export class LimitExceededException extends Data.TaggedError("LimitExceededException")<{
  readonly message: string
}> {
  /** The SDKs treat it as throttling and retry it. */
  readonly retryable = true
  /** HTTP status DynamoDB answers with. */
  readonly status = 400
}

/** The service failed while handling the request (HTTP 500). */
export class InternalServerError extends Data.TaggedError("InternalServerError")<{
  readonly message: string
}> {
  /** 5xx errors are retried by the SDKs. */
  readonly retryable = true
  /** HTTP status DynamoDB answers with. */
  readonly status = 500
}

/** Any error DynamoDB answers a data-plane or control-plane request with. */
export type DynamoDBError =
  | ValidationException
  | ConditionalCheckFailedException
  | ProvisionedThroughputExceededException
  | ThrottlingException
  | ResourceNotFoundException
  | ResourceInUseException
  | ItemCollectionSizeLimitExceededException
  | TransactionConflictException
  | TransactionCanceledException
  | RequestLimitExceeded
  | LimitExceededException
  | InternalServerError

/** The `_tag` of every {@link DynamoDBError}, e.g. to map a wire `__type` back to a class. */
export const DynamoDBErrorTags = [
  "ValidationException",
  "ConditionalCheckFailedException",
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "ResourceNotFoundException",
  "ResourceInUseException",
  "ItemCollectionSizeLimitExceededException",
  "TransactionConflictException",
  "TransactionCanceledException",
  "RequestLimitExceeded",
  "LimitExceededException",
  "InternalServerError",
] as const satisfies ReadonlyArray<DynamoDBError["_tag"]>

/** True when `u` is one of the {@link DynamoDBError} classes. */
export const isDynamoDBError = (u: unknown): u is DynamoDBError =>
  typeof u === "object" &&
  u !== null &&
  "_tag" in u &&
  (DynamoDBErrorTags as ReadonlyArray<unknown>).includes((u as { _tag: unknown })._tag)

/** The JSON body DynamoDB sends with an error: `{ __type: "com.amazonaws.dynamodb.v20120810#Name", message }`. */
export const toWireError = (e: DynamoDBError): { readonly __type: string; readonly message: string } => ({
  __type:
    e._tag === "ValidationException"
      ? "com.amazon.coral.validate#ValidationException"
      : `com.amazonaws.dynamodb.v20120810#${e._tag}`,
  message: e.message,
})
