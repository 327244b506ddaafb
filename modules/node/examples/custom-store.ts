import { Sim } from "@partita/sim"
import { Directory, type ReplicaSpec, SimRuntime, StorageNode, TIMING_DEFAULT } from "@partita/node"

// A custom store from a subset: one Paxos group of three B-tree replicas, no router, no MemDS.
export const customStore = (): Promise<unknown> => {
  const runtime = new SimRuntime(new Sim({ seed: 1 }))
  const dir = new Directory() // no MemDS sequencer: routing changes are not published
  const nodes = ["a", "b", "c"].map((id, i) => {
    dir.addNode(id, `az${i + 1}`)
    return new StorageNode(runtime, dir, {
      id,
      az: `az${i + 1}`,
      timing: TIMING_DEFAULT,
      capacityRcu: 1e6,
      capacityWcu: 1e6,
    })
  })
  const spec: ReplicaSpec = {
    table: "kv",
    keySchema: { partitionKey: { name: "k", type: "S" } },
    hash: "murmur3",
    partition: {
      id: "p0",
      epoch: 1,
      start: { hash: "00000000000000000000000000000000" },
      end: undefined,
      allocation: { rcu: 1000, wcu: 1000 },
      parent: undefined,
    },
    members: nodes.map((n) => ({ id: n.replicaId, role: "storage" as const, zone: n.az })),
    role: "storage",
  }
  const replicas = nodes.map((n) => n.createReplica(spec)!)
  replicas[0]!.core.campaign() // elect a leader now instead of after an election timeout
  runtime.sim.scheduler.runFor(2000) // virtual time: the lease wait passes

  const header = { table: "kv", partitionId: "p0", epoch: 1 }
  const leader = replicas.find((r) => r.isLeader())!
  return new Promise((resolve) => {
    // A conditional write, decided on the leader and replicated as its item image...
    leader.handle(
      header,
      {
        op: "put",
        requestId: "w1",
        input: { Item: { k: { S: "x" }, v: { N: "1" } }, ConditionExpression: "attribute_not_exists(k)" },
      },
      (put) => {
        // ...then a strongly consistent read on the leader (under its lease).
        leader.handle(header, { op: "get", consistent: true, input: { Key: { k: { S: "x" } } } }, (get) => {
          runtime.sim.scheduler.runFor(500) // followers learn the commit
          const sums = new Set(replicas.map((r) => r.summary().checksum))
          resolve({ put: put.ok, item: get.ok ? get.item : undefined, identicalReplicas: sums.size === 1 })
        })
      },
    )
    runtime.sim.scheduler.runFor(100)
  })
}
// → { put: true, item: { k: { S: "x" }, v: { N: "1" } }, identicalReplicas: true }
