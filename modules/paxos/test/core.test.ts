import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { PaxosCore, isSingleChange } from "../src/internal/core.ts"
import type { Entry, Membership, Message, PrepareMsg } from "../src/internal/types.ts"
import { ENTRY_COMMAND, makeBallot } from "../src/internal/types.ts"
import { Interaction } from "./support/interaction.ts"

const three: Membership = {
  members: [
    { id: 0, role: "storage", zone: "az1" },
    { id: 1, role: "storage", zone: "az2" },
    { id: 2, role: "storage", zone: "az3" },
  ],
}
const elected = (): Interaction => {
  const env = new Interaction()
  env.run("add-nodes", ["3"])
  env.run("campaign", ["0"])
  env.run("run", ["1000"])
  return env
}

describe("membership rule: one change at a time, through the log", () => {
  it("accepts exactly one added, removed or re-roled member", () => {
    const add = { members: [...three.members, { id: 3, role: "log" as const, zone: "az3" }] }
    const remove = { members: three.members.slice(0, 2) }
    const reRole = { members: three.members.map((m) => (m.id === 2 ? { ...m, role: "log" as const } : m)) }
    const two = { members: [...three.members.slice(0, 2), { id: 3, role: "log" as const, zone: "az3" }] }
    assert.ok(isSingleChange(three, add))
    assert.ok(isSingleChange(three, remove))
    assert.ok(isSingleChange(three, reRole))
    assert.ok(!isSingleChange(three, two), "replace = two changes")
    assert.ok(!isSingleChange(three, three))
  })

  it("counts adding a learner and promoting it as one change each", () => {
    const learner = { id: 3, role: "storage" as const, zone: "az3", learner: true }
    const withLearner = { members: [...three.members, learner] }
    const promoted = { members: [...three.members, { id: 3, role: "storage" as const, zone: "az3" }] }
    assert.ok(isSingleChange(three, withLearner))
    assert.ok(isSingleChange(withLearner, promoted))
    assert.ok(isSingleChange(promoted, withLearner), "demotion")
    assert.ok(isSingleChange(three, promoted), "adding a voter directly is one change too")
    const demoteOther = { members: three.members.map((m) => (m.id === 2 ? { ...m, learner: true } : m)) }
    assert.ok(isSingleChange(three, demoteOther))
  })

  it("refuses a configuration in which the leader would be a learner", () => {
    const env = elected()
    const leader = env.cores.get(0)!
    const cfg = leader.latestConfig()
    const selfLearner = { members: cfg.members.map((m) => (m.id === 0 ? { ...m, learner: true } : m)) }
    assert.deepEqual(leader.proposeConfig(selfLearner), { ok: false, reason: "bad-config" })
  })

  it("refuses a second change while one is uncommitted, a double change, and removing the leader", () => {
    const env = elected()
    const leader = env.cores.get(0)!
    const cfg = leader.latestConfig()
    assert.equal(leader.proposeConfig({ members: cfg.members.slice(1) }).ok, false, "cannot remove itself")
    const two = { members: [...cfg.members.slice(0, 2), { id: 3, role: "log" as const, zone: "az3" }] }
    assert.deepEqual(leader.proposeConfig(two), { ok: false, reason: "bad-config" })
    const add = { members: [...cfg.members, { id: 3, role: "log" as const, zone: "az3" }] }
    assert.equal(leader.proposeConfig(add).ok, true)
    assert.deepEqual(leader.proposeConfig({ members: cfg.members.slice(0, 2) }), {
      ok: false,
      reason: "config-pending",
    })
    // The new configuration governs the slots after the config entry at once.
    assert.equal(leader.latestConfig().members.length, 4)
    assert.equal(leader.configAt(leader.lastIndex()).members.length, 3)
  })
})

describe("log replicas", () => {
  it("vote but never campaign and never serve reads", () => {
    const cfg: Membership = {
      members: [...three.members.slice(0, 2), { id: 2, role: "log", zone: "az3" }],
    }
    const log = new PaxosCore({ id: 2, role: "log", initialConfig: cfg, electionTimeoutMs: 100 })
    for (let t = 0; t < 10_000; t += 10) log.tick(t)
    assert.equal(log.state, "follower")
    assert.equal(log.readyOutputs().messages.length, 0, "no pre-vote from a log replica")
    assert.equal(log.requestRead(1), "not-leader")
    log.step({
      type: "prepare",
      from: 0,
      to: 2,
      ballot: makeBallot(1, 0),
      fromSlot: 1,
      handoverOf: 0,
    } satisfies PrepareMsg)
    const out = log.readyOutputs()
    assert.equal(out.messages[0]?.type, "promise")
    assert.equal((out.messages[0] as Extract<Message, { type: "promise" }>).ok, true)
    assert.equal(out.hardState?.promised, makeBallot(1, 0), "the promise is persisted before it is sent")
  })
})

