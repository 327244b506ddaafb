/**
 * The request router: validates a request, computes its capacity, finds the partition through the
 * constant-work routing cache (`@partita/memds`: every request also asks MemDS, hit or miss),
 * admits it through its GAC-fed local buckets (`@partita/admission`), sends strong reads and
 * writes to the leader and eventual reads to any replica (same AZ first), and retries on leader
 * change, stale epoch or silence with bounded, jittered backoff under an overall deadline.
 * Callback style, plain TypeScript (the client wraps it in Promises and Effects).
 */
import {
  type ConsumedCapacity,
  GacRing,
  readCostMilli,
  RouterAdmissionCore,
  toConsumedCapacity,
  writeCostMilli,
} from "@partita/admission"
import { pageBytesMax } from "@partita/expressions"
import {
  type AttributeValue,
  type DynamoDBError,
  encodeKeyValue,
  IdRing,
  InternalServerError,
  type Item,
  ProvisionedThroughputExceededException,
  ResourceNotFoundException,
  ValidationException,
  ConditionalCheckFailedException,
} from "@partita/core"
import {
  type CacheOutput,
  type FleetMsg,
  type RouteRange,
  RoutingCacheCore,
  routingKey,
  routingKeyFromPrefix,
  tablePrefix,
} from "@partita/memds"
import {
  type Boundary,
  compareBoundary,
  hashKeyInto,
  type Partition,
  type PartitionMap,
  positionMin,
  wordsToHex,
} from "@partita/partitioner"
import { hexToHash, wordsToHash } from "./directory.ts"
import type { DataOk, DataRequest, DataResponse, NodeMsg } from "./messages.ts"
import type { TableInfo } from "./metadata.ts"
import type {
  GetItemRequest,
  GetItemResponse,
  DeleteItemRequest,
  PageResponse,
  PutItemRequest,
  QueryRequest,
  ReturnConsumedCapacity,
  ScanRequest,
  UpdateItemRequest,
  WriteItemResponse,
} from "./model.ts"
import { Metrics } from "./metrics.ts"
import { adjacent, aboveRange, afterStartKey, belowRange, positionIn, queryKeyRange } from "./queryPlan.ts"
import type { Runtime } from "./runtime.ts"

/** Overall deadline of one request, ms. */
export const REQUEST_DEADLINE_MS_DEFAULT = 10_000
/** One attempt at a storage node is abandoned after this long, ms. */
export const ATTEMPT_TIMEOUT_MS_DEFAULT = 600
/** Backoff: base and cap, ms (full jitter in [cap/2, cap] of the exponential step). */
export const BACKOFF_BASE_MS = 5
export const BACKOFF_CAP_MS = 400
/** Attempts per request at most. */
export const ATTEMPTS_MAX = 64
/** Partitions one Query request visits at most (an item collection split that many times). */
export const QUERY_VISITS_MAX = 1024
/** A Query's visits answered by a partition not adjoining the previous one, at most. */
export const QUERY_STALE_VISITS_MAX = 32
/** Routing cache and admission tick, ms. */
export const ROUTER_TICK_MS = 20

/** A router's outcome. */
export type Result<A> =
  | { readonly ok: true; readonly value: A }
  | { readonly ok: false; readonly error: DynamoDBError }

/** Callback of a routed request. */
export type Callback<A> = (r: Result<A>) => void

/** Options of a router. */
export interface RouterOptions {
  readonly id: string
  /**
   * Part of every request id this router makes (`<id>~<incarnation>:<sequence>`), so that a
   * router started again (a new process on the same data) never repeats an id its predecessor
   * used: replicas remember ids to apply a retried write once, and would take a new write with
   * an old id for a retry. None: `<id>:<sequence>` (the simulation's routers live as long as it).
   */
  readonly incarnation?: string
  readonly az: string
  readonly memdsNodes: ReadonlyArray<string>
  readonly gacServers: ReadonlyArray<string>
  readonly cacheMode?: "constant-work" | "conventional"
  readonly deadlineMs?: number
  readonly attemptTimeoutMs?: number
  /** Disable router admission (every request admitted): for experiments. */
  readonly admission?: boolean
  /** Routers in the fleet (each starts at provisioned / routers until GAC answers). */
  readonly routersHint?: number
  /** Test canary: strongly consistent GetItem served by any replica (a deliberate bug). */
  readonly canaryStrongReadsAnywhere?: boolean
}

