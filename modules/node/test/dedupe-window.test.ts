/** Request ids remembered for a window of the leaders' clock, the same on every replica. */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import {
  CallbackClient,
  DEDUPE_WINDOW_MS_DEFAULT,
  REQUEST_DEADLINE_MS_DEFAULT,
  simCluster,
} from "@partita/node"
import { followerOf, onDemandTable, schedulePuts } from "./support.ts"

describe("the request-id window", () => {
  it("outlasts the routers' retries by default", () => {
    assert.ok(DEDUPE_WINDOW_MS_DEFAULT >= 2 * REQUEST_DEADLINE_MS_DEFAULT)
  })

  it("bounds what each replica remembers by time, and every replica remembers the same ids", () => {
    // A 2 s window, writes every 10 ms for 8 s: about 200 ids held, not the 800 written.
    const windowMs = 2000
    const c = simCluster(61, {
      nodes: 3,
      routers: 1,
      heal: false,
      timing: { dedupeWindowMs: windowMs, compactEntries: 100 },
    })
    const pid = onDemandTable(c, "window")
    const client = new CallbackClient(c.meta, c.routers)
    const lagging = followerOf(c, pid)
    // One follower misses most of it and catches up from a snapshot (which carries the stamps).
    c.killNode(lagging)
    const puts = { ok: 0 }
    schedulePuts(
      c,
      client,
      800,
      10,
      (i) => ({ TableName: "window", Item: { id: { S: `k${i % 50}` }, n: { N: String(i) } } }),
      puts,
    )
    c.runFor(8000)
    c.restartNode(lagging)
    c.runFor(3000)
    assert.equal(puts.ok, 800)
    const reps = c.replicasOf(pid).map((x) => x.replica)
    assert.equal(reps.length, 3)
    const held = reps.map((r) => r.dedupeSnapshot())
    for (const h of held) {
      assert.ok(h.ids.length >= 150 && h.ids.length <= 260, `${h.ids.length} ids held`)
      // Every id held is within the window of the newest stamp.
      const newest = Math.max(...h.stamps)
      assert.ok(h.stamps.every((t) => t >= newest - windowMs))
    }
    assert.deepEqual(held[1], held[0])
    assert.deepEqual(held[2], held[0])
    assert.ok(
      c.node(lagging).replicas.get(pid)!.counters.applied < 800,
      "the follower replayed the whole log",
    )
  })

  it("is widened for routers that wait longer than the default", () => {
    const c = simCluster(62, { nodes: 3, routers: 1, heal: false, deadlineMs: 20_000 })
    const pid = onDemandTable(c, "deadline")
    const r = c.replicasOf(pid)[0]!.replica as unknown as { dedupe: { windowMs: number } }
    assert.equal(r.dedupe.windowMs, 60_000)
  })
})
