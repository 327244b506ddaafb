import { Data } from "effect"

/**
 * DynamoDB's error for a throttled request on a provisioned table (and for key-range throttling
 * in either mode). `reason` follows DynamoDB's ThrottlingReason format, e.g.
 * "TableReadProvisionedThroughputExceeded" or "TableWriteKeyRangeThroughputExceeded".
 *
 * Defined locally with the same `_tag` as @partita/core's class, so `catchTag` works across both.
 */
export class ProvisionedThroughputExceededException extends Data.TaggedError(
  "ProvisionedThroughputExceededException",
)<{ readonly message: string; readonly reason: string; readonly resource: string }> {
  /** The SDKs retry it with exponential backoff. */
  readonly retryable = true
  /** HTTP status DynamoDB answers with. */
  readonly status = 400
}

/** DynamoDB's error where it throttles without a provisioned rate (on-demand table allowance). */
export class ThrottlingException extends Data.TaggedError("ThrottlingException")<{
  readonly message: string
  readonly reason: string
  readonly resource: string
}> {
  /** The SDKs retry it with exponential backoff. */
  readonly retryable = true
  /** HTTP status DynamoDB answers with. */
  readonly status = 400
}

/**
 * Maps a throttle decision (a plain result code from the hot path) to DynamoDB's error, at the
 * service boundary. Table-level throttles of on-demand tables become ThrottlingException; the rest
 * are ProvisionedThroughputExceededException with a DynamoDB-style reason.
 */
export function throttleError(
  decision: number,
  table: string,
  kind: "read" | "write",
  onDemand: boolean,
): ProvisionedThroughputExceededException | ThrottlingException {
  const op = kind === "read" ? "Read" : "Write"
  // 2 = table-level (see THROTTLED_TABLE); everything else is a key-range (partition or node) throttle.
  if (decision === 2 && onDemand)
    return new ThrottlingException({
      message: "Throughput exceeds the current throughput limit for the table.",
      reason: `Table${op}OnDemandThroughputExceeded`,
      resource: table,
    })
  if (decision === 2)
    return new ProvisionedThroughputExceededException({
      message: "The level of configured provisioned throughput for the table was exceeded.",
      reason: `Table${op}ProvisionedThroughputExceeded`,
      resource: table,
    })
  return new ProvisionedThroughputExceededException({
    message: "Throughput exceeds the current capacity of your table or index partition.",
    reason: `Table${op}KeyRangeThroughputExceeded`,
    resource: table,
  })
}