interface Ctx {
  readonly info: TableInfo
  readonly key: Uint8Array
  req: DataRequest
  readonly strong: boolean
  readonly deadline: number
  attempt: number
  staleEpoch: number
  /** Query: the routed position (partition key hash, sort key), checked by the node. */
  position?: Boundary | undefined
  readonly done: (
    r: DataResponse | { ok: false; kind: "Deadline" } | { ok: false; kind: "NoRoute" },
    range?: RouteRange,
  ) => void
  range?: RouteRange
  /** The attempt in flight: when it was sent, and to which node. */
  sentAt: number
  sentTo: string
}

const fail = <A>(error: DynamoDBError): Result<A> => ({ ok: false, error })

/**
 * What a router reads about tables: the metadata service (`MetadataService` satisfies it), or
 * any copy of its tables a custom composition keeps (see `buildRouters`).
 */
export interface TableCatalog {
  tableInfo(name: string): TableInfo | undefined
  partitionMap(name: string): PartitionMap | undefined
}

/** A request router. */
export class RequestRouter {
  readonly id: string
  readonly az: string
  readonly cache: RoutingCacheCore
  readonly admission: RouterAdmissionCore
  readonly metrics: Metrics
  // Requests waiting for a route, and attempts waiting for an answer, by id. Rings, not Maps: see
  // `IdRing` (a Map set and deleted per request made every young collection mark finished ones).
  private readonly routeWaiters = new IdRing<Ctx>()
  private readonly inflight = new IdRing<Ctx>()
  /**
   * Where this router now sends a partition's leader requests instead of the routing entry's
   * leader hint, learned from `NotLeader` answers and silence. It is kept only while the entry's
   * hint is the one it corrected: a newer published leader replaces it.
   */
  private readonly leaderOverride = new Map<string, LeaderOverride>()
  private nextCacheReq = 1
  private nextRid = 1
  private nextWriteId = 1
  /** Request ids' prefix (see `RouterOptions.incarnation`). */
  private readonly idPrefix: string
  private readonly words = new Uint32Array(4)
  private readonly hashBytes = new Uint8Array(16)
  readonly counters = { requests: 0, retries: 0, deadlines: 0, throttledTable: 0, throttledPartition: 0 }

  constructor(
    readonly runtime: Runtime,
    readonly meta: TableCatalog,
    readonly options: RouterOptions,
  ) {
    this.id = options.id
    this.az = options.az
    const inc = options.incarnation
    if (inc !== undefined && !/^[0-9A-Za-z._-]{1,32}$/.test(inc))
      throw new Error(`router incarnation must be 1 to 32 of [0-9A-Za-z._-] (got ${JSON.stringify(inc)})`)
    this.idPrefix = inc === undefined ? options.id : `${options.id}~${inc}`
    this.metrics = new Metrics()
    this.cache = new RoutingCacheCore({
      mode: options.cacheMode ?? "constant-work",
      memdsNodes: options.memdsNodes,
    })
    this.admission = new RouterAdmissionCore(options.id, new GacRing(options.gacServers))
    runtime.transport.register(this.id, this.az, (m, from) => this.onMessage(m, from))
    const loop = (): void => {
      const now = runtime.now()
      this.sweep(now)
      this.cacheOut(this.cache.tick(now))
      for (const o of this.admission.tick(now))
        runtime.transport.send(this.id, o.to, { t: "gac-report", r: o.report })
      runtime.schedule(ROUTER_TICK_MS, loop)
    }
    runtime.schedule(ROUTER_TICK_MS, loop)
  }

  // ------------------------------------------------------------------------------------------
  // Operations

  /** GetItem. */
  getItem(input: GetItemRequest, cb: Callback<GetItemResponse>): void {
    const info = this.table(input.TableName, cb)
    if (info === undefined) return
    const key = this.keyOf(info, input.Key, cb)
    if (key === undefined) return
    // The canary serves "strong" reads from any replica: the linearizability checks must catch it.
    const strong = input.ConsistentRead === true && this.options.canaryStrongReadsAnywhere !== true
    const mode = input.ConsistentRead === true ? "strong" : "eventual"
    // One clock read serves admission, the deadline, the cache and the latency start.
    const t0 = this.runtime.now()
    if (!this.admit(info, "r", readCostMilli(0, mode), cb, t0)) return
    this.run(
      info,
      key,
      {
        op: "get",
        input: {
          Key: input.Key,
          ProjectionExpression: input.ProjectionExpression,
          ExpressionAttributeNames: input.ExpressionAttributeNames,
        },
        consistent: strong,
      },
      strong,
      (r) => {
        // `finish` without its closure (one fewer function per request on the hot path).
        const now = this.runtime.now()
        this.metrics.request(info.name, "GetItem", now - t0, r.ok)
        if (!r.ok) {
          cb(this.failure(info, r))
          return
        }
        const milli = readCostMilli(r.consumedBytes, mode)
        this.charge(info, "r", milli, now)
        cb({
          ok: true,
          value: {
            Item: r.item,
            ConsumedCapacity: consumed(input.ReturnConsumedCapacity, info.name, milli, 0),
          },
        })
      },
      undefined,
      t0,
    )
  }

