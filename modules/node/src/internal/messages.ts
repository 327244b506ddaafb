/**
 * Every message exchanged inside a cluster. Plain data: in the simulation they travel through the
 * sim network, in real time through the in-process transport.
 */
import type { GacGrant, GacReport } from "@partita/admission"
import type { Item } from "@partita/core"
import type {
  DeleteItemInput,
  GetItemInput,
  PutItemInput,
  QueryInput,
  ScanInput,
  UpdateItemInput,
} from "@partita/expressions"
import type { FleetMsg, RouteRange } from "@partita/memds"
import type { Boundary } from "@partita/partitioner"
import type { Message } from "@partita/paxos"

/** A data-plane request from a router to the storage node hosting a replica. */
export type DataRequest =
  | { readonly op: "get"; readonly input: GetItemInput; readonly consistent: boolean }
  | { readonly op: "put"; readonly input: PutItemInput; readonly requestId: string }
  | { readonly op: "update"; readonly input: UpdateItemInput; readonly requestId: string }
  | { readonly op: "delete"; readonly input: DeleteItemInput; readonly requestId: string }
  | {
      readonly op: "query"
      readonly input: QueryInput
      readonly consistent: boolean
      /** Bytes the page may still read (a page continued from another partition). */
      readonly pageBytes?: number | undefined
    }
  | {
      readonly op: "scan"
      readonly input: ScanInput
      readonly consistent: boolean
      readonly pageBytes?: number | undefined
    }

/** Where a request is addressed: the table, the partition and the epoch the router believes in. */
export interface RequestHeader {
  readonly table: string
  readonly partitionId: string
  readonly epoch: number
  /** Query: the position of the partition key the router routed by (the node checks its range). */
  readonly position?: { readonly hash: string; readonly sortKey?: string | undefined } | undefined
}

/** The successful outcome of a data request. */
export interface DataOk {
  readonly ok: true
  /** GetItem: the item; writes: ReturnValues attributes. */
  readonly item?: Item | undefined
  /** Query/Scan page. */
  readonly items?: ReadonlyArray<Item> | undefined
  readonly count?: number | undefined
  readonly scannedCount?: number | undefined
  readonly lastEvaluatedKey?: Item | undefined
  /** Query: the range of the partition that answered (a router walks a split item collection). */
  readonly partition?: { readonly start: Boundary; readonly end?: Boundary | undefined } | undefined
  /** Bytes read or written (what capacity is charged on). */
  readonly consumedBytes: number
  /** Items sizes read (BatchGet rounds each). */
  readonly node: string
}

/** Why a storage node refused or failed a request. */
export type DataErrorKind =
  /** This replica is not the leader; `leaderNode` is the node it believes leads. */
  | "NotLeader"
  /** The router's epoch is not this partition's (split happened, or unknown partition). */
  | "StaleEpoch"
  /** The replica cannot serve now (no lease yet, catching up, retired); retry later. */
  | "Unavailable"
  /** The partition's token bucket refused the request. */
  | "PartitionThrottled"
  | "ConditionalCheckFailed"
  | "Validation"

/** A refused or failed data request. */
export interface DataError {
  readonly ok: false
  readonly kind: DataErrorKind
  readonly message?: string | undefined
  readonly leaderNode?: string | undefined
  /** On StaleEpoch: the key is outside the partition (a split the router has not seen). */
  readonly outOfRange?: boolean | undefined
  /** On StaleEpoch: the newer routing the node knows (the router installs it). */
  readonly newer?: RouteRange | undefined
  /** ConditionalCheckFailed: the item (for ReturnValuesOnConditionCheckFailure). */
  readonly item?: Item | undefined
}

/** A data-plane response. */
export type DataResponse = DataOk | DataError

/** All cluster messages. */
export type NodeMsg =
  /** Paxos traffic of one partition's replication group between storage nodes. */
  /** A Paxos message; `s`: the sending node's spare write capacity, milli-units (burst checks). */
  | { readonly t: "px"; readonly p: string; readonly m: Message; readonly s?: number }
  | { readonly t: "req"; readonly rid: number; readonly h: RequestHeader; readonly req: DataRequest }
  | { readonly t: "res"; readonly rid: number; readonly res: DataResponse }
  | { readonly t: "memds"; readonly m: FleetMsg }
  | { readonly t: "gac-report"; readonly r: GacReport }
  | { readonly t: "gac-grant"; readonly g: GacGrant }
  /** Metadata service liveness probe and its answer (with the partitions the node hosts). */
  | { readonly t: "ping"; readonly n: number }
  | { readonly t: "pong"; readonly n: number; readonly hosted: ReadonlyArray<string> }
