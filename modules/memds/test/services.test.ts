import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { Effect, Layer } from "effect"
import {
  type FleetMsg,
  hashFromBigInt,
  MemDS,
  type MemDSLink,
  MemDSNode,
  RoutingCache,
  routingKey,
} from "../src/index.ts"

const key = (i: bigint) => routingKey("orders", hashFromBigInt(i << 120n))

const fleet = () => {
  const nodes = ["m0", "m1", "m2"].map(
    (id) => new MemDSNode({ id, peers: ["m0", "m1", "m2"], sequencer: id === "m0" }),
  )
  const ops = Array.from({ length: 16 }, (_, i) => ({
    kind: "put" as const,
    key: key(BigInt(i) * 16n),
    entry: {
      partitionId: `p${i}`,
      epoch: 1,
      replicas: [{ nodeId: `sn${i % 4}`, az: `az${i % 3}` }],
      leaderHint: `sn${i % 4}`,
    },
  }))
  // the sequencer publishes; the other nodes apply the pushed update
  for (const o of nodes[0]!.publish(ops)) nodes.find((n) => n.id === o.to)!.step(0, "m0", o.msg)
  return nodes
}

describe("Effect services", () => {
  it("RoutingCache over MemDS routes requests and keeps one lookup per request in constant-work mode", async () => {
    const nodes = fleet()
    const layer = RoutingCache.layer({ mode: "constant-work" }).pipe(Layer.provide(MemDS.local(nodes)))
    const program = Effect.gen(function* () {
      const cache = yield* RoutingCache
      const pids: string[] = []
      for (let i = 0n; i < 200n; i++) pids.push((yield* cache.route("orders", key(i))).entry.partitionId)
      yield* cache.flush
      for (let i = 0n; i < 200n; i++) pids.push((yield* cache.route("orders", key(i))).entry.partitionId)
      return { pids, m: yield* cache.metrics }
    })
    const { pids, m } = await Effect.runPromise(
      Effect.scoped(Layer.build(layer).pipe(Effect.flatMap((ctx) => Effect.provide(program, ctx)))),
    )
    assert.equal(pids[0], "p0")
    assert.equal(pids[17], "p1")
    assert.equal(pids[399], `p${Math.floor(199 / 16)}`)
    assert.equal(m.requests, 400)
    assert.equal(m.memdsLookups, 400)
    assert.ok(m.hitRate > 0.9)
  })

  it("conventional mode looks up only on misses", async () => {
    const nodes = fleet()
    const program = Effect.gen(function* () {
      const cache = yield* RoutingCache
      for (let i = 0n; i < 100n; i++) yield* cache.route("orders", key(i))
      return yield* cache.metrics
    })
    const m = await Effect.runPromise(
      program.pipe(
        Effect.provide(RoutingCache.layer({ mode: "conventional" }).pipe(Layer.provide(MemDS.local(nodes)))),
      ),
    )
    assert.equal(m.memdsLookups, m.misses)
    assert.equal(m.misses, 7) // ranges p0..p6 cover keys 0..99
  })

  it("unroutable keys fail with a typed RoutingError", async () => {
    const nodes = fleet()
    const program = Effect.gen(function* () {
      const cache = yield* RoutingCache
      return yield* cache
        .route("nope", routingKey("nope", hashFromBigInt(0n)))
        .pipe(Effect.catchTag("RoutingError", (e) => Effect.succeed(e.reason)))
    })
    const r = await Effect.runPromise(
      program.pipe(
        Effect.provide(RoutingCache.layer({ mode: "constant-work" }).pipe(Layer.provide(MemDS.local(nodes)))),
      ),
    )
    assert.equal(r, "NoSuchPartition")
  })

  it("MemDS.overLink carries lookups over a message link and matches replies by id", async () => {
    const nodes = fleet()
    const byId = new Map(nodes.map((n) => [n.id, n]))
    let deliver: (msg: FleetMsg) => void = () => {}
    const dropTo = new Set(["m1"]) // one node's replies are lost: its lookups time out
    const link: MemDSLink = {
      nodes: ["m0", "m1", "m2"],
      send: (to, msg) => {
        const reply = byId.get(to)!.step(0, "router", msg)
        if (!dropTo.has(to)) for (const o of reply) deliver(o.msg)
      },
      listen: (f) => {
        deliver = f
      },
    }
    const program = Effect.gen(function* () {
      const cache = yield* RoutingCache
      const pids: string[] = []
      for (let i = 0n; i < 30n; i++) pids.push((yield* cache.route("orders", key(i * 8n))).entry.partitionId)
      return { pids, m: yield* cache.metrics }
    })
    const layer = RoutingCache.layer({ mode: "conventional", lookupTimeoutMs: 20, retriesMax: 3 }).pipe(
      Layer.provide(MemDS.overLink(link, 10)),
    )
    const { pids, m } = await Effect.runPromise(program.pipe(Effect.provide(layer)))
    assert.deepEqual(pids.slice(0, 4), ["p0", "p0", "p1", "p1"])
    assert.equal(pids.length, 30)
    assert.ok(m.retries > 0, "lookups sent to the silent node were retried elsewhere")
  })
})