  /** PutItem. */
  putItem(input: PutItemRequest, cb: Callback<WriteItemResponse>): void {
    const info = this.table(input.TableName, cb)
    if (info === undefined) return
    const key = this.keyOf(info, input.Item, cb)
    if (key === undefined) return
    const { TableName: _t, ReturnConsumedCapacity: _r, ...rest } = input
    this.write(
      info,
      key,
      { op: "put", input: rest, requestId: this.writeId() },
      "PutItem",
      input.ReturnConsumedCapacity,
      cb,
    )
  }

  /** UpdateItem. */
  updateItem(input: UpdateItemRequest, cb: Callback<WriteItemResponse>): void {
    const info = this.table(input.TableName, cb)
    if (info === undefined) return
    const key = this.keyOf(info, input.Key, cb)
    if (key === undefined) return
    const { TableName: _t, ReturnConsumedCapacity: _r, ...rest } = input
    this.write(
      info,
      key,
      { op: "update", input: rest, requestId: this.writeId() },
      "UpdateItem",
      input.ReturnConsumedCapacity,
      cb,
    )
  }

  /** DeleteItem. */
  deleteItem(input: DeleteItemRequest, cb: Callback<WriteItemResponse>): void {
    const info = this.table(input.TableName, cb)
    if (info === undefined) return
    const key = this.keyOf(info, input.Key, cb)
    if (key === undefined) return
    const { TableName: _t, ReturnConsumedCapacity: _r, ...rest } = input
    this.write(
      info,
      key,
      { op: "delete", input: rest, requestId: this.writeId() },
      "DeleteItem",
      input.ReturnConsumedCapacity,
      cb,
    )
  }

  private write(
    info: TableInfo,
    key: Uint8Array,
    req: DataRequest,
    op: string,
    rcc: ReturnConsumedCapacity | undefined,
    cb: Callback<WriteItemResponse>,
  ): void {
    const t0 = this.runtime.now()
    if (!this.admit(info, "w", writeCostMilli(0), cb, t0)) return
    this.run(
      info,
      key,
      req,
      true,
      (r) => {
        const now = this.runtime.now()
        this.metrics.request(info.name, op, now - t0, r.ok)
        if (!r.ok) {
          cb(this.failure(info, r))
          return
        }
        const milli = writeCostMilli(r.consumedBytes)
        this.charge(info, "w", milli, now)
        cb({ ok: true, value: { Attributes: r.item, ConsumedCapacity: consumed(rcc, info.name, 0, milli) } })
      },
      undefined,
      t0,
    )
  }

