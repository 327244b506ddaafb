import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { type FaultKind, runScenario, type ScenarioReport } from "@partita/node"

// Every seed is a whole cluster (6 storage nodes in 3 AZs, 2 routers, MemDS, GAC, metadata)
// running conditional writes and strong reads through leader kills, AZ partitions, node crashes
// (with and without losing the disk) and live splits. PARTITA_SEEDS raises the count (CI default: 200).
const SEEDS = Number(process.env.PARTITA_SEEDS ?? 200)
const FIRST_SEED = Number(process.env.PARTITA_SEED_BASE ?? 1000)

// Archiving seeds run the scrubber underneath: the follower value it was given to find must be
// repaired, and nothing else flagged through the faults.
const scrubFailed = (r: ScenarioReport): boolean =>
  r.scrub !== undefined &&
  ((r.scrub.injected !== undefined && !r.scrub.repaired) || r.scrub.unexpected.length > 0)

/** A run fails: not linearizable, replicas differ, the archive's reference differs, or the scrubber missed. */
const broken = (r: ScenarioReport): boolean =>
  r.linearizable !== "linearizable" ||
  r.divergent.length > 0 ||
  r.archiveMismatch.length > 0 ||
  scrubFailed(r)

/**
 * Seeds `first..first+n` on simulated disks, 4 faults each drawn from `kinds`; every other seed
 * compacts aggressively and archives. A seed fails the usual checks, or `alsoFails`. Returns the
 * failed seeds and the disk figures summed.
 */
const diskFaultSweep = (
  first: number,
  n: number,
  kinds: ReadonlyArray<FaultKind>,
  alsoFails: (r: ScenarioReport) => boolean = () => false,
) => {
  const failures: string[] = []
  let corrupt = 0
  let fsyncFailures = 0
  let recoveries = 0
  let tornBytes = 0
  let unreadable = 0
  for (let s = first; s < first + n; s++) {
    const r = runScenario({
      seed: s,
      durationMs: 4000,
      clients: 5,
      faults: 4,
      faultKinds: [...kinds],
      ...(s % 2 === 0
        ? { cluster: { timing: { compactEntries: 60 }, archive: { entriesPerSegment: 32 } } }
        : {}),
    })
    corrupt += r.disk?.corrupt ?? 0
    fsyncFailures += r.disk?.fsyncFailures ?? 0
    recoveries += r.disk?.recoveries ?? 0
    tornBytes += r.disk?.tornBytes ?? 0
    unreadable += r.disk?.unreadable ?? 0
    if (broken(r) || alsoFails(r))
      failures.push(
        `seed ${s}: ${r.linearizable} ${r.divergent.join("; ")} ${r.archiveMismatch.join("; ")} disk: ${JSON.stringify(r.disk)} scrub: ${JSON.stringify(r.scrub)} faults: ${r.faults.join(" | ")}`,
      )
  }
  return { failures, corrupt, fsyncFailures, recoveries, tornBytes, unreadable }
}

/** One disk fault (drawn twice as often as each other fault, injected once per run). */
const withFault = (fault: FaultKind): FaultKind[] => [fault, fault, "kill-leader", "crash-node", "split"]

/** `n` seeds from `base`. */
const seedRange = (base: number, n: number): number[] => Array.from({ length: n }, (_, i) => base + i)

/** The heavier stress runs: 8 clients on 8 keys of 4 partitions for 8 s with 6 faults; the failed seeds. */
const stressSweep = (
  seeds: ReadonlyArray<number>,
  lateDefer: boolean,
  stats: { learnersHeldBack: number } = { learnersHeldBack: 0 },
): string[] => {
  const failures: string[] = []
  for (const s of seeds) {
    const r = runScenario({
      seed: s,
      durationMs: 8000,
      clients: 8,
      keys: 8,
      faults: 6,
      partitions: 4,
      faultKinds: ["kill-leader", "partition-az", "crash-node", "wipe-node", "split"],
      cluster: {
        ...(lateDefer ? { lateDefer: true } : {}),
        ...(s % 3 === 0 ? { timing: { compactEntries: 50 }, archive: { entriesPerSegment: 16 } } : {}),
      },
    })
    stats.learnersHeldBack += r.learnersHeldBack
    if (broken(r))
      failures.push(
        `seed ${s}${lateDefer ? " (lateDefer)" : ""}: ${r.linearizable} ${r.divergent.join("; ")} ${r.archiveMismatch.join("; ")} scrub: ${JSON.stringify(r.scrub)}`,
      )
  }
  return failures
}

