/**
 * A leader keeps taking writes and strong reads while its own committed entries wait to be
 * applied: only its first catch-up in a term is required (`Replica.isLeader`). On real time the
 * window is real: the transport delivers a batch of messages before the nodes' deferred flushes
 * run, so a request often reaches a leader whose commit index has just moved past its apply.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { CallbackClient, type LocalCluster, localCluster } from "@partita/node"
import { createOnDemandTable } from "./support.ts"

/** Waits on the cluster runtime's own timer. */
const wait = (c: LocalCluster, ms: number): Promise<void> =>
  new Promise((r) => c.realtime.schedule(ms, () => r()))

describe("a leader under a steady stream of writes", () => {
  it("refuses none of them while it leads (no retry, no leader change)", async () => {
    const c = localCluster({ nodes: 3, routers: 1, memds: 1, gac: 1 })
    try {
      createOnDemandTable(c, "hot", 8)
      await wait(c, 2500)
      const client = new CallbackClient(c.meta, c.routers)
      const leaderChanges = () => [...c.nodes.values()].reduce((n, s) => n + s.counters.leaderChanges, 0)
      const retries = () => c.routers.reduce((n, r) => n + r.counters.retries, 0)
      const changes0 = leaderChanges()
      const retries0 = retries()
      // 4,000 writes/s over 8 partitions (each takes up to 1,000), each followed by a strong read
      // of its key: 8 sent every 2 ms, so new requests arrive among the replicas' acceptances.
      const total = 6000
      let sent = 0
      let ok = 0
      let strongOk = 0
      const failures: string[] = []
      const send = (): void => {
        const k = `k${sent++ % 2000}`
        client.putItem({ TableName: "hot", Item: { id: { S: k }, v: { N: String(sent) } } }, (r) => {
          if (!r.ok) {
            failures.push(`put: ${JSON.stringify(r)}`.slice(0, 200))
            return
          }
          ok++
          client.getItem({ TableName: "hot", Key: { id: { S: k } }, ConsistentRead: true }, (g) => {
            if (!g.ok) failures.push(`get: ${JSON.stringify(g)}`.slice(0, 200))
            else strongOk++
          })
        })
      }
      while (sent < total) {
        for (let i = 0; i < 8; i++) send()
        await wait(c, 2)
      }
      for (let t = 0; t < 100 && strongOk + failures.length < total; t++) await wait(c, 20)
      assert.deepEqual(failures, [])
      assert.equal(ok, total)
      assert.equal(strongOk, total)
      assert.equal(leaderChanges(), changes0, "a leader changed: the test measures steady leaders")
      assert.equal(retries() - retries0, 0, "a request was refused and retried under a steady leader")
    } finally {
      c.stop()
    }
  })
})
