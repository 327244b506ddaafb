// The README's example: a toy primary/replica register, clients as Effect fibers on virtual time,
// a lossy network, a partition fault, a recorded history and the linearizability checker.
import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { Duration, Effect, Random } from "effect"
import { casRegisterModel, checkHistory, History, runSim, Sim, SimNetwork } from "../src/index.ts"

type Msg =
  | { readonly kind: "read"; readonly id: number }
  | { readonly kind: "write"; readonly id: number; readonly value: number }
  | { readonly kind: "reply"; readonly id: number; readonly value: number | null }
  | { readonly kind: "replicate"; readonly value: number }

/** Run the toy for one seed. `staleReads` makes clients read from the (lagging) replica: a bug. */
export const runToy = (seed: number, staleReads: boolean) => {
  const sim = new Sim(seed)
  const net = new SimNetwork<Msg>(sim, { lossProbability: 0.02 })
  const history = new History(() => sim.now)
  const pending = new Map<number, (value: number | null) => void>()
  let nextId = 0
  let primaryValue: number | null = null
  let replicaValue: number | null = null

  net.addNode("primary", "az-1", (m, from) => {
    if (m.kind === "write") {
      primaryValue = m.value
      net.send("primary", "replica", { kind: "replicate", value: m.value })
      net.send("primary", from, { kind: "reply", id: m.id, value: null })
    } else if (m.kind === "read") net.send("primary", from, { kind: "reply", id: m.id, value: primaryValue })
  })
  net.addNode("replica", "az-2", (m, from) => {
    if (m.kind === "replicate") replicaValue = m.value
    else if (m.kind === "read") net.send("replica", from, { kind: "reply", id: m.id, value: replicaValue })
  })
  const clients = ["c0", "c1", "c2"]
  for (const [i, c] of clients.entries()) {
    net.addNode(c, `az-${i + 1}`, (m) => {
      if (m.kind === "reply") pending.get(m.id)?.(m.value)
    })
  }

  /** Send a request and wait for the reply on virtual time; fails with a timeout after 20 ms. */
  const call = (client: string, to: string, req: (id: number) => Msg) =>
    Effect.async<number | null>((resume) => {
      const id = nextId++
      pending.set(id, (v) => resume(Effect.succeed(v)))
      net.send(client, to, req(id))
      return Effect.sync(() => pending.delete(id))
    }).pipe(Effect.timeout(Duration.millis(20)))

  const client = (name: string, process: number) =>
    Effect.gen(function* () {
      for (let n = 0; n < 30; n++) {
        if (yield* Random.nextBoolean) {
          const value = process * 1000 + n // unique values make stale reads stand out
          const op = history.invoke(process, "write", value)
          const r = yield* Effect.either(call(name, "primary", (id) => ({ kind: "write", id, value })))
          if (r._tag === "Right") history.ok(op)
          else history.info(op) // timed out: the write may or may not have happened
        } else {
          const op = history.invoke(process, "read")
          const target = staleReads ? "replica" : "primary"
          const r = yield* Effect.either(call(name, target, (id) => ({ kind: "read", id })))
          if (r._tag === "Right") history.ok(op, r.right)
          else history.info(op)
        }
        yield* Effect.sleep(Duration.millis(yield* Random.nextIntBetween(1, 10)))
      }
    })

  /** The fault: cut the replica off for a while, then heal. */
  const nemesis = Effect.gen(function* () {
    yield* Effect.sleep(Duration.millis(50))
    const p = net.isolateNode("replica")
    yield* Effect.sleep(Duration.millis(100))
    net.heal(p)
  })

  runSim(sim, Effect.all([nemesis, ...clients.map(client)], { concurrency: "unbounded" }))
  const result = checkHistory(casRegisterModel, history.events)
  return { verdict: result.verdict, trace: sim.trace.hex(), events: history.events.length, net: net.stats }
}

describe("README example: toy register under faults", () => {
  it("the correct design is linearizable for every seed tried", () => {
    for (let seed = 1; seed <= 10; seed++)
      assert.equal(runToy(seed, false).verdict, "linearizable", `seed ${seed}`)
  })

  it("the stale-read bug is caught by the checker", () => {
    const caught = [1, 2, 3, 4, 5].filter((seed) => runToy(seed, true).verdict === "not-linearizable")
    assert.ok(caught.length >= 3, `caught on seeds ${caught}`)
  })

  it("the same seed gives the same trace hash; another seed gives another", () => {
    const a = runToy(42, false)
    const b = runToy(42, false)
    const c = runToy(43, false)
    assert.equal(a.trace, b.trace)
    assert.deepEqual(a.net, b.net)
    assert.notEqual(a.trace, c.trace)
    assert.match(a.trace, /^[0-9a-f]{16}$/)
  })
})
