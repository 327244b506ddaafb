/** The real-time runtime's in-process transport: order, bounded drains, nodes down. */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import type { NodeMsg } from "../src/internal/messages.ts"
import { DRAIN_MESSAGES_MAX, RealTimeRuntime } from "../src/internal/realtime.ts"

const ping = (n: number): NodeMsg => ({ t: "ping", n }) as NodeMsg
/** Waits on the runtime's own timer (the host timer lives in the real-time runtime). */
const wait = (rt: RealTimeRuntime, ms: number): Promise<void> =>
  new Promise((r) => rt.schedule(ms, () => r()))

describe("RealTimeRuntime transport", () => {
  it("delivers in send order across bounded drains, a backlog before what is sent meanwhile", async () => {
    const rt = new RealTimeRuntime()
    const got: Array<[string, number]> = []
    const total = 2 * DRAIN_MESSAGES_MAX + 123
    rt.transport.register("b", "az1", (m, from) => {
      const n = (m as { n: number }).n
      got.push([from, n])
      // Each of the first messages answers with one more, sent while a backlog is waiting.
      if (n < 50) rt.transport.send("b", "c", ping(10_000 + n))
    })
    rt.transport.register("c", "az2", (m, from) => {
      got.push([from, (m as { n: number }).n])
    })
    for (let i = 0; i < total; i++) rt.transport.send("a", "b", ping(i))
    for (let t = 0; t < 200 && got.length < total + 50; t++) await wait(rt, 5)
    rt.stop()
    assert.equal(got.length, total + 50)
    assert.equal(rt.delivered, total + 50)
    // Everything "a" sent arrives in order, and before any reply sent after the first drain.
    const fromA = got.filter(([f]) => f === "a").map(([, n]) => n)
    assert.deepEqual(
      fromA,
      Array.from({ length: total }, (_, i) => i),
    )
    const firstReply = got.findIndex(([f]) => f === "b")
    assert.ok(firstReply >= total, `a reply overtook the backlog at ${firstReply}`)
    assert.deepEqual(
      got.slice(total).map(([, n]) => n),
      Array.from({ length: 50 }, (_, i) => 10_000 + i),
    )
  })

  it("drops messages to and from a node that is down", async () => {
    const rt = new RealTimeRuntime()
    const got: number[] = []
    rt.transport.register("b", "az1", (m) => got.push((m as { n: number }).n))
    rt.transport.send("a", "b", ping(1))
    rt.transport.setUp("b", false)
    rt.transport.send("a", "b", ping(2))
    await wait(rt, 5)
    rt.transport.setUp("b", true)
    rt.transport.send("a", "b", ping(3))
    await wait(rt, 5)
    rt.stop()
    assert.deepEqual(got, [3])
  })
})
