/**
 * The scale ladder's target on the whole @partita/node cluster, real time in one process
 * (`localCluster`): YCSB reads are strongly consistent GetItem, updates PutItem of 900-byte items,
 * through the cluster's request routers (constant-work routing cache, GAC admission, retries).
 */
import { CallbackClient, type LocalCluster, localCluster } from "@partita/node"
import { keyName } from "@partita/workloads"
import type { Outcome } from "../measure.ts"
import { ITEM_BYTES, type ScaleConfig, type ScaleTarget } from "./scale.ts"

const TABLE = "usertable"
/** Preload batch: writes in flight at once while filling the table. */
const PRELOAD_IN_FLIGHT = 256

/** A `ScaleTarget` over a real-time in-process @partita/node cluster. */
export class NodeClusterTarget implements ScaleTarget {
  readonly description =
    "the @partita/node cluster, real time in one process (localCluster: 9 storage nodes in 3 AZs, 3 routers, MemDS, GAC; PutItem / strongly consistent GetItem)"
  throttled = 0
  private readonly client: CallbackClient
  private readonly payload = "x".repeat(ITEM_BYTES - 40)

  private constructor(
    readonly cluster: LocalCluster,
    readonly keyCount: number,
  ) {
    this.client = new CallbackClient(cluster.meta, cluster.routers)
  }

  /** Builds the cluster, creates the table with `partitions` partitions, and preloads every key. */
  static async start(cfg: ScaleConfig): Promise<NodeClusterTarget> {
    const cluster = localCluster({ nodes: 9, routers: 3 })
    cluster.meta.createTable({
      TableName: TABLE,
      KeySchema: [{ AttributeName: "ycsb_key", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "ycsb_key", AttributeType: "S" }],
      BillingMode: "PAY_PER_REQUEST",
      Partitions: cfg.partitions,
      // Warm: the ladder measures the store, not the on-demand allowance ramping up from
      // 12,000 / 4,000 units (twice the peak per second) during the preload and the first rungs.
      WarmThroughput: { ReadUnitsPerSecond: 1_000_000, WriteUnitsPerSecond: 1_000_000 },
    })
    await cluster.sleep(1500)
    const t = new NodeClusterTarget(cluster, cfg.keyCount)
    for (let k = 0; k < cfg.keyCount; k += PRELOAD_IN_FLIGHT) {
      const batch = []
      for (let j = k; j < Math.min(cfg.keyCount, k + PRELOAD_IN_FLIGHT); j++) batch.push(t.send("update", j))
      await Promise.all(batch)
    }
    return t
  }

  send(op: "read" | "update", k: number): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      const key = { ycsb_key: { S: keyName(k) } }
      const done = (r: { ok: boolean; error?: unknown }) => {
        if (r.ok) return resolve("ok")
        const tag = (r.error as { _tag?: string } | undefined)?._tag ?? ""
        if (tag.includes("Throughput") || tag.includes("Throttl")) {
          this.throttled++
          return resolve("throttled")
        }
        resolve("error")
      }
      if (op === "read") this.client.getItem({ TableName: TABLE, Key: key, ConsistentRead: true }, done)
      else this.client.putItem({ TableName: TABLE, Item: { ...key, field0: { S: this.payload } } }, done)
    })
  }

  idle(ms: number): Promise<void> {
    return this.cluster.sleep(ms)
  }

  stop(): void {
    this.cluster.stop()
  }
}
