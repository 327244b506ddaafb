import { Effect, Either, Layer } from "effect"
import { hashFromBigInt, MemDS, MemDSNode, PerkleStore, RoutingCache, routingKey } from "@partita/memds"

export const quickstart = async () => {
  // A fleet of three MemDS nodes; m0 sequences the updates sent by the authoritative sources.
  const ids = ["m0", "m1", "m2"]
  const fleet = ids.map((id) => new MemDSNode({ id, peers: ids, sequencer: id === "m0" }))
  const half = 1n << 127n // table "orders" has two partitions: [0, 2^127) and [2^127, 2^128)
  const put = (start: bigint, partitionId: string, leader: string) => ({
    kind: "put" as const,
    key: routingKey("orders", hashFromBigInt(start)),
    entry: {
      partitionId,
      epoch: 1,
      replicas: ["az1", "az2", "az3"].map((az, i) => ({ nodeId: `sn-${partitionId}-${i}`, az })),
      leaderHint: leader,
    },
  })
  const pushed = fleet[0]!.publish([put(0n, "p0", "sn-p0-0"), put(half, "p1", "sn-p1-2")])
  for (const out of pushed) fleet.find((n) => n.id === out.to)!.step(0, "m0", out.msg)

  // Every replica holds the same contents, so the same Merkle root.
  const roots = new Set(fleet.map((n) => n.root))

  // The router's constant-work cache: one MemDS lookup per request, hit or miss.
  const program = Effect.gen(function* () {
    const cache = yield* RoutingCache
    const key = routingKey("orders", hashFromBigInt(half + 42n))
    const first = yield* cache.route("orders", key) // miss: waits for MemDS
    const again = yield* cache.route("orders", key) // hit: answers from cache, still asks MemDS
    const m = yield* cache.metrics
    return {
      partition: again.entry.partitionId,
      leader: first.entry.leaderHint,
      lookupsPerRequest: m.lookupsPerRequest,
    }
  })
  const layer = RoutingCache.layer({ mode: "constant-work" }).pipe(Layer.provide(MemDS.local(fleet)))
  const routed = await Effect.runPromise(program.pipe(Effect.provide(layer)))

  // A lagging replica catches up from a compressed snapshot, verified by its Merkle root.
  const snapshot = fleet[1]!.store.snapshot(fleet[1]!.version)
  const restored = PerkleStore.fromSnapshot(snapshot)
  const restoredRoot = Either.isRight(restored) ? restored.right.store.root : "rejected"

  return { roots: roots.size, ...routed, restoredMatches: restoredRoot === fleet[0]!.root }
}
// → { roots: 1, partition: "p1", leader: "sn-p1-2", lookupsPerRequest: 1, restoredMatches: true }