  /**
   * Query: every partition the key condition touches, in key order (reverse for
   * `ScanIndexForward: false`). An item collection split by sort key spans several partitions:
   * the first is found with the partition map's `routeRange`, the next from the range the
   * answering node reports (its end going forward; going backward, the map's partition before its
   * start), and each must adjoin the one before (a lagging replica of a split parent, or a stale
   * map, is asked again after a backoff). `Limit` and the pages' `LastEvaluatedKey` run across
   * the partitions; capacity is charged once on the bytes read from all of them.
   */
  query(input: QueryRequest, cb: Callback<PageResponse>): void {
    const info = this.table(input.TableName, cb)
    if (info === undefined) return
    const ks = info.keySchema
    const parsed = queryKeyRange(input, ks)
    if (parsed === undefined) {
      cb(
        fail(
          new ValidationException({
            message: "Query condition missed key schema element: " + ks.partitionKey.name,
          }),
        ),
      )
      return
    }
    const words = new Uint32Array(4)
    try {
      // Outside input: the value may be anything (a number or { NULL } threw while hashing it).
      if (!isKeyScalar(parsed.partitionKey, ks.partitionKey.type))
        throw new Error(`not ${ks.partitionKey.type}`)
      hashKeyInto(info.hash, parsed.partitionKey, words, 0)
    } catch (e) {
      cb(
        fail(
          new ValidationException({
            message: `One or more parameter values were invalid: Condition parameter type does not match schema type (partition key ${ks.partitionKey.name} is ${ks.partitionKey.type}): ${e instanceof Error ? e.message : String(e)}`,
          }),
        ),
      )
      return
    }
    const strong = input.ConsistentRead === true
    const mode = strong ? "strong" : "eventual"
    if (!this.admit(info, "r", readCostMilli(0, mode), cb)) return
    const forward = input.ScanIndexForward !== false
    const range = afterStartKey(parsed, input.ExclusiveStartKey, ks, forward)
    const hash = wordsToHex(words)
    const hashBytes = wordsToHash(words)
    const { TableName: _t, ReturnConsumedCapacity: _r, ConsistentRead: _c, ...rest } = input
    const t0 = this.runtime.now()
    const items: Item[] = []
    let count = 0
    let scanned = 0
    let bytes = 0
    let visits = 0
    let stale = 0
    const answer = (last: DataOk, lek: Item | undefined): void =>
      cb(
        this.finish(info, "Query", t0, last, () => {
          const milli = readCostMilli(bytes, mode)
          this.charge(info, "r", milli)
          return {
            Items: items,
            Count: count,
            ScannedCount: scanned,
            LastEvaluatedKey: lek,
            ConsumedCapacity: consumed(input.ReturnConsumedCapacity, info.name, milli, 0),
          }
        }),
      )
    const failWith = (r: Parameters<Ctx["done"]>[0]): void =>
      cb(this.finish(info, "Query", t0, r, () => ({ Items: [], Count: 0, ScannedCount: 0 })))
    const parts = (): ReadonlyArray<Partition> =>
      this.meta.partitionMap(info.name)?.routeRange(range.partitionKey, {
        from: range.from,
        to: range.prefix === undefined ? range.to : undefined,
      }) ?? []
    /** The position of the partition before `edge` in the map (going backward). */
    const before = (edge: Boundary): Boundary | undefined => {
      const list = parts()
      for (let i = list.length - 1; i >= 0; i--)
        if (compareBoundary(list[i]!.start, edge) < 0) return positionIn(list[i]!, hash)
      return undefined
    }
    const visit = (pos: Boundary, edge: Boundary | undefined): void => {
      visits++
      const limit = input.Limit === undefined ? undefined : input.Limit - scanned
      // One page reads at most 1 MB across all the partitions it visits.
      const req: DataRequest = {
        op: "query",
        input: { ...rest, Limit: limit },
        consistent: strong,
        pageBytes: pageBytesMax - bytes,
      }
      const key = routingKey(info.name, hashBytes, pos.sortKey)
      this.run(
        info,
        key,
        req,
        strong,
        (r) => {
          if (!r.ok) return failWith(r)
          const part = r.partition
          if (part !== undefined && edge !== undefined && !adjacent(edge, part, forward)) {
            // Not the partition next to the last one: a replica of another generation answered.
            if (++stale > QUERY_STALE_VISITS_MAX) return failWith({ ok: false, kind: "Deadline" })
            const again = forward ? pos : before(edge)
            this.runtime.schedule(this.backoff(stale), () =>
              again === undefined ? failWith({ ok: false, kind: "NoRoute" }) : visit(again, edge),
            )
            return
          }
          items.push(...(r.items ?? []))
          count += r.count ?? 0
          scanned += r.scannedCount ?? 0
          bytes += r.consumedBytes
          const full = input.Limit !== undefined && scanned >= input.Limit
          if (r.lastEvaluatedKey !== undefined || full || part === undefined)
            return answer(r, r.lastEvaluatedKey)
          // (A partition that filled the page's bytes stopped with a LastEvaluatedKey above.)
          if (visits >= QUERY_VISITS_MAX) return failWith({ ok: false, kind: "Deadline" })
          if (forward) {
            const end = part.end
            if (end?.hash === hash && end.sortKey !== undefined && !aboveRange(range, end.sortKey))
              return visit(end, end)
          } else {
            const start = part.start
            if (start.hash === hash && start.sortKey !== undefined && !belowRange(range, start.sortKey)) {
              const p = before(start)
              if (p !== undefined) return visit(p, start)
            }
          }
          answer(r, undefined)
        },
        pos,
      )
    }
    const list = parts()
    const first = forward ? list[0] : list[list.length - 1]
    visit(first === undefined ? { hash } : positionIn(first, hash), undefined)
  }

