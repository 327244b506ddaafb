import { ProvisionedThroughputExceededException, ThrottlingException } from "@partita/core"

/**
 * DynamoDB's throttling errors are @partita/core's classes (one definition for every module),
 * re-exported here: `ProvisionedThroughputExceededException` for a throttled request on a
 * provisioned table (and for key-range throttling in either mode), `ThrottlingException` where an
 * on-demand table's allowance is exceeded. Both carry `reason` in DynamoDB's ThrottlingReason
 * format (e.g. "TableReadProvisionedThroughputExceeded") and `resource` (the table).
 */
export { ProvisionedThroughputExceededException, ThrottlingException }

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
