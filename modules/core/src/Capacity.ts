/**
 * Capacity units as DynamoDB charges them (developer guide, "Read/write capacity mode"):
 * one read unit covers a strongly consistent read of up to 4 KB, one write unit a write of up to 1 KB;
 * sizes round up to the next unit; an eventually consistent read costs half, a transactional read or
 * write twice. Every request costs at least one unit's worth (a read of a missing item still costs).
 */

/** Bytes covered by one read capacity unit (4 KB). */
export const READ_UNIT_BYTES = 4096
/** Bytes covered by one write capacity unit (1 KB). */
export const WRITE_UNIT_BYTES = 1024

/** How a read is served: strongly consistent, eventually consistent, or in a transaction. */
export type ReadConsistency = "strong" | "eventual" | "transactional"

/**
 * Read capacity units for reading `sizeBytes` (one item for GetItem and for each BatchGetItem item; the
 * summed size of all items read for Query and Scan).
 */
export const readCapacityUnits = (sizeBytes: number, consistency: ReadConsistency): number => {
  const units = Math.max(1, Math.ceil(sizeBytes / READ_UNIT_BYTES))
  return consistency === "eventual" ? units / 2 : consistency === "transactional" ? units * 2 : units
}

/** Write capacity units for writing an item of `sizeBytes` (the larger of the old and new item for updates). */
export const writeCapacityUnits = (sizeBytes: number, transactional = false): number => {
  const units = Math.max(1, Math.ceil(sizeBytes / WRITE_UNIT_BYTES))
  return transactional ? units * 2 : units
}
