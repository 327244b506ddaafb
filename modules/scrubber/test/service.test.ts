import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { MemoryObjectStore, MemoryObjectStoreLayer } from "@partita/paxos"
import { Prng } from "@partita/sim"
import { Effect, Fiber, Layer, TestClock, TestContext } from "effect"
import { Scrubber, ScrubberLive, SimPartition, loseNextWrite } from "../src/index.ts"
import { padToBoundary, randomWrites, runWith } from "./support.ts"

describe("the Scrubber service", () => {
  it("runs in the background on the Clock, rate-limited, and reports a lost write with its key", async () => {
    const store = new MemoryObjectStore()
    const p = new SimPartition({ entriesPerSegment: 8 })
    const prng = new Prng(4)
    randomWrites(p, prng, 60, 15)
    p.deliverAll()
    loseNextWrite(p, 1)
    p.commit({ op: "put", key: "k00003", value: "lost on replica 1" })
    padToBoundary(p, 8)
    p.deliverAll()
    runWith(store, p.archivePending())
    const layer = ScrubberLive([p], { rateLimit: { bytesPerSec: 100_000, burstBytes: 4_000 } }).pipe(
      Layer.provide(MemoryObjectStoreLayer(store)),
    )
    const program = Effect.gen(function* () {
      const scrubber = yield* Scrubber
      const fiber = yield* Effect.fork(scrubber.runInBackground(10))
      yield* TestClock.adjust("5 seconds")
      yield* Fiber.interrupt(fiber)
      return { events: yield* scrubber.events, metrics: yield* scrubber.metrics }
    })
    const { events, metrics } = await Effect.runPromise(
      program.pipe(Effect.provide(layer), Effect.provide(TestContext.TestContext)),
    )
    const detected = events.filter((e) => e.type === "detected")
    assert.equal(detected.length, 1)
    assert.equal(detected[0]!.replica, 1)
    assert.deepEqual(detected[0]!.keys, ["k00003"])
    assert.equal(detected[0]!.partition, "t/p0")
    assert.ok(events.some((e) => e.type === "repaired" && e.replica === 1))
    assert.ok(metrics.cycles >= 1)
    assert.ok(metrics.bytesReadPerSec <= 100_000 * 1.1 + 4_000, `${metrics.bytesReadPerSec} B/s`)
    assert.ok(metrics.bytesVerified > metrics.bytesRead)
    assert.equal(metrics.detections, 1)
    assert.equal(metrics.repairs, 1)
    assert.equal(p.replicas[1]!.tree.get("k00003"), p.replicas[0]!.tree.get("k00003"))
  })

  it("yields to foreground work: no slice runs while work is pending", async () => {
    const store = new MemoryObjectStore()
    const p = new SimPartition({ entriesPerSegment: 8 })
    randomWrites(p, new Prng(1), 30, 10)
    p.deliverAll()
    const out = await Effect.runPromise(
      Effect.gen(function* () {
        const s = yield* Scrubber
        const a = yield* s.tick(5)
        const b = yield* s.tick(0)
        return [a, b, (yield* s.metrics).yields]
      }).pipe(Effect.provide(ScrubberLive([p]).pipe(Layer.provide(MemoryObjectStoreLayer(store))))),
    )
    assert.deepEqual(out, ["yielded", "ran", 1])
  })
})
