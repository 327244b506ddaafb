import { MILLI_PER_UNIT, READ_UNIT_BYTES, WRITE_UNIT_BYTES } from "./constants.ts"

/** How a read is served; decides its price per 4 KB. */
export type ReadMode = "eventual" | "strong" | "transactional"

/** Milli-units per 4 KB block for each read mode: ½, 1 and 2 RCU. */
const READ_MILLI_PER_BLOCK: Record<ReadMode, number> = {
  eventual: MILLI_PER_UNIT / 2,
  strong: MILLI_PER_UNIT,
  transactional: 2 * MILLI_PER_UNIT,
}

function blocks(bytes: number, blockBytes: number): number {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`size ${bytes} must be a byte count`)
  // Even an empty or missing item costs one block: DynamoDB charges the minimum for every read and write.
  return bytes === 0 ? 1 : Math.ceil(bytes / blockBytes)
}

/** Milli-RCU for reading `bytes` (one item, or the total of a Query/Scan page): 4 KB blocks, rounded up. */
export function readCostMilli(bytes: number, mode: ReadMode): number {
  return blocks(bytes, READ_UNIT_BYTES) * READ_MILLI_PER_BLOCK[mode]
}

/** Milli-WCU for writing an item of `bytes` (the larger of old and new image): 1 KB blocks, rounded up. */
export function writeCostMilli(bytes: number, transactional = false): number {
  return blocks(bytes, WRITE_UNIT_BYTES) * (transactional ? 2 : 1) * MILLI_PER_UNIT
}

/** Milli-RCU of a Query or Scan: charged on the total size read, not per item. */
export function queryCostMilli(
  itemBytes: ReadonlyArray<number>,
  mode: Exclude<ReadMode, "transactional">,
): number {
  let total = 0
  for (const b of itemBytes) total += b
  return readCostMilli(total, mode)
}

/** Milli-RCU of a BatchGetItem or TransactGetItems: each item rounded up on its own. */
export function batchGetCostMilli(itemBytes: ReadonlyArray<number>, mode: ReadMode): number {
  let total = 0
  for (const b of itemBytes) total += readCostMilli(b, mode)
  return total
}

/** Milli-WCU of a BatchWriteItem or TransactWriteItems: each item rounded up on its own. */
export function batchWriteCostMilli(itemBytes: ReadonlyArray<number>, transactional = false): number {
  let total = 0
  for (const b of itemBytes) total += writeCostMilli(b, transactional)
  return total
}

/** One data-plane request, described by what it read or wrote (sizes in bytes). */
export type CapacityRequest =
  | { readonly op: "GetItem"; readonly bytes: number; readonly mode: ReadMode }
  | { readonly op: "PutItem" | "UpdateItem" | "DeleteItem"; readonly bytes: number }
  | {
      readonly op: "Query" | "Scan"
      readonly itemBytes: ReadonlyArray<number>
      readonly mode: "eventual" | "strong"
    }
  | {
      readonly op: "BatchGetItem"
      readonly itemBytes: ReadonlyArray<number>
      readonly mode: "eventual" | "strong"
    }
  | { readonly op: "BatchWriteItem"; readonly itemBytes: ReadonlyArray<number> }
  | { readonly op: "TransactGetItems"; readonly itemBytes: ReadonlyArray<number> }
  | { readonly op: "TransactWriteItems"; readonly itemBytes: ReadonlyArray<number> }

/** The capacity one request consumes, as DynamoDB charges it. */
export function consumedCapacity(tableName: string, r: CapacityRequest): ConsumedCapacityMilli {
  switch (r.op) {
    case "GetItem":
      return { tableName, readMilli: readCostMilli(r.bytes, r.mode), writeMilli: 0 }
    case "PutItem":
    case "UpdateItem":
    case "DeleteItem":
      return { tableName, readMilli: 0, writeMilli: writeCostMilli(r.bytes) }
    case "Query":
    case "Scan":
      return { tableName, readMilli: queryCostMilli(r.itemBytes, r.mode), writeMilli: 0 }
    case "BatchGetItem":
      return { tableName, readMilli: batchGetCostMilli(r.itemBytes, r.mode), writeMilli: 0 }
    case "BatchWriteItem":
      return { tableName, readMilli: 0, writeMilli: batchWriteCostMilli(r.itemBytes) }
    case "TransactGetItems":
      return { tableName, readMilli: batchGetCostMilli(r.itemBytes, "transactional"), writeMilli: 0 }
    case "TransactWriteItems":
      return { tableName, readMilli: 0, writeMilli: batchWriteCostMilli(r.itemBytes, true) }
  }
}

/** Capacity consumed by one request, in exact milli-units. */
export interface ConsumedCapacityMilli {
  readonly tableName: string
  readonly readMilli: number
  readonly writeMilli: number
}

/** DynamoDB's `ConsumedCapacity` shape (units as numbers; exact because they are multiples of 1/1000 ≥ 0.5). */
export interface ConsumedCapacity {
  readonly TableName: string
  readonly CapacityUnits: number
  readonly ReadCapacityUnits?: number
  readonly WriteCapacityUnits?: number
}

/** Renders exact milli-units as DynamoDB's `ConsumedCapacity` for a response. */
export function toConsumedCapacity(c: ConsumedCapacityMilli): ConsumedCapacity {
  const out: {
    TableName: string
    CapacityUnits: number
    ReadCapacityUnits?: number
    WriteCapacityUnits?: number
  } = { TableName: c.tableName, CapacityUnits: (c.readMilli + c.writeMilli) / MILLI_PER_UNIT }
  if (c.readMilli > 0) out.ReadCapacityUnits = c.readMilli / MILLI_PER_UNIT
  if (c.writeMilli > 0) out.WriteCapacityUnits = c.writeMilli / MILLI_PER_UNIT
  return out
}