  /** Scan: partitions in hash order; one page may span several partitions. */
  scan(input: ScanRequest, cb: Callback<PageResponse>): void {
    const info = this.table(input.TableName, cb)
    if (info === undefined) return
    const strong = input.ConsistentRead === true
    const mode = strong ? "strong" : "eventual"
    if (!this.admit(info, "r", readCostMilli(0, mode), cb)) return
    const t0 = this.runtime.now()
    const items: Item[] = []
    let count = 0
    let scanned = 0
    let bytes = 0
    const { TableName: _t, ReturnConsumedCapacity: _r, ConsistentRead: _c, ...rest } = input
    const esk = input.ExclusiveStartKey
    let key: Uint8Array
    if (esk !== undefined) {
      const k = this.keyOf(info, esk, cb)
      if (k === undefined) return
      key = k
    } else key = routingKey(info.name, hexToHash(positionMin))
    const step = (k: Uint8Array, start: Item | undefined): void => {
      const limit = input.Limit === undefined ? undefined : input.Limit - scanned
      this.run(
        info,
        k,
        {
          op: "scan",
          input: { ...rest, ExclusiveStartKey: start, Limit: limit },
          consistent: strong,
          // One page reads at most 1 MB across all the partitions it visits.
          pageBytes: pageBytesMax - bytes,
        },
        strong,
        (r, range) => {
          if (r.ok) {
            items.push(...(r.items ?? []))
            count += r.count ?? 0
            scanned += r.scannedCount ?? 0
            bytes += r.consumedBytes
            const end = range?.end ?? null
            const full = input.Limit !== undefined && scanned >= input.Limit
            if (r.lastEvaluatedKey === undefined && end !== null && !full) return step(end, undefined)
            const done: DataOk = {
              ...r,
              items,
              count,
              scannedCount: scanned,
              consumedBytes: bytes,
            }
            return cb(
              this.finish(info, "Scan", t0, done, (ok) => {
                const milli = readCostMilli(ok.consumedBytes, mode)
                this.charge(info, "r", milli)
                return {
                  Items: items,
                  Count: count,
                  ScannedCount: scanned,
                  LastEvaluatedKey:
                    r.lastEvaluatedKey ?? (full && items.length > 0 ? lastKey(info, items) : undefined),
                  ConsumedCapacity: consumed(input.ReturnConsumedCapacity, info.name, milli, 0),
                }
              }),
            )
          }
          cb(this.finish(info, "Scan", t0, r, () => ({ Items: [], Count: 0, ScannedCount: 0 })))
        },
      )
    }
    step(key, esk)
  }

  // ------------------------------------------------------------------------------------------
  // Routing, admission, retries

  private table<A>(name: string, cb: Callback<A>): TableInfo | undefined {
    this.counters.requests++
    const info = this.meta.tableInfo(name)
    if (info === undefined)
      cb(
        fail(
          new ResourceNotFoundException({
            message: `Requested resource not found: Table: ${name} not found`,
          }),
        ),
      )
    return info
  }

  private keyOf<A>(info: TableInfo, item: Item | undefined, cb: Callback<A>): Uint8Array | undefined {
    const ks = info.keySchema
    const pk = item?.[ks.partitionKey.name]
    const sk = ks.sortKey === undefined ? undefined : item?.[ks.sortKey.name]
    if (
      pk === undefined ||
      (ks.sortKey !== undefined && sk === undefined) ||
      !isKeyScalar(pk, ks.partitionKey.type) ||
      (sk !== undefined && !isKeyScalar(sk, ks.sortKey!.type))
    ) {
      cb(fail(new ValidationException({ message: "The provided key element does not match the schema" })))
      return undefined
    }
    try {
      return this.routingKeyOf(info, pk, sk)
    } catch (e) {
      // A key value of the right type that does not encode (`{ N: "" }`, a number out of range).
      cb(
        fail(
          new ValidationException({
            message: `The provided key element does not match the schema: ${e instanceof Error ? e.message : String(e)}`,
          }),
        ),
      )
      return undefined
    }
  }

  private routingKeyOf(info: TableInfo, pk: AttributeValue, sk: AttributeValue | undefined): Uint8Array {
    hashKeyInto(info.hash, pk, this.words, 0)
    let prefix = this.prefixes.get(info.name)
    if (prefix === undefined) {
      prefix = tablePrefix(info.name)
      this.prefixes.set(info.name, prefix)
    }
    return routingKeyFromPrefix(
      prefix,
      wordsToHash(this.words, this.hashBytes),
      sk === undefined ? undefined : encodeKeyValue(sk),
    )
  }

