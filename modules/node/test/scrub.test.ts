import assert from "node:assert/strict"
import { describe, it } from "node:test"
import {
  CallbackClient,
  type ClusterConfig,
  decodeCommand,
  flipLocalWalBit,
  flipStoredValueBit,
  loseNextWriteOn,
  type NodeFault,
  runScenario,
  type SimCluster,
  simCluster,
} from "@partita/node"
import { ObjectStore, crc32c, rebuildFromArchive } from "@partita/paxos"
import { flipArchivedSegmentBit, type InjectedFault } from "@partita/scrubber"
import { Effect, Exit } from "effect"
import { onDemandTable } from "./support.ts"

// The real @partita/scrubber running underneath a simulated cluster: every storage node scrubs the
// partitions it owns as background work, over ports on its replicas' B-trees, WAL segments and
// the WAL archive.

const TABLE = "scrubbed"
const SEGMENT_ENTRIES = 16

const makeCluster = (seed: number, extra: ClusterConfig = {}): SimCluster => {
  const c = simCluster(seed, {
    nodes: 6,
    routers: 1,
    archive: { entriesPerSegment: SEGMENT_ENTRIES },
    scrub: {},
    ...extra,
  })
  onDemandTable(c, TABLE, 3)
  return c
}

/** Issues writes every `gapMs` (keys from `keyOf`), recording what each key must hold at the end. */
const writes = (
  c: SimCluster,
  expected: Map<string, string | undefined>,
  count: number,
  gapMs: number,
  keyOf: (i: number) => string,
  tag: string,
  stats: { issued: number; acked: number },
): void => {
  const client = new CallbackClient(c.meta, c.routers)
  for (let i = 0; i < count; i++)
    c.sim.schedule(i * gapMs, () => {
      const id = keyOf(i)
      const v = `${tag}-${i}`
      const del = i % 7 === 6
      stats.issued++
      // Writes to one key are seconds apart, so the last issued is the last applied.
      expected.set(id, del ? undefined : v)
      if (del) client.deleteItem({ TableName: TABLE, Key: { id: { S: id } } }, (r) => r.ok && stats.acked++)
      else
        client.putItem(
          { TableName: TABLE, Item: { id: { S: id }, v: { S: v } } },
          (r) => r.ok && stats.acked++,
        )
    })
}

/** Strong reads of every key; the keys whose value is not the expected one. */
const readBack = (c: SimCluster, expected: Map<string, string | undefined>): string[] => {
  const client = new CallbackClient(c.meta, c.routers)
  const bad: string[] = []
  let open = 0
  for (const [id, v] of expected) {
    open++
    client.getItem({ TableName: TABLE, Key: { id: { S: id } }, ConsistentRead: true }, (r) => {
      open--
      const got = r.ok ? ((r.value.Item?.v as { S?: string } | undefined)?.S ?? undefined) : "error"
      if (got !== v) bad.push(`${id}: ${got} != ${v}`)
    })
  }
  for (let i = 0; i < 100 && open > 0; i++) c.runFor(100)
  assert.equal(open, 0, "reads did not finish")
  return bad
}

/**
 * Every partition: its storage replicas' checksums equal, and their items equal the reference
 * rebuilt independently from the archive (paxos' `rebuildFromArchive`) plus the leader's log tail.
 */
