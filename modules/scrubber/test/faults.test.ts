import { describe, it } from "node:test"
import assert from "node:assert/strict"
import type { Scalar } from "@partita/btree"
import { type MemoryObjectStore, listSegments, readSegment } from "@partita/paxos"
import { Prng } from "@partita/sim"
import { Effect } from "effect"
import {
  type FaultKind,
  type InjectedFault,
  type ScrubEvent,
  ScrubberCore,
  SimPartition,
  applyNextAddTwice,
  flipArchivedSegmentBit,
  flipCheckpointBit,
  flipValueBit,
  flipWalRecordBit,
  listCheckpoints,
  loseNextWrite,
} from "../src/index.ts"
import { independentReference, newStore, padToBoundary, randomWrites, runWith } from "./support.ts"

const SEG = 16
const KINDS: FaultKind[] = [
  "value-bit-flip",
  "lost-write",
  "applied-twice",
  "wal-record-bit-flip",
  "archive-segment-bit-flip",
  "checkpoint-page-bit-flip",
]
const SEEDS_PER_KIND = 12

interface World {
  store: MemoryObjectStore
  p: SimPartition<Scalar>
  s: ScrubberCore<Scalar>
  events: ScrubEvent[]
  prng: Prng
}

const settle = (w: World): void => {
  padToBoundary(w.p, SEG)
  w.p.deliverAll()
  runWith(w.store, w.p.archivePending())
}

const setup = (seed: number): World => {
  const store = newStore()
  const p = new SimPartition({ entriesPerSegment: SEG, walRetainSegments: 4, snapshotsRetained: 3 })
  const prng = new Prng(seed)
  const s = new ScrubberCore([p], { checkpointEverySegments: 4 })
  const events: ScrubEvent[] = []
  s.onEvent((e) => events.push(e))
  const w = { store, p, s, events, prng }
  randomWrites(p, prng, 150 + prng.int(150), 40)
  settle(w)
  runWith(store, s.runCycle(0))
  assert.deepEqual(events, [], "a clean partition raises no event")
  return w
}

/**
 * Writes and partial deliveries while the scrubber works (concurrent foreground). They use their
 * own keys: an overwrite of a damaged key would heal it before the scrubber could see it.
 */
const concurrently = (w: World) => () => {
  randomWrites(w.p, w.prng, w.prng.int(3), 40, "c")
  const i = w.prng.int(3)
  w.p.deliver(i, w.prng.int(4))
}

const inject = (w: World, kind: FaultKind): InjectedFault => {
  const { p, store, prng } = w
  const r = prng.int(3)
  switch (kind) {
    case "value-bit-flip": {
      const items = [...p.replicas[r]!.tree.range()]
      const [k] = items[prng.int(items.length)]!
      return flipValueBit(p, r, k, prng.int(64), 1)
    }
    case "lost-write": {
      const f = loseNextWrite(p, r, 1)
      p.commit({
        op: "put",
        key: `k${String(prng.int(40)).padStart(5, "0")}`,
        value: `fresh${prng.nextU32()}`,
      })
      settle(w)
      return f
    }
    case "applied-twice": {
      const f = applyNextAddTwice(p, r, 1)
      p.commit({ op: "add", key: `nk${String(prng.int(40)).padStart(5, "0")}`, delta: 1 + prng.int(5) })
      settle(w)
      return f
    }
    case "wal-record-bit-flip": {
      const segs = p.replicas[r]!.localSegments()
      const m = segs[prng.int(segs.length)]!
      return flipWalRecordBit(p, r, m.firstPosition, prng.int(m.bytes), prng.int(8), 1)
    }
    case "archive-segment-bit-flip": {
      // A segment some replica still holds in its log (recoverable).
      const segs = p.replicas[r]!.localSegments()
      const m = segs[prng.int(segs.length)]!
      return flipArchivedSegmentBit(store, p.identity, m.firstPosition, prng.int(m.bytes), prng.int(8), 1)
    }
    case "checkpoint-page-bit-flip": {
      const cps = runWith(
        store,
        Effect.flatMap(Effect.succeed(store.service()), (svc) => listCheckpoints(svc, p.identity)),
      )
      const c = cps[cps.length - 1]!
      const bytes = [...store.objects.entries()].find(([k]) => k.includes("checkpoint"))![1]
      return flipCheckpointBit(store, p.identity, c, prng.int(bytes.length), prng.int(8), 1)
    }
    case "stored-bytes-rot":
      throw new Error("covered by deep.test.ts (needs byte values)")
  }
}

