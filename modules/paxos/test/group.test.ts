import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { Effect } from "effect"
import {
  ENTRY_COMMAND,
  type Entry,
  MemoryObjectStore,
  MemoryObjectStoreLayer,
  type Membership,
  listSegments,
  makeReplicationGroup,
  rebuildFromArchive,
} from "@partita/paxos"

const config: Membership = {
  members: [
    { id: 0, role: "storage", zone: "az1" },
    { id: 1, role: "storage", zone: "az2" },
    { id: 2, role: "log", zone: "az3" },
  ],
}
const ID = { table: "t1", partition: "p0" }
const dec = new TextDecoder()

describe("ReplicationGroup service with WAL archiving", () => {
  it("archives on every replica (one upload, the others compare), log replica included, and the archive rebuilds the state", async () => {
    const store = new MemoryObjectStore()
    const applied: string[] = []
    const prog = Effect.gen(function* () {
      const g = yield* makeReplicationGroup({
        config,
        electionTimeoutMs: 200,
        heartbeatMs: 20,
        leaseMs: 100,
        apply: (id, e) => {
          if (id === 0 && e.kind === ENTRY_COMMAND) applied.push(dec.decode(e.data))
        },
        archive: { id: ID, store: store.service(), entriesPerSegment: 16 },
      })
      let n = 0
      while (n < 100) {
        const r = yield* Effect.either(g.propose(new TextEncoder().encode(`put k${n % 5}=${n}`)))
        if (r._tag === "Right") n++
        else yield* Effect.sleep(20)
      }
      yield* Effect.sleep(100)
      return yield* g.metrics
    })
    const m = await Effect.runPromise(Effect.scoped(prog))
    const segs = await Effect.runPromise(listSegments(ID).pipe(Effect.provide(MemoryObjectStoreLayer(store))))
    assert.ok(segs.length >= 6, `segments: ${segs.length}`)
    assert.equal(m.archiveUploads, segs.length)
    assert.equal(
      m.archiveVerified,
      2 * segs.length,
      "the two other replicas downloaded and compared each segment",
    )
    assert.deepEqual(m.archiveMismatches, [])
    assert.ok(m.archivedThrough >= segs[segs.length - 1]!.lastPosition)
    const through = segs[segs.length - 1]!.lastPosition
    const rebuilt = await Effect.runPromise(
      rebuildFromArchive(ID, through, [] as string[], (s, e: Entry) =>
        e.kind === ENTRY_COMMAND ? [...s, dec.decode(e.data)] : s,
      ).pipe(Effect.provide(MemoryObjectStoreLayer(store))),
    )
    assert.equal(rebuilt.through, through)
    assert.deepEqual(rebuilt.state, applied.slice(0, rebuilt.state.length))
    assert.ok(rebuilt.state.length >= 90)
  })
})
