/**
 * DynamoDB's operation shapes, as the client sends them and the router answers them.
 */
import type { ConsumedCapacity } from "@partita/admission"
import type { Item, KeyType } from "@partita/core"
import type {
  DeleteItemInput,
  GetItemInput,
  PutItemInput,
  QueryInput,
  ReturnValues,
  ScanInput,
  UpdateItemInput,
} from "@partita/expressions"
import type { TableInfo } from "./metadata.ts"

/** An attribute definition of CreateTable. */
export interface AttributeDefinition {
  readonly AttributeName: string
  readonly AttributeType: KeyType
}

/** A key schema element of CreateTable. */
export interface KeySchemaElement {
  readonly AttributeName: string
  readonly KeyType: "HASH" | "RANGE"
}

/** CreateTable request (`Partitions` is Partita's: the initial partition count). */
export interface CreateTableInput {
  readonly TableName: string
  readonly KeySchema: ReadonlyArray<KeySchemaElement>
  readonly AttributeDefinitions: ReadonlyArray<AttributeDefinition>
  readonly BillingMode?: "PROVISIONED" | "PAY_PER_REQUEST" | undefined
  readonly ProvisionedThroughput?:
    | { readonly ReadCapacityUnits: number; readonly WriteCapacityUnits: number }
    | undefined
  readonly Partitions?: number | undefined
  /**
   * On-demand: the throughput the table supports at once (DynamoDB's warm throughput), units/s;
   * its allowance starts there instead of at a new table's 12,000 reads / 4,000 writes.
   */
  readonly WarmThroughput?:
    | { readonly ReadUnitsPerSecond?: number | undefined; readonly WriteUnitsPerSecond?: number | undefined }
    | undefined
  /** On-demand: the most the table may use, units/s (DynamoDB's maximum on-demand throughput). */
  readonly OnDemandThroughput?:
    | {
        readonly MaxReadRequestUnits?: number | undefined
        readonly MaxWriteRequestUnits?: number | undefined
      }
    | undefined
}

/** DescribeTable's table description. */
export interface TableDescription {
  readonly TableName: string
  readonly TableStatus: "ACTIVE" | "UPDATING" | "DELETING"
  readonly KeySchema: ReadonlyArray<KeySchemaElement>
  readonly AttributeDefinitions: ReadonlyArray<AttributeDefinition>
  readonly BillingModeSummary: { readonly BillingMode: "PROVISIONED" | "PAY_PER_REQUEST" }
  readonly ProvisionedThroughput: { readonly ReadCapacityUnits: number; readonly WriteCapacityUnits: number }
  /** When the table was created, epoch seconds (on the simulation, its virtual seconds). */
  readonly CreationDateTime: number
  /** Partita: number of partitions. */
  readonly PartitionCount: number
}

/** Builds a description. */
export const tableDescription = (
  info: TableInfo,
  attributes: ReadonlyArray<AttributeDefinition>,
  partitions: number,
  created: number,
): TableDescription => ({
  TableName: info.name,
  TableStatus: "ACTIVE",
  KeySchema: [
    { AttributeName: info.keySchema.partitionKey.name, KeyType: "HASH" },
    ...(info.keySchema.sortKey === undefined
      ? []
      : [{ AttributeName: info.keySchema.sortKey.name, KeyType: "RANGE" as const }]),
  ],
  AttributeDefinitions: attributes,
  BillingModeSummary: { BillingMode: info.onDemand ? "PAY_PER_REQUEST" : "PROVISIONED" },
  ProvisionedThroughput: info.onDemand
    ? { ReadCapacityUnits: 0, WriteCapacityUnits: 0 }
    : { ReadCapacityUnits: info.provisioned.rcu, WriteCapacityUnits: info.provisioned.wcu },
  CreationDateTime: created,
  PartitionCount: partitions,
})

/** ReturnConsumedCapacity. */
export type ReturnConsumedCapacity = "INDEXES" | "TOTAL" | "NONE"