const convergenceProblems = (c: SimCluster): string[] => {
  const problems: string[] = []
  const store = c.objectStore!.service()
  for (const p of c.meta.partitionMap(TABLE)!.partitions) {
    const reps = c.replicasOf(p.id).filter((x) => x.replica.spec.role === "storage")
    if (reps.length !== 3) problems.push(`${p.id}: ${reps.length} storage replicas`)
    const sums = new Set(reps.map((x) => `${x.replica.summary().checksum}/${x.replica.summary().items}`))
    if (sums.size !== 1) problems.push(`${p.id}: replicas differ (${[...sums].join(" ")})`)
    const l = reps.find((x) => x.replica.isLeader())?.replica ?? reps[0]!.replica
    const apply = (m: Map<string, string>, e: { kind: number; data: Uint8Array }): Map<string, string> => {
      if (e.kind !== 0) return m
      const cmd = decodeCommand(e.data)
      if (cmd.kind === "write") {
        if (cmd.text === undefined) m.delete(cmd.key)
        else m.set(cmd.key, cmd.text)
      }
      return m
    }
    const rebuilt = Effect.runSyncExit(
      rebuildFromArchive({ table: TABLE, partition: p.id }, l.applied, new Map<string, string>(), apply).pipe(
        Effect.provideService(ObjectStore, store),
      ),
    )
    if (Exit.isFailure(rebuilt)) {
      problems.push(`${p.id}: archive unreadable`)
      continue
    }
    const ref = rebuilt.value.state
    for (let slot = rebuilt.value.through + 1; slot <= l.applied; slot++) apply(ref, l.core.entry(slot)!)
    for (const { node, replica } of reps) {
      let same = ref.size === replica.tree.size
      if (same) for (const [k, v] of replica.tree.range()) if (ref.get(k) !== v.text) same = false
      if (!same) problems.push(`${p.id}: replica on ${node} differs from the archive reference`)
    }
  }
  return problems
}

/** Runs until every scrubbing node has completed `n` more full cycles; returns the time it took. */
const runCycles = (c: SimCluster, n: number): number => {
  const start = c.sim.now
  const target = c.scrub!.cyclesCompleted() + n
  for (let i = 0; i < 600 && c.scrub!.cyclesCompleted() < target; i++) c.runFor(10)
  assert.ok(c.scrub!.cyclesCompleted() >= target, "the scrubbers did not complete their cycles")
  return c.sim.now - start
}

type Fault = NodeFault | InjectedFault

/** Injects the four faults of the issue, one per partition where possible; returns them. */
const injectFaults = (c: SimCluster): Fault[] => {
  const scrub = c.scrub!
  const pids = c.meta.partitionMap(TABLE)!.partitions.map((p) => p.id)
  const follower = (pid: string, k: number) => c.replicasOf(pid).filter((x) => x.node !== c.leaderOf(pid))[k]!
  // 1. Bit rot in a stored value of a key the workload never writes again.
  const a = follower(pids[0]!, 0)
  let cold: string | undefined
  a.replica.tree.forRange(undefined, (k, v) => {
    if (cold === undefined && v.text.includes('"cold-')) cold = k
  })
  assert.ok(cold !== undefined, "no cold key in the first partition")
  const flip = flipStoredValueBit(scrub, a.replica, c.node(a.node), cold)
  // 2. A lost write on a follower of the second partition (the next write it applies).
  const b = follower(pids[1]!, 1)
  const lost = loseNextWriteOn(scrub, b.replica, c.node(b.node))
  // 3. A flipped bit in a sealed local WAL segment of a replica of the third partition.
  const w = follower(pids[2]!, 0)
  const wal = flipLocalWalBit(scrub, w.replica, c.node(w.node), 200, 5)
  // 4. A flipped bit in a recent archived segment of the third partition (replica logs still hold it).
  const archivedThrough = Math.min(...c.replicasOf(pids[2]!).map((x) => x.replica.archiver!.archivedThrough))
  const first = archivedThrough - 2 * SEGMENT_ENTRIES + 1
  const arch = flipArchivedSegmentBit(
    c.objectStore!,
    { table: TABLE, partition: pids[2]! },
    first,
    300,
    2,
    c.sim.now,
  )
  return [flip, lost, wal, arch]
}

/** The detection and repair events of each fault (by partition, replica, key or positions). */
const eventsOf = (c: SimCluster, f: Fault) =>
  c.scrubEvents().filter((e) => {
    if (e.partition !== `${TABLE}/${f.partition.replace(`${TABLE}/`, "")}`) return false
    if (e.replica !== f.replica) return false
    if (f.kind === "value-bit-flip") return e.keys?.includes(f.key!) === true
    if (f.kind === "lost-write") return e.cause.endsWith("divergence")
    if (f.kind === "wal-record-bit-flip")
      return e.cause === "wal-record-corrupt" && e.positions?.first === f.position
    return e.cause === "archive-segment-corrupt" && e.positions?.first === f.position
  })