  /** Routing-key prefixes by table name (UTF-8 encoded once, not per request). */
  private readonly prefixes = new Map<string, Uint8Array>()

  /**
   * The GAC bucket of a table's kind at its current rate: the provisioned rate, or an on-demand
   * table's allowance (twice its peak). A new rate is a new bucket (`table/kind@version`): the
   * one it replaces stops reporting to GAC.
   */
  private slotOf(info: TableInfo, kind: "r" | "w"): number {
    // Every request asks twice (admit, charge): the slot is remembered per table and version
    // instead of building and hashing the bucket's name each time.
    const memo = this.slotMemo.get(info.name)
    if (memo !== undefined && memo.version === info.version) {
      const s = kind === "r" ? memo.r : memo.w
      if (s >= 0) return s
    }
    const s = this.slotOfBucket(info, kind)
    if (memo !== undefined && memo.version === info.version) {
      if (kind === "r") memo.r = s
      else memo.w = s
    } else
      this.slotMemo.set(info.name, {
        version: info.version,
        r: kind === "r" ? s : -1,
        w: kind === "w" ? s : -1,
      })
    return s
  }

  /** Slots by table name for the table's current version (-1: not looked up yet). */
  private readonly slotMemo = new Map<string, { version: number; r: number; w: number }>()

  private slotOfBucket(info: TableInfo, kind: "r" | "w"): number {
    const bucket = `${info.name}/${kind}@${info.version}`
    const s = this.admission.slotOf(bucket)
    if (s !== undefined) return s
    const rate = Math.floor((kind === "r" ? info.provisioned.rcu : info.provisioned.wcu) * 1000)
    const slot = this.admission.addBucket(bucket, rate, this.runtime.now(), this.options.routersHint ?? 1)
    const key = `${info.name}/${kind}`
    const old = this.currentSlot.get(key)
    if (old !== undefined && old !== slot) {
      const o = this.admission.slots[old]!
      o.nextReportMs = Number.POSITIVE_INFINITY
      o.pending = null
    }
    this.currentSlot.set(key, slot)
    return slot
  }

  /** The slot in use per `table/kind` (a superseded one is retired). */
  private readonly currentSlot = new Map<string, number>()

  private admit<A>(
    info: TableInfo,
    kind: "r" | "w",
    milli: number,
    cb: Callback<A>,
    now = this.runtime.now(),
  ): boolean {
    if (this.options.admission === false) return true
    const slot = this.slotOf(info, kind)
    if (this.admission.canTake(slot, milli, now)) return true
    this.admission.noteThrottled(slot, milli)
    this.counters.throttledTable++
    this.metrics.throttle(info.name, "table")
    cb(
      fail(
        new ProvisionedThroughputExceededException({
          message:
            "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.",
        }),
      ),
    )
    return false
  }

  private charge(info: TableInfo, kind: "r" | "w", milli: number, now = this.runtime.now()): void {
    this.metrics.consumed(info.name, kind, milli)
    if (this.options.admission === false) return
    this.admission.take(this.slotOf(info, kind), milli, now)
  }

  private writeId(): string {
    return `${this.idPrefix}:${this.nextWriteId++}`
  }

  private finish<A>(
    info: TableInfo,
    op: string,
    t0: number,
    r: DataResponse | { ok: false; kind: "Deadline" } | { ok: false; kind: "NoRoute" },
    ok: (r: DataOk, now: number) => A,
  ): Result<A> {
    const now = this.runtime.now()
    this.metrics.request(info.name, op, now - t0, r.ok)
    if (r.ok) return { ok: true, value: ok(r, now) }
    return this.failure(info, r)
  }

  /** The client's error for a failed data response (counted in the router's metrics). */
  private failure(
    info: TableInfo,
    r: Exclude<DataResponse, DataOk> | { ok: false; kind: "Deadline" } | { ok: false; kind: "NoRoute" },
  ): Result<never> {
    switch (r.kind) {
      case "ConditionalCheckFailed":
        return fail(
          new ConditionalCheckFailedException({
            message: r.message ?? "The conditional request failed",
            ...(r.item === undefined ? {} : { item: r.item }),
          } as never),
        )
      case "Validation":
        return fail(new ValidationException({ message: r.message ?? "validation error" }))
      case "PartitionThrottled":
        this.counters.throttledPartition++
        this.metrics.throttle(info.name, "partition")
        return fail(
          new ProvisionedThroughputExceededException({
            message: "The level of configured provisioned throughput for the partition was exceeded.",
          }),
        )
      case "NoRoute":
        return fail(new InternalServerError({ message: "no route to the partition" }))
      default:
        this.counters.deadlines++
        return fail(
          new InternalServerError({
            message: `request deadline exceeded (${r.kind}); the outcome is unknown`,
          }),
        )
    }
  }