describe("leases", () => {
  it("a new leader waits out the remaining lease reported by acceptors, stretched by the drift bound", () => {
    const c = new PaxosCore({ id: 1, role: "storage", initialConfig: three, leaseMs: 800, driftBound: 0.05 })
    c.tick(1000)
    c.campaign()
    c.readyOutputs()
    c.step({
      type: "prevote-reply",
      from: 2,
      to: 1,
      ballot: 0,
      granted: true,
      leaderAlive: false,
      behind: false,
    })
    const prepares = c.readyOutputs().messages.filter((m) => m.type === "prepare")
    assert.equal(prepares.length, 2)
    const b = (prepares[0] as PrepareMsg).ballot
    c.step({
      type: "promise",
      from: 2,
      to: 1,
      ballot: b,
      ok: true,
      promised: b,
      entries: [],
      commit: 0,
      snapshotIndex: 0,
      leaseRemainingMs: 500,
    })
    assert.equal(c.state, "leader")
    // Own restart guard (800 ms from its first tick) dominates: 800 * 1.05 / 0.95.
    assert.ok(Math.abs(c.leaseWaitUntil - (1000 + (800 * 1.05) / 0.95)) < 1e-6)
    assert.equal(c.canServeReads(), false)
    assert.equal(c.requestRead(7), "no-lease")
  })

  it("a stopped replica (fsync error) ignores everything afterwards", () => {
    const c = new PaxosCore({ id: 0, role: "storage", initialConfig: three })
    c.stop()
    c.tick(10_000)
    c.step({ type: "prevote", from: 1, to: 0, ballot: 0, commit: 0 })
    assert.equal(c.hasReady(), false)
    assert.equal(c.state, "stopped")
  })
})

describe("corruption", () => {
  it("a replica recovered with a corrupt record does not vote until repaired past it", () => {
    const c = new PaxosCore(
      { id: 2, role: "storage", initialConfig: three },
      {
        hardState: { promised: makeBallot(1, 0), commit: 3 },
        snapshot: null,
        entries: [1, 2, 3].map(
          (slot): Entry => ({
            slot,
            ballot: makeBallot(1, 0),
            kind: ENTRY_COMMAND,
            data: new Uint8Array([slot]),
          }),
        ),
        repairThrough: 6,
      },
    )
    assert.equal(c.isRepairing(), true)
    c.readyOutputs()
    c.step({ type: "prepare", from: 1, to: 2, ballot: makeBallot(2, 1), fromSlot: 1, handoverOf: 0 })
    assert.equal(c.readyOutputs().messages.length, 0, "no promise while repairing")
    const b = makeBallot(2, 0)
    const entries = [4, 5, 6].map(
      (slot): Entry => ({
        slot,
        ballot: b,
        kind: ENTRY_COMMAND,
        data: new Uint8Array([slot]),
      }),
    )
    c.step({ type: "accept", from: 0, to: 2, ballot: b, start: 4, entries, commit: 6, sentAt: 0 })
    assert.equal(c.isRepairing(), false)
    assert.equal(c.commitIndex, 6)
  })

  it("can be repaired from archived committed entries", () => {
    const c = new PaxosCore(
      { id: 2, role: "storage", initialConfig: three },
      { hardState: { promised: makeBallot(1, 0), commit: 0 }, snapshot: null, entries: [], repairThrough: 4 },
    )
    const archived = [1, 2, 3, 4].map(
      (slot): Entry => ({ slot, ballot: 0, kind: ENTRY_COMMAND, data: new Uint8Array([slot]) }),
    )
    c.learnCommitted(archived.slice(1)) // not contiguous with our commit: ignored
    assert.equal(c.commitIndex, 0)
    c.learnCommitted(archived)
    assert.equal(c.commitIndex, 4)
    assert.equal(c.isRepairing(), false)
    assert.deepEqual(
      c.readyOutputs().committed.map((e) => e.slot),
      [1, 2, 3, 4],
    )
  })
})

describe("pre-votes", () => {
  it("a replica that missed the configuration adding the candidate still grants it (behind its commit)", () => {
    // r1 is cut off while r3 joins and r2 leaves: the group is {0,1,3}, but r1 still knows only
    // {0,1,2}. Then r2 and the leader r0 die and r1 is back. r3 needs r1's vote; r1 cannot judge
    // r3's membership from its stale log, but r3's commit index is ahead of its own, so it must
    // not deny (it used to: nobody could ever be elected).
    const env = elected()
    env.run("isolate", ["1"])
    env.run("add-member", ["0", "3", "storage"])
    env.run("run", ["1000"])
    env.run("remove-member", ["0", "2"])
    env.run("run", ["1000"])
    assert.deepEqual(
      env.cores
        .get(3)!
        .latestConfig()
        .members.map((m) => m.id),
      [0, 1, 3],
    )
    assert.deepEqual(
      env.cores
        .get(1)!
        .latestConfig()
        .members.map((m) => m.id),
      [0, 1, 2],
    )
    env.run("crash", ["2"])
    env.run("crash", ["0"])
    env.run("heal", [])
    env.run("run", ["10000"])
    assert.equal(env.cores.get(3)!.state, "leader")
    assert.equal(env.cores.get(1)!.commitIndex, env.cores.get(3)!.commitIndex, "r1 caught up")
  })

  it("a replica not in the group is still denied when it is not ahead of us", () => {
    const two: Membership = { members: three.members.slice(0, 2) }
    const r1 = new PaxosCore({ id: 1, role: "storage", initialConfig: two, electionTimeoutMs: 1000 })
    r1.tick(0)
    const ask = (commit: number): boolean => {
      r1.step({ type: "prevote", from: 2, to: 1, ballot: makeBallot(9, 2), commit })
      const reply = r1.readyOutputs().messages.find((m) => m.type === "prevote-reply")
      assert.ok(reply !== undefined && reply.type === "prevote-reply")
      assert.equal(reply.leaderAlive, false)
      return reply.granted
    }
    assert.equal(ask(0), false, "a removed replica must not disrupt the group")
    assert.equal(ask(5), true, "ahead of us: we may have missed the configuration that added it")
  })
})

