/** Test setup shared by the cluster tests (not a test file itself). */
import assert from "node:assert/strict"
import type { CallbackClient, Cluster, PutItemRequest, SimCluster } from "@partita/node"

/** Creates an on-demand table keyed by a string `id` on any cluster (simulated or real time). */
export const createOnDemandTable = (c: Cluster, name: string, partitions?: number): void => {
  const t = c.meta.createTable({
    TableName: name,
    KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
    AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
    BillingMode: "PAY_PER_REQUEST",
    ...(partitions === undefined ? {} : { Partitions: partitions }),
  })
  assert.equal(t._tag, "Right", t._tag === "Left" ? t.left.message : "")
}

/**
 * Creates an on-demand table keyed by a string `id`, runs the simulation 3 s (leaders elected,
 * leases held, routes published) and returns the id of its first partition.
 */
export const onDemandTable = (c: SimCluster, name: string, partitions?: number): string => {
  createOnDemandTable(c, name, partitions)
  c.runFor(3000)
  return c.meta.partitionMap(name)!.partitions[0]!.id
}

/**
 * Creates an on-demand table keyed by a partition key and a sort key (each `[name, type]`) on any
 * cluster, and checks that it was created.
 */
export const createCompositeTable = (
  c: Cluster,
  name: string,
  hash: readonly [string, "S" | "N" | "B"],
  range: readonly [string, "S" | "N" | "B"],
  partitions: number,
): void => {
  const t = c.meta.createTable({
    TableName: name,
    KeySchema: [
      { AttributeName: hash[0], KeyType: "HASH" },
      { AttributeName: range[0], KeyType: "RANGE" },
    ],
    AttributeDefinitions: [
      { AttributeName: hash[0], AttributeType: hash[1] },
      { AttributeName: range[0], AttributeType: range[1] },
    ],
    BillingMode: "PAY_PER_REQUEST",
    Partitions: partitions,
  })
  assert.equal(t._tag, "Right", t._tag === "Left" ? t.left.message : "")
}

/** Schedules `n` PutItems, one every `everyMs` of simulated time; successes are counted in `count.ok`. */
export const schedulePuts = (
  c: SimCluster,
  client: CallbackClient,
  n: number,
  everyMs: number,
  input: (i: number) => PutItemRequest,
  count: { ok: number },
): void => {
  for (let i = 0; i < n; i++)
    c.sim.schedule(i * everyMs, () =>
      client.putItem(input(i), (r) => {
        if (r.ok) count.ok++
      }),
    )
}

/** A node that hosts a replica of `pid` and is not its leader (a follower's node). */
export const followerOf = (c: Cluster, pid: string): string =>
  c.replicasOf(pid).find((x) => x.node !== c.leaderOf(pid))!.node