  /** Routes and sends `req`, retrying until an answer or the deadline. */
  private run(
    info: TableInfo,
    key: Uint8Array,
    req: DataRequest,
    strong: boolean,
    done: Ctx["done"],
    position?: Boundary,
    now = this.runtime.now(),
  ): void {
    const ctx: Ctx = {
      position,
      info,
      key,
      req,
      strong,
      deadline: now + (this.options.deadlineMs ?? REQUEST_DEADLINE_MS_DEFAULT),
      attempt: 0,
      staleEpoch: -1,
      done,
      sentAt: 0,
      sentTo: "",
    }
    this.route(ctx, this.cache.request(now, this.waitRoute(ctx), info.name, key))
  }

  private waitRoute(ctx: Ctx): number {
    const id = this.nextCacheReq++
    this.routeWaiters.set(id, ctx)
    return id
  }

  private route(_ctx: Ctx, outs: CacheOutput[]): void {
    this.cacheOut(outs)
  }

  private cacheOut(outs: ReadonlyArray<CacheOutput>): void {
    for (const o of outs) {
      if (o.type === "send") {
        this.runtime.transport.send(this.id, o.to, { t: "memds", m: o.msg })
        continue
      }
      const ctx = this.routeWaiters.take(o.reqId)
      if (ctx === undefined) continue
      if (o.type === "answer") this.send(ctx, o.range)
      else if (o.type === "fail") this.retry(ctx)
    }
  }

  private send(ctx: Ctx, range: RouteRange): void {
    ctx.range = range
    const e = range.entry
    const replicas = e.replicas
    if (replicas.length === 0) {
      this.retry(ctx)
      return
    }
    let to: string
    if (ctx.strong) {
      const o = this.leaderOverride.get(e.partitionId)
      if (o !== undefined && o.hint !== e.leaderHint) this.leaderOverride.delete(e.partitionId)
      to =
        o !== undefined && o.hint === e.leaderHint
          ? o.node
          : (e.leaderHint ?? replicas[ctx.attempt % replicas.length]!.nodeId)
    } else {
      // A replica in this AZ on the first attempt (any, when there is none, and on retries),
      // chosen at random without building the pool as an array.
      let local = 0
      if (ctx.attempt === 0) for (const r of replicas) if (r.az === this.az) local++
      const pick = Math.floor(this.runtime.random() * (local > 0 ? local : replicas.length))
      if (local > 0) {
        let seen = 0
        to = replicas[0]!.nodeId
        for (const r of replicas)
          if (r.az === this.az && seen++ === pick) {
            to = r.nodeId
            break
          }
      } else to = replicas[pick]!.nodeId
    }
    const rid = this.nextRid++
    // No timer per attempt: the router's tick sweeps attempts older than the attempt timeout.
    ctx.sentAt = this.runtime.now()
    ctx.sentTo = to
    this.inflight.set(rid, ctx)
    this.runtime.transport.send(this.id, to, {
      t: "req",
      rid,
      h: { table: ctx.info.name, partitionId: e.partitionId, epoch: e.epoch, position: ctx.position },
      req: ctx.req,
    })
  }

  private onResponse(rid: number, res: DataResponse): void {
    const ctx = this.inflight.take(rid)
    if (ctx === undefined) return
    if (res.ok) {
      ctx.done(res, ctx.range)
      return
    }
    const e = ctx.range!.entry
    switch (res.kind) {
      case "NotLeader": {
        // The node names the leader it follows; one that knows none sends us to the next replica.
        const next = res.leaderNode ?? nextReplica(e.replicas, ctx.sentTo)
        if (next !== undefined) this.leaderOverride.set(e.partitionId, { node: next, hint: e.leaderHint })
        this.retry(ctx, res.leaderNode !== undefined)
        return
      }
      case "StaleEpoch": {
        this.leaderOverride.delete(e.partitionId)
        ctx.staleEpoch = e.epoch
        const now = this.runtime.now()
        if (now >= ctx.deadline) {
          ctx.done({ ok: false, kind: "Deadline" })
          return
        }
        ctx.attempt++
        this.counters.retries++
        const delay = this.backoff(ctx.attempt)
        this.runtime.schedule(delay, () => {
          this.cacheOut(
            this.cache.staleRoute(
              this.runtime.now(),
              this.waitRoute(ctx),
              ctx.info.name,
              ctx.key,
              // Out of range: the split children share one epoch, so accept an answer of this epoch.
              res.outOfRange === true ? e.epoch - 1 : e.epoch,
              res.newer,
            ),
          )
        })
        return
      }
      case "Unavailable":
        this.retry(ctx)
        return
      default:
        ctx.done(res)
        return
    }
  }