interface Common {
  readonly TableName: string
  readonly ReturnConsumedCapacity?: ReturnConsumedCapacity | undefined
}

/** GetItem request. */
export interface GetItemRequest extends Common, GetItemInput {
  readonly ConsistentRead?: boolean | undefined
}
/** GetItem response. */
export interface GetItemResponse {
  readonly Item?: Item | undefined
  readonly ConsumedCapacity?: ConsumedCapacity | undefined
}
/** PutItem request. */
export interface PutItemRequest extends Common, PutItemInput {}
/** DeleteItem request. */
export interface DeleteItemRequest extends Common, DeleteItemInput {}
/** UpdateItem request. */
export interface UpdateItemRequest extends Common, UpdateItemInput {
  readonly ReturnValues?: ReturnValues | undefined
}
/** PutItem / UpdateItem / DeleteItem response. */
export interface WriteItemResponse {
  readonly Attributes?: Item | undefined
  readonly ConsumedCapacity?: ConsumedCapacity | undefined
}
/** Query request. */
export interface QueryRequest extends Common, QueryInput {
  readonly ConsistentRead?: boolean | undefined
}
/** Scan request. */
export interface ScanRequest extends Common, ScanInput {
  readonly ConsistentRead?: boolean | undefined
}
/** Query / Scan response. */
export interface PageResponse {
  readonly Items: ReadonlyArray<Item>
  readonly Count: number
  readonly ScannedCount: number
  readonly LastEvaluatedKey?: Item | undefined
  readonly ConsumedCapacity?: ConsumedCapacity | undefined
}
/** BatchGetItem request. */
export interface BatchGetItemRequest {
  readonly RequestItems: {
    readonly [table: string]: {
      readonly Keys: ReadonlyArray<Item>
      readonly ConsistentRead?: boolean | undefined
      readonly ProjectionExpression?: string | undefined
      readonly ExpressionAttributeNames?: Record<string, string> | undefined
    }
  }
  readonly ReturnConsumedCapacity?: ReturnConsumedCapacity | undefined
}
/** BatchGetItem response. */
export interface BatchGetItemResponse {
  readonly Responses: { readonly [table: string]: ReadonlyArray<Item> }
  readonly UnprocessedKeys: BatchGetItemRequest["RequestItems"]
  readonly ConsumedCapacity?: ReadonlyArray<ConsumedCapacity> | undefined
}
/** One write of BatchWriteItem. */
export type WriteRequest =
  | { readonly PutRequest: { readonly Item: Item } }
  | { readonly DeleteRequest: { readonly Key: Item } }
/** BatchWriteItem request. */
export interface BatchWriteItemRequest {
  readonly RequestItems: { readonly [table: string]: ReadonlyArray<WriteRequest> }
  readonly ReturnConsumedCapacity?: ReturnConsumedCapacity | undefined
}
/** BatchWriteItem response. */
export interface BatchWriteItemResponse {
  readonly UnprocessedItems: { readonly [table: string]: ReadonlyArray<WriteRequest> }
  readonly ConsumedCapacity?: ReadonlyArray<ConsumedCapacity> | undefined
}
/** UpdateTable request (throughput only). */
export interface UpdateTableRequest {
  readonly TableName: string
  readonly ProvisionedThroughput: { readonly ReadCapacityUnits: number; readonly WriteCapacityUnits: number }
}

/** ListTables request: a page of table names in order. */
export interface ListTablesRequest {
  /** Names after this one. */
  readonly ExclusiveStartTableName?: string | undefined
  /** Names per page, 1 to 100 (default 100). */
  readonly Limit?: number | undefined
}
/** ListTables response; `LastEvaluatedTableName` is set when more names follow. */
export interface ListTablesResponse {
  readonly TableNames: string[]
  readonly LastEvaluatedTableName?: string | undefined
}

/** DynamoDB's batch limits. */
export const BATCH_GET_KEYS_MAX = 100
export const BATCH_WRITE_ITEMS_MAX = 25