describe("the scrubber underneath the cluster", () => {
  it("finds each fault within one cycle, repairs it, and no acknowledged write is lost", () => {
    for (const seed of [1, 2, 3]) {
      const c = makeCluster(seed)
      const expected = new Map<string, string | undefined>()
      const stats = { issued: 0, acked: 0 }
      // Cold keys (never written again), hot keys overwritten and deleted, then only new keys.
      writes(c, expected, 150, 4, (i) => `c${i}`, "cold", stats)
      c.runFor(1000)
      writes(c, expected, 600, 5, (i) => `h${i % 120}`, "hot", stats)
      c.runFor(3500)
      writes(c, expected, 800, 5, (i) => `n${i}`, "new", stats)
      c.runFor(1500)
      assert.deepEqual(c.scrubEvents(), [], `seed ${seed}: events before any fault`)
      const faults = injectFaults(c)
      const injectedAt = c.sim.now
      // A repaired local WAL segment verifies again at once (before the log retires it).
      const walFault = faults.find((f) => f.kind === "wal-record-bit-flip") as NodeFault
      let walVerified = false
      c.scrub!.onEvent((e) => {
        if (e.type !== "repaired" || e.cause !== "wal-record-corrupt") return
        const port = c.scrub!.portOf(
          c.node(walFault.node).replicas.get(walFault.partition)!,
          c.node(walFault.node),
        )
        const m = port.localSegments().find((x) => x.firstPosition === walFault.position)!
        walVerified = crc32c(port.readLocalSegment(m.firstPosition)!) === m.crc32c
      })
      // Within one cycle: the cycle in progress may have passed the damage; the next one may not.
      const ms = runCycles(c, 2)
      for (const f of faults) {
        const evs = eventsOf(c, f)
        const found = evs.find((e) => e.type === "detected")
        assert.ok(found !== undefined, `seed ${seed}: ${f.kind} not detected in ${ms} ms`)
        assert.ok(found.atMs - injectedAt <= ms)
        assert.ok(
          evs.some((e) => e.type === "repaired" && e.atMs >= found.atMs),
          `seed ${seed}: ${f.kind} not repaired`,
        )
      }
      assert.ok(walVerified, `seed ${seed}: the local WAL segment was not rewritten`)
      // Nothing else was flagged: every event belongs to an injected fault.
      const mine = new Set(faults.flatMap((f) => eventsOf(c, f)))
      const other = c.scrubEvents().filter((e) => !mine.has(e))
      assert.deepEqual(other, [], `seed ${seed}: unexpected events`)
      assert.ok(c.scrubEvents().every((e) => e.type === "detected" || e.type === "repaired"))
      // The workload ends; the archive catches up; a clean cycle after the repairs.
      c.runFor(3000)
      const before = c.scrubEvents().length
      runCycles(c, 2)
      assert.equal(c.scrubEvents().length, before, `seed ${seed}: a repaired fault was found again`)
      assert.equal(stats.acked, stats.issued, `seed ${seed}: writes not acknowledged`)
      assert.deepEqual(readBack(c, expected), [], `seed ${seed}: acknowledged writes lost`)
      assert.deepEqual(convergenceProblems(c), [], `seed ${seed}`)
      const m = c.scrubMetrics()!
      assert.ok(m.detections >= 4 && m.repairs >= 4, JSON.stringify(m))
      assert.ok(m.referenceBytes > 0, "the reference was never built")
      assert.equal(m.unrecoverable, 0)
      // Scrub events are cluster events too (logged by `effectLogger`).
      assert.equal(c.meta.events.filter((e) => e.type === "scrub").length, c.scrubEvents().length)
    }
  })

  it("the same faults without the scrubber are caught by the end checks (the test can fail)", () => {
    const c = makeCluster(1)
    const expected = new Map<string, string | undefined>()
    const stats = { issued: 0, acked: 0 }
    writes(c, expected, 150, 4, (i) => `c${i}`, "cold", stats)
    c.runFor(1000)
    writes(c, expected, 800, 5, (i) => `n${i}`, "new", stats)
    c.runFor(1500)
    // The scrubber's taps are attached (it ran so far); take its repairs away from here on.
    const scrub = c.scrub!
    scrub.run = () => {}
    injectFaults(c)
    c.runFor(6000)
    assert.deepEqual(c.scrubEvents(), [])
    const problems = convergenceProblems(c)
    assert.ok(
      problems.some((p) => p.includes("replicas differ")),
      problems.join("; "),
    )
    assert.ok(
      problems.some((p) => p.includes("archive unreadable")),
      problems.join("; "),
    )
  })

  it("reports nothing on clean runs, through leader kills and node restarts (several seeds)", () => {
    for (const seed of [11, 12, 13, 14, 15, 16]) {
      const c = makeCluster(seed, seed % 2 === 0 ? { scrub: { deepVerify: true } } : {})
      const expected = new Map<string, string | undefined>()
      const stats = { issued: 0, acked: 0 }
      writes(c, expected, 1500, 4, (i) => `k${(i * 7919) % 400}`, "w", stats)
      const pid = c.meta.partitionMap(TABLE)!.partitions[seed % 3]!.id
      c.sim.schedule(2000, () => {
        const l = c.killLeader(pid)
        if (l !== undefined) c.sim.schedule(1500, () => c.restartNode(l))
      })
      c.runFor(9000)
      runCycles(c, 2)
      assert.deepEqual(c.scrubEvents(), [], `seed ${seed}: false positives`)
      assert.deepEqual(convergenceProblems(c), [], `seed ${seed}`)
      const m = c.scrubMetrics()!
      assert.ok(m.cycles > 10 && m.referenceBytes > 0, JSON.stringify(m))
      if (seed % 2 === 0) assert.ok(m.bytesRead > m.referenceBytes)
    }
  })

  it("runs in the end-to-end scenario: the flipped follower value is repaired, nothing else flagged, replayable", () => {
    const opts = {
      seed: 3,
      durationMs: 3000,
      faultKinds: ["kill-leader", "crash-node", "split"] as const,
      cluster: { archive: { entriesPerSegment: 16 } },
    }
    const a = runScenario({ ...opts, faultKinds: [...opts.faultKinds] })
    assert.ok(a.scrub !== undefined && a.scrub.injected !== undefined, JSON.stringify(a.scrub))
    assert.equal(a.scrub.repaired, true)
    assert.deepEqual(a.scrub.unexpected, [])
    assert.deepEqual([a.divergent, a.archiveMismatch, a.linearizable], [[], [], "linearizable"])
    assert.deepEqual(runScenario({ ...opts, faultKinds: [...opts.faultKinds] }), a)
    assert.equal(runScenario({ ...opts, faultKinds: [...opts.faultKinds], scrub: false }).scrub, undefined)
  })

  it("replicas-only mode (no archive): a lost write is found by replica comparison", () => {
    const c = makeCluster(5, { archive: undefined, scrub: { replicasOnly: true } })
    const expected = new Map<string, string | undefined>()
    const stats = { issued: 0, acked: 0 }
    writes(c, expected, 200, 5, (i) => `n${i}`, "new", stats)
    c.runFor(500)
    const pid = c.meta.partitionMap(TABLE)!.partitions[0]!.id
    const f = c.replicasOf(pid).find((x) => x.node !== c.leaderOf(pid))!
    loseNextWriteOn(c.scrub!, f.replica, c.node(f.node))
    c.runFor(1500)
    runCycles(c, 2)
    const evs = c.scrubEvents()
    assert.ok(
      evs.some((e) => e.type === "repaired" && e.cause === "replica-divergence" && e.replicaNode === f.node),
      JSON.stringify(evs),
    )
    assert.equal(c.scrubMetrics()!.referenceBytes, 0)
    const sums = new Set(c.replicasOf(pid).map((x) => x.replica.summary().checksum))
    assert.equal(sums.size, 1)
    assert.deepEqual(readBack(c, expected), [])
  })
})