  /** Abandons attempts unanswered for the attempt timeout (oldest attempt id first: send order). */
  private sweep(now: number): void {
    const timeout = this.options.attemptTimeoutMs ?? ATTEMPT_TIMEOUT_MS_DEFAULT
    this.inflight.forEachOldest((rid, ctx) => {
      if (now - ctx.sentAt < timeout) return false
      this.inflight.delete(rid)
      const to = ctx.sentTo
      // Silence: maybe the node is down or cut off; move on to the replica after the silent one,
      // unless another answer has already pointed this partition's requests elsewhere (many
      // requests time out together: each must not rotate the choice again, nor back to the
      // silent node).
      const e = ctx.range?.entry
      if (ctx.strong && e !== undefined) {
        const o = this.leaderOverride.get(e.partitionId)
        const current = o !== undefined && o.hint === e.leaderHint ? o.node : e.leaderHint
        const next = nextReplica(e.replicas, to)
        if ((current === null || current === to) && next !== undefined)
          this.leaderOverride.set(e.partitionId, { node: next, hint: e.leaderHint })
      }
      this.retry(ctx)
      return true
    })
  }

  private backoff(attempt: number): number {
    const step = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 16))
    return step / 2 + this.runtime.random() * (step / 2)
  }

  private retry(ctx: Ctx, immediate = false): void {
    ctx.attempt++
    this.counters.retries++
    const delay = immediate && ctx.attempt < 3 ? 0 : this.backoff(ctx.attempt)
    if (this.runtime.now() + delay >= ctx.deadline || ctx.attempt > ATTEMPTS_MAX) {
      ctx.done({ ok: false, kind: "Deadline" })
      return
    }
    this.runtime.schedule(delay, () => {
      this.cacheOut(this.cache.request(this.runtime.now(), this.waitRoute(ctx), ctx.info.name, ctx.key))
    })
  }

  private onMessage(m: NodeMsg, _from: string): void {
    switch (m.t) {
      case "res":
        this.onResponse(m.rid, m.res)
        return
      case "memds":
        this.cacheOut(this.cache.reply(this.runtime.now(), m.m as FleetMsg))
        return
      case "gac-grant":
        this.admission.onGrant(m.g, this.runtime.now())
        return
      default:
        return
    }
  }
}

/** A partition's leader as this router learned it, and the routing entry's hint it overrides. */
interface LeaderOverride {
  readonly node: string
  readonly hint: string | null
}

/** The replica after `node` in the entry's list (wrapping), or the first if `node` is not in it. */
const nextReplica = (
  replicas: ReadonlyArray<{ readonly nodeId: string }>,
  node: string,
): string | undefined => {
  if (replicas.length === 0) return undefined
  const i = replicas.findIndex((r) => r.nodeId === node)
  return replicas[(i + 1) % replicas.length]!.nodeId
}

const isKeyScalar = (v: AttributeValue, t: "S" | "N" | "B"): boolean => {
  // Outside input: a key attribute may be anything (null threw here, found by fast-check).
  if (typeof v !== "object" || v === null) return false
  const a = v as { S?: unknown; N?: unknown; B?: unknown }
  if (t === "S") return typeof a.S === "string" && a.S.length > 0
  if (t === "N") return typeof a.N === "string"
  return a.B instanceof Uint8Array && a.B.length > 0
}

const consumed = (
  rcc: ReturnConsumedCapacity | undefined,
  table: string,
  readMilli: number,
  writeMilli: number,
): ConsumedCapacity | undefined =>
  rcc === undefined || rcc === "NONE"
    ? undefined
    : toConsumedCapacity({ tableName: table, readMilli, writeMilli })

const lastKey = (info: TableInfo, items: ReadonlyArray<Item>): Item => {
  const it = items[items.length - 1]!
  const ks = info.keySchema
  return ks.sortKey === undefined
    ? { [ks.partitionKey.name]: it[ks.partitionKey.name]! }
    : { [ks.partitionKey.name]: it[ks.partitionKey.name]!, [ks.sortKey.name]: it[ks.sortKey.name]! }
}