/** Keys where replica `r` differs from the independent reference (ground truth). */
const wrongKeys = (w: World, r: number): string[] => {
  const ref = independentReference(w.store, w.p, w.p.replicas[r]!.applied)
  const t = w.p.replicas[r]!.tree
  const keys = new Set<string>()
  for (const [k, v] of t.range()) if (ref.get(k) !== v) keys.add(k)
  for (const [k] of ref.range()) if (!t.has(k)) keys.add(k)
  return [...keys].sort()
}

const causeOf: Record<FaultKind, string[]> = {
  "value-bit-flip": ["replica-divergence"],
  "lost-write": ["replica-divergence", "reference-divergence"],
  "applied-twice": ["replica-divergence", "reference-divergence"],
  "wal-record-bit-flip": ["wal-record-corrupt"],
  "archive-segment-bit-flip": ["archive-segment-corrupt"],
  "checkpoint-page-bit-flip": ["checkpoint-corrupt"],
  "stored-bytes-rot": ["stored-data-rot"],
}

describe("fault injection: every kind detected within one cycle and repaired", () => {
  for (const kind of KINDS) {
    it(`${kind}: ${SEEDS_PER_KIND} seeds, 100 % detected, exact keys, repaired, replicas equal the archive reference`, () => {
      for (let seed = 1; seed <= SEEDS_PER_KIND; seed++) {
        const w = setup(seed * 97 + KINDS.indexOf(kind))
        const f = inject(w, kind)
        const truth = typeof f.replica === "number" && !kind.includes("wal") ? wrongKeys(w, f.replica) : []
        if (kind === "value-bit-flip" || kind === "lost-write" || kind === "applied-twice")
          assert.ok(truth.length > 0, `seed ${seed}: the fault changed the replica's state`)
        // One full cycle, with writes and deliveries going on between slices.
        runWith(w.store, w.s.runCycle(2, concurrently(w)))
        const detected = w.events.filter((e) => e.type === "detected")
        const mine = detected.filter((e) => causeOf[kind].includes(e.cause) && e.replica === f.replica)
        assert.ok(mine.length > 0, `seed ${seed}: ${kind} not detected; events ${JSON.stringify(w.events)}`)
        assert.equal(
          detected.length,
          mine.length,
          `seed ${seed}: nothing else flagged: ${JSON.stringify(detected)}`,
        )
        if (truth.length > 0)
          assert.deepEqual([...new Set(mine.flatMap((e) => e.keys ?? []))].sort(), truth, `seed ${seed}`)
        if (f.position !== undefined && kind !== "checkpoint-page-bit-flip")
          assert.equal(mine[0]!.positions?.first, f.position)
        const repaired = w.events.filter((e) => e.type === "repaired" && causeOf[kind].includes(e.cause))
        assert.ok(repaired.length > 0, `seed ${seed}: ${kind} not repaired; ${JSON.stringify(w.events)}`)
        assert.equal(w.events.filter((e) => e.type === "unrecoverable" || e.type === "unresolved").length, 0)
        // Quiescence: everything delivered and archived, another cycle finds nothing more.
        settle(w)
        const before = w.events.length
        runWith(w.store, w.s.runCycle(3))
        assert.deepEqual(w.events.slice(before), [], `seed ${seed}: repaired for good`)
        const ref = independentReference(w.store, w.p, w.p.committed)
        for (const r of w.p.replicas)
          assert.equal(r.tree.checksum(), ref.checksum(), `seed ${seed}: replica ${r.id}`)
        // Every archived segment verifies again; the checkpoint loads.
        for (const m of runWith(w.store, listSegments(w.p.identity)))
          runWith(w.store, readSegment(w.p.identity, m))
      }
    })
  }

  it("a damaged archive segment no replica log still holds is reported unrecoverable", () => {
    const w = setup(5)
    // Segment 1..16 is long truncated from every replica's log.
    assert.ok(w.p.replicas.every((r) => r.readLocalSegment(1) === undefined))
    flipArchivedSegmentBit(w.store, w.p.identity, 1, 200, 3)
    runWith(w.store, w.s.runCycle(1))
    const un = w.events.filter((e) => e.type === "unrecoverable")
    assert.equal(un.length, 1)
    assert.equal(un[0]!.cause, "archive-segment-corrupt")
    assert.deepEqual(un[0]!.positions, { first: 1, last: 16 })
    assert.equal(un[0]!.replica, "archive")
    // The replicas still agree with each other, and the reference from the checkpoint is intact.
    assert.equal(w.events.filter((e) => e.cause !== "archive-segment-corrupt").length, 0)
  })

  it("a missing archive segment (a hole) is re-archived from a replica's log, or reported unrecoverable", () => {
    const w = setup(11)
    const drop = (first: number) => {
      const tag = `${String(first).padStart(14, "0")}-`
      for (const k of [...w.store.objects.keys()]) if (k.includes(tag)) w.store.objects.delete(k)
    }
    const recent = w.p.replicas[0]!.localSegments().at(-2)!
    drop(recent.firstPosition)
    runWith(w.store, w.s.runCycle(1))
    const hole = w.events.filter((e) => e.cause === "archive-hole")
    assert.deepEqual(
      hole.map((e) => [e.type, e.positions]),
      [
        ["detected", { first: recent.firstPosition, last: recent.lastPosition }],
        ["repaired", { first: recent.firstPosition, last: recent.lastPosition }],
      ],
    )
    for (const m of runWith(w.store, listSegments(w.p.identity)))
      runWith(w.store, readSegment(w.p.identity, m))
    drop(1)
    runWith(w.store, w.s.runCycle(2))
    const last = w.events.filter((e) => e.cause === "archive-hole").slice(2)
    assert.deepEqual(
      last.map((e) => e.type),
      ["detected", "unrecoverable"],
    )
    assert.deepEqual(last[1]!.positions, { first: 1, last: SEG })
  })

  it("a damaged archive manifest is reported as an archive problem naming it, and the replicas are still compared", () => {
    const w = setup(77)
    const key = [...w.store.objects.keys()].find((k) => k.endsWith(".manifest.json"))!
    const bytes = w.store.objects.get(key)!
    w.store.objects.set(key, bytes.subarray(0, bytes.length - 2))
    // a replica fault the replica comparison (check 6) must still find without the archive
    const items = [...w.p.replicas[1]!.tree.range()]
    flipValueBit(w.p, 1, items[3]![0], 5, 1)
    runWith(w.store, w.s.runCycle(1))
    assert.ok(
      w.events.some(
        (e) => e.replica === "archive" && e.cause === "archive-unreachable" && e.detail.includes(key),
      ),
      JSON.stringify(w.events),
    )
    assert.ok(
      w.events.some((e) => e.type === "detected" && e.replica === 1),
      JSON.stringify(w.events),
    )
  })

  it("with one replica down, the reference decides between the two that remain", () => {
    const w = setup(23)
    w.p.replicas[2]!.live = false
    loseNextWrite(w.p, 1)
    w.p.commit({ op: "put", key: "k00007", value: "only on replica 0" })
    padToBoundary(w.p, SEG)
    w.p.deliver(0)
    w.p.deliver(1)
    runWith(w.store, w.p.archivePending())
    runWith(w.store, w.s.runCycle(1))
    const det = w.events.filter((e) => e.type === "detected")
    assert.deepEqual(
      det.map((e) => [e.replica, e.cause, e.keys]),
      [[1, "reference-divergence", ["k00007"]]],
    )
    assert.equal(w.p.replicas[1]!.tree.get("k00007"), "only on replica 0")
  })

  it("all fault kinds at once in one partition, and a lost write on two partitions: one cycle finds them all", () => {
    const w = setup(77)
    const q = new SimPartition({ partition: "p1", entriesPerSegment: SEG })
    randomWrites(q, w.prng, 200, 40)
    padToBoundary(q, SEG)
    q.deliverAll()
    runWith(w.store, q.archivePending())
    w.s.addPartition(q)
    runWith(w.store, w.s.runCycle(0))
    assert.deepEqual(w.events, [])
    const faults = [
      inject(w, "value-bit-flip"),
      inject(w, "wal-record-bit-flip"),
      inject(w, "archive-segment-bit-flip"),
      inject(w, "checkpoint-page-bit-flip"),
    ]
    loseNextWrite(q, 1)
    q.commit({ op: "put", key: "k00001", value: "lost" })
    q.deliverAll()
    runWith(w.store, w.s.runCycle(1))
    const seen: ScrubEvent[] = w.events
    for (const f of faults)
      assert.ok(
        seen.some(
          (e) => e.type === "detected" && e.partition === "t/p0" && causeOf[f.kind].includes(e.cause),
        ),
        f.kind,
      )
    assert.ok(seen.some((e) => e.type === "repaired" && e.partition === "t/p1" && e.replica === 1))
    const ref = (pp: SimPartition<Scalar>) => independentReference(w.store, pp, pp.committed)
    settle(w)
    padToBoundary(q, SEG)
    q.deliverAll()
    runWith(w.store, q.archivePending())
    runWith(w.store, w.s.runCycle(2))
    for (const r of w.p.replicas) assert.equal(r.tree.checksum(), ref(w.p).checksum())
    for (const r of q.replicas) assert.equal(r.tree.checksum(), ref(q).checksum())
  })
})