describe("a new incarnation of a member id", () => {
  it("does not vote until its log holds the group's history through the given slot", () => {
    const r1 = new PaxosCore({ id: 1, role: "storage", initialConfig: null, electionTimeoutMs: 1000 })
    r1.tick(0)
    r1.holdVotesThrough(3)
    r1.step({ type: "prepare", from: 2, to: 1, ballot: makeBallot(5, 2), fromSlot: 1, handoverOf: 0 })
    assert.equal(r1.readyOutputs().messages.length, 0, "an empty newcomer must not promise")
    // The leader's log reaches it: it accepts (that is how it catches up), then votes again.
    const entries: Entry[] = [1, 2, 3].map((slot) => ({
      slot,
      ballot: makeBallot(4, 0),
      kind: ENTRY_COMMAND,
      data: new Uint8Array([slot]),
    }))
    r1.step({
      type: "accept",
      from: 0,
      to: 1,
      ballot: makeBallot(4, 0),
      start: 1,
      entries,
      commit: 3,
      sentAt: 0,
    })
    r1.readyOutputs()
    r1.step({ type: "prepare", from: 2, to: 1, ballot: makeBallot(5, 2), fromSlot: 2, handoverOf: 0 })
    const promise = r1.readyOutputs().messages.find((m) => m.type === "promise")
    assert.ok(promise !== undefined && promise.type === "promise" && promise.ok)
    assert.equal(promise.commit, 3)
  })
})

describe("compaction with lazily made snapshot data", () => {
  /** Three cores in process; messages to `cut` members are dropped while `cut` holds them. */
  const group = () => {
    const cores = [0, 1, 2].map(
      (id) =>
        new PaxosCore({
          id,
          role: "storage",
          initialConfig: three,
          electionTimeoutMs: 1000,
          heartbeatMs: 100,
          leaseMs: 800,
        }),
    )
    const cut = new Set<number>()
    const installed: Array<{ id: number; data: Uint8Array | null }> = []
    let now = 0
    const pump = (): void => {
      for (let guard = 0; guard < 200; guard++) {
        let moved = false
        for (const c of cores) {
          if (!c.hasReady()) continue
          moved = true
          const r = c.readyOutputs()
          if (r.snapshot !== null) installed.push({ id: c.id, data: r.snapshot.data })
          c.advance()
          for (const m of r.messages) if (!cut.has(m.to)) cores[m.to]!.step(m as Message)
        }
        if (!moved) return
      }
    }
    const run = (ms: number): void => {
      for (let t = 0; t < ms; t += 50) {
        now += 50
        for (const c of cores) c.tick(now)
        pump()
      }
    }
    cores[0]!.tick(now)
    cores[0]!.campaign()
    run(1000)
    return { cores, cut, installed, run, pump }
  }

  it("makes the data once, on first read, and a lagging follower receives exactly those bytes", () => {
    const g = group()
    const leader = g.cores[0]!
    assert.equal(leader.state, "leader")
    g.cut.add(2)
    for (let i = 0; i < 20; i++) leader.propose(new Uint8Array([ENTRY_COMMAND, i]))
    leader.flush()
    g.pump()
    g.run(200)
    const commit = leader.commitIndex
    assert.ok(commit >= 20, `commit ${commit}`)
    let made = 0
    const bytes = new Uint8Array([7, 7, 7])
    leader.compact(commit, () => {
      made++
      return bytes
    })
    assert.equal(made, 0, "compaction alone does not make the data")
    const snap = leader.currentSnapshot()!
    assert.equal(snap.index, commit)
    assert.equal(snap.data, bytes)
    assert.equal(snap.data, bytes)
    assert.equal(made, 1, "made once, then kept")
    // Copies read the data too (an own enumerable getter).
    assert.deepEqual(structuredClone(snap).data, bytes)
    assert.deepEqual({ ...snap }.data, bytes)
    // The follower that missed the log behind the snapshot catches up from it.
    g.cut.delete(2)
    g.run(3000)
    const got = g.installed.find((x) => x.id === 2)
    assert.ok(got !== undefined, "follower 2 installed a snapshot")
    assert.deepEqual(got.data, bytes)
    assert.equal(made, 1)
    assert.equal(g.cores[2]!.commitIndex, leader.commitIndex)
  })
})
