import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { Effect } from "effect"
// README example starts
import {
  type Entry,
  MemoryDisk,
  type Membership,
  NotLeaderError,
  makeReplicationGroup,
  memoryStorage,
} from "@partita/paxos"

const config: Membership = {
  members: [
    { id: 0, role: "storage", zone: "az1" },
    { id: 1, role: "storage", zone: "az2" },
    { id: 2, role: "storage", zone: "az3" },
  ],
}

const program = Effect.gen(function* () {
  const state = new Map<number, string[]>() // replica -> applied commands
  const disks = [0, 1, 2, 3].map(() => new MemoryDisk())
  const group = yield* makeReplicationGroup({
    config,
    storage: (id) => memoryStorage(disks[id]!),
    electionTimeoutMs: 200,
    heartbeatMs: 20,
    leaseMs: 100,
    apply: (id: number, e: Entry) => {
      if (e.kind === 0) state.set(id, [...(state.get(id) ?? []), new TextDecoder().decode(e.data)])
    },
  })
  // Proposals fail fast until a leader is established (it first waits out earlier leases).
  const propose = (s: string) =>
    group.propose(new TextEncoder().encode(s)).pipe(
      Effect.retry({ while: (e) => e instanceof NotLeaderError, times: 200 }),
      Effect.tapError(() => Effect.sleep(10)),
    )
  let slot = 0
  for (;;) {
    const r = yield* Effect.either(propose("put a=1"))
    if (r._tag === "Right") {
      slot = r.right
      break
    }
    yield* Effect.sleep(20)
  }
  yield* propose("put b=2")
  const read = yield* group.read("strong")
  // A follower fails: restore the quorum with log replica 3, then remove the failed one (one
  // change at a time). Replica 3 joins as a learner and votes once promoted (caught up by then).
  const leader = yield* group.leaderId
  const victim = leader === 2 ? 1 : 2
  yield* group.crash(victim)
  yield* group.addLogReplica(3, `az${victim + 1}`, { learner: true })
  yield* Effect.sleep(100)
  yield* group.promote(3)
  yield* Effect.sleep(100)
  yield* group.removeReplica(victim)
  const after = yield* propose("put c=3")
  yield* Effect.sleep(60)
  const metrics = yield* group.metrics
  return { slot, read, after, metrics, state, leader, syncs: disks.map((d) => d.syncs) }
})

const result = await Effect.runPromise(Effect.scoped(program))
// README example ends

describe("README example", () => {
  it("commits through the ReplicationGroup service, serves a strong read and survives replacing a replica", () => {
    assert.ok(result.slot >= 2, "the leader's opening no-op comes first")
    assert.equal(result.read.stalenessMs, 0)
    assert.ok(result.read.index >= result.slot)
    assert.ok(result.after > result.slot)
    assert.deepEqual(result.state.get(result.leader!), ["put a=1", "put b=2", "put c=3"])
    assert.ok(result.metrics.commits >= 3)
    assert.ok(
      result.syncs.every((n) => n > 0),
      "every replica (log replica 3 too) wrote its WAL through Storage",
    )
  })
})