describe("the whole cluster under faults (seeded simulation)", () => {
  it(`is linearizable per key, loses no acknowledged write and ends with identical replicas (${SEEDS} seeds)`, () => {
    const failures: string[] = []
    let acknowledged = 0
    let splits = 0
    for (let s = FIRST_SEED; s < FIRST_SEED + SEEDS; s++) {
      const r = runScenario({
        seed: s,
        durationMs: 4000,
        clients: 5,
        faultKinds: ["kill-leader", "partition-az", "crash-node", "wipe-node", "split"],
        // Every other seed compacts its logs aggressively and archives its WAL.
        ...(s % 2 === 0
          ? { cluster: { timing: { compactEntries: 60 }, archive: { entriesPerSegment: 32 } } }
          : {}),
      })
      acknowledged += r.ok
      splits += r.splits
      if (broken(r))
        failures.push(
          `seed ${s}: ${r.linearizable} ${r.badKeys.join(",")} ${r.divergent.join("; ")} ${r.archiveMismatch.join("; ")} scrub: ${JSON.stringify(r.scrub)} faults: ${r.faults.join(" | ")}`,
        )
    }
    assert.deepEqual(failures, [])
    assert.ok(acknowledged > SEEDS * 100, `only ${acknowledged} acknowledged operations`)
    assert.ok(splits > 0, "no split happened in any seed")
  })

  it("holds under heavier stress: 6 faults in 8 s on 4 partitions (PARTITA_STRESS_SEEDS, default 40)", () => {
    // PARTITA_LATE_DEFER=1: deferred work sometimes runs late, as on real time (`lateDefer`).
    const late = process.env.PARTITA_LATE_DEFER === "1"
    const n = Number(process.env.PARTITA_STRESS_SEEDS ?? 40)
    assert.deepEqual(stressSweep(seedRange(Number(process.env.PARTITA_STRESS_BASE ?? 600), n), late), [])
  })

  it("holds under heavier stress with deferred work sometimes running late, as on real time (PARTITA_LATE_STRESS_SEEDS, default 40)", () => {
    // `lateDefer` found the heal liveness gap that learners closed (a replacement counted in the
    // quorum before it could vote: seeds 620 and 769 at the time).
    const n = Number(process.env.PARTITA_LATE_STRESS_SEEDS ?? 40)
    assert.deepEqual(
      stressSweep(seedRange(Number(process.env.PARTITA_LATE_STRESS_BASE ?? 1100), n), true),
      [],
    )
  })

  it("holds where a heal's caught-up storage learner waits for the failed member's removal before it votes", () => {
    // Seeds that take that path (the removal's guard holds only with the learner counted as a
    // holder of the data): the group then never has four voters of which the failed one is one.
    // Which seeds do depends on the schedules: a change that moves them can need new ones (a
    // sweep counting `learnersHeldBack` finds them).
    const stats = { learnersHeldBack: 0 }
    assert.deepEqual(stressSweep([641, 766, 799, 839, 851, 860], false, stats), [])
    assert.ok(stats.learnersHeldBack >= 4, `${stats.learnersHeldBack} heals held their learner back`)
  })

  it("keeps the seeds that once failed (stress settings, beyond the default count)", () => {
    // 942 (pre-vote denied by a member that missed the configuration adding the candidate: no
    // leader ever) and 1262 failed before the pre-vote fix; 1125 (a replica rebuilt on a node
    // that hosted an earlier member voted with an empty log: an acknowledged write lost) and
    // 693 (a joining storage replica lost its disk: the heal waited forever) failed with the
    // router and heal-placement changes of the availability fixes, before the vote hold. 150147
    // (a split child inherited a log member whose node, down during the split, never hosted it:
    // the heal waited for it forever and the scrubber had no majority) failed once leaders took
    // requests between a commit and its apply, before the heal recreated such a member. 200081
    // (not linearizable: a CAS decided against a pending put was committed by a later leader
    // without the put) and 200029 failed before decisions that read the item waited for the
    // key's pending proposals. 160288 (a heal's replacement on a reused node held its votes while
    // counting in the quorum; one more loss left the group without a quorum for good) failed
    // before replacements joined as learners. 241128 with lateDefer (the scrubber's flipped value
    // not repaired: the run waited for two cycles of the fastest-cycling node, not of the node that
    // scrubs the damaged partition) failed before the scenario waited for that node. 280715 with
    // lateDefer (a split adopted while the only nodes that had applied its fence were down created
    // no log-replica children; with one more node wiped the children had no quorum for good)
    // failed before the metadata service read the children's group from the down nodes' disks.
    // 331580 (a log member's node down when the split was adopted: its child was never created,
    // and one more wiped node left the child without a quorum) failed before those children were
    // kept owed and created once their node is back. 330321 (a heal chose the failed member's
    // own node, back with its disk, for the replacement and wiped its copy: the new incarnation
    // held its votes, the removal of the old one was not known committed, and with the leader
    // wiped, two of the four voters were left) failed before such a copy was kept. 340155 (a
    // split child's heal, carried on from its parent's whose replacement was on the failed node
    // itself, removed that replacement as the failed member: two replicas left) failed before
    // the child's heal knew the failed member was already out.
    const failures = [
      ...stressSweep([693, 942, 1125, 1262, 150147, 160288, 200029, 200081, 330321, 331580, 340155], false),
      ...stressSweep([241128, 280715], true),
    ]
    // Bit rot seed 5063: a rotted frame with nothing valid after it, inside the fsynced length,
    // read as a torn tail; the recovery then found no marker for its snapshot and threw.
    failures.push(...diskFaultSweep(5063, 1, withFault("wal-bit-rot")).failures)
    // Misdirected-write seed 697: a snapshot state file written at another offset read back
    // with its "has data" byte zero, and the restarted replica opened an empty tree at the
    // snapshot's index (its items gone) before the state files were checksummed.
    const misdirected = diskFaultSweep(697, 1, withFault("misdirected-write"))
    failures.push(...misdirected.failures)
    assert.equal(misdirected.unreadable, 1, "seed 697 no longer damages a state file")
    assert.deepEqual(failures, [])
  })

  it("survives partial disk faults: torn and lost un-fsynced writes, recovered from the WAL (PARTITA_DISK_SEEDS, default 100)", () => {
    // The nodes' logs are WALs on simulated disks; besides the usual faults, power losses in the
    // middle of a write (pieces kept, torn or lost) and losses of everything not fsynced, and every
    // crash tears or drops what was not fsynced (commit-index frames are written without fsync).
    const n = Number(process.env.PARTITA_DISK_SEEDS ?? 100)
    const r = diskFaultSweep(
      3000,
      n,
      ["kill-leader", "crash-node", "wipe-node", "split", "torn-write", "lose-unsynced"],
      // Torn and lost writes are past the last fsync: no recovery may find corruption.
      (x) => (x.disk?.corrupt ?? 0) > 0,
    )
    assert.deepEqual(r.failures, [])
    const { recoveries, tornBytes: torn } = r
    assert.ok(recoveries > n, `only ${recoveries} WAL recoveries`)
    assert.ok(torn > 0, "no torn tail was ever recovered")
  })

  it("survives bit rot in a node's WAL: damaged frames found, only a trusted prefix kept, caught up before voting (PARTITA_ROT_SEEDS, default 40)", () => {
    // Once per run a node is crashed, 1-3 random bits are flipped in each of its WAL files, and
    // it is restarted; the other faults go on as usual.
    const r = diskFaultSweep(5000, Number(process.env.PARTITA_ROT_SEEDS ?? 40), withFault("wal-bit-rot"))
    assert.deepEqual(r.failures, [])
    assert.ok(r.corrupt > 0, "no recovery ever found a damaged frame")
  })

  it("survives failed fsyncs: the replica stops, is given up and replaced (PARTITA_FSYNC_SEEDS, default 40)", () => {
    // Once per run, one node's next 1-2 fsyncs fail, among leader kills, crashes and splits.
    const r = diskFaultSweep(7000, Number(process.env.PARTITA_FSYNC_SEEDS ?? 40), withFault("fsync-error"))
    assert.deepEqual(r.failures, [])
    assert.ok(r.fsyncFailures > 0, "no replica was ever given up after a failed fsync")
  })

  it("survives rotted state files: the replicas are left out of the restart and healed (PARTITA_STATEROT_SEEDS, default 40)", () => {
    // Once per run a node is crashed, bits flip in 1-2 of its state files (spec, split base,
    // snapshot), and it is restarted; the other faults go on as usual.
    const r = diskFaultSweep(
      11000,
      Number(process.env.PARTITA_STATEROT_SEEDS ?? 40),
      withFault("state-file-rot"),
    )
    assert.deepEqual(r.failures, [])
    assert.ok(r.unreadable > 10, `only ${r.unreadable} replicas were left out of a restart`)
  })

  it("survives misdirected writes: a WAL write lands elsewhere in its file, found at the next recovery (PARTITA_MISDIRECT_SEEDS, default 40)", () => {
    // Once per run, one node's next 1-2 disk writes land at another offset of their file; the
    // node is crashed and restarted later, so it recovers from the damaged file.
    const r = diskFaultSweep(
      9000,
      Number(process.env.PARTITA_MISDIRECT_SEEDS ?? 40),
      withFault("misdirected-write"),
    )
    assert.deepEqual(r.failures, [])
    assert.ok(r.corrupt > 0, "no recovery ever found a misdirected write")
  })

  it("replays a seed exactly", () => {
    const a = runScenario({ seed: 7, durationMs: 3000, faultKinds: ["kill-leader", "split"] })
    const b = runScenario({ seed: 7, durationMs: 3000, faultKinds: ["kill-leader", "split"] })
    assert.deepEqual(a, b)
  })

  it("catches stale strong reads: the same checks fail with the strong-reads-anywhere canary", () => {
    let caught = 0
    for (let s = 1; s <= 10 && caught === 0; s++) {
      const r = runScenario({
        seed: s,
        durationMs: 4000,
        faultKinds: ["partition-az", "kill-leader"],
        cluster: { canaryStrongReadsAnywhere: true },
      })
      if (r.linearizable === "not-linearizable") caught++
    }
    assert.ok(caught > 0, "the canary went unnoticed in 10 seeds")
  })
})
