/**
 * A seeded end-to-end scenario on the simulation: clients run conditional writes and strong reads
 * on a few keys while faults are injected (leader kills, AZ partitions, node crashes and
 * restarts, optionally a live split); then the cluster heals and the run is checked:
 * linearizability of every key's history (the sim kit's Porcupine checker, CAS-register model),
 * no acknowledged write lost (a final strong read of every key is part of the history), and the
 * storage replicas of every partition identical. With an archive the scrubber runs underneath
 * (`scrub.ts`): before the final reads one follower's stored value is flipped, and the run checks
 * that the scrubber found and repaired exactly that, and flagged nothing else through the faults.
 */
import { casRegisterModel, checkOperations, History, type OpOutput, toOperations } from "@partita/sim"
import type { DynamoDBError } from "@partita/core"
import { listSegments, ObjectStore, rebuildFromArchive } from "@partita/paxos"
import { Effect, Exit } from "effect"
import { decodeCommand } from "./codec.ts"
import { type ClusterConfig, SimCluster } from "./cluster.ts"
import { CallbackClient } from "./client.ts"
import { flipStoredValueBit, type ScrubConfig } from "./scrub.ts"

/** What a scenario does. */
export interface ScenarioOptions {
  readonly seed: number
  /** Keys written and read. Default 6. */
  readonly keys?: number
  /** Concurrent clients (one outstanding operation each). Default 6. */
  readonly clients?: number
  /** Virtual time of the workload, ms. Default 8,000. */
  readonly durationMs?: number
  /** Faults injected during the workload. Default 3. */
  readonly faults?: number
  /** Fault kinds to draw from. */
  readonly faultKinds?: ReadonlyArray<FaultKind>
  /** Table partitions. Default 3. */
  readonly partitions?: number
  readonly cluster?: ClusterConfig
  /**
   * The scrubber underneath: on by default when the cluster archives its WAL (`false`: off; with
   * it on, a flipped stored value is injected before the final reads and must be repaired).
   */
  readonly scrub?: ScrubConfig | false
  /** Print failing histories. */
  readonly debug?: boolean
}

/**
 * Faults a scenario draws from. `torn-write` and `lose-unsynced` are power losses at a node's next
 * WAL write, before its fsync: pieces of that write survive, whole or torn (`random`), or none do
 * (`lose-all`); they put the cluster's nodes on simulated disks (`ClusterConfig.disk`), where
 * every crash also loses or tears what was not fsynced. `wal-bit-rot` crashes a node, flips a few
 * random bits in each of its WAL files, and restarts it later (once per run: rot on two of a
 * partition's three logs at once can lose what only they held, as in any three-way replication).
 * `state-file-rot` (one node per run, sharing `wal-bit-rot`'s turn) crashes a node, flips bits in
 * 1-2 of its state files (spec, split base, snapshot) and restarts it later: those replicas are
 * left out of the restart and healed. `fsync-error` makes a node's next 1-2 fsyncs fail (one node per run): each replica hit stops, is
 * given up and replaced. `misdirected-write` sends a node's next 1-2 disk writes to another
 * offset of their file (one node per run), then crashes and restarts it so that it recovers from
 * the damaged file.
 */
export type FaultKind =
  | "kill-leader"
  | "partition-az"
  | "crash-node"
  | "wipe-node"
  | "split"
  | "torn-write"
  | "lose-unsynced"
  | "wal-bit-rot"
  | "state-file-rot"
  | "fsync-error"
  | "misdirected-write"

/** The verdicts of a scenario. */
export interface ScenarioReport {
  readonly seed: number
  readonly operations: number
  readonly ok: number
  readonly unknown: number
  readonly linearizable: "linearizable" | "not-linearizable" | "unknown"
  /** Keys whose history is not linearizable. */
  readonly badKeys: ReadonlyArray<string>
  /** Partitions whose state differs from the reference rebuilt from the WAL archive. */
  readonly archiveMismatch: ReadonlyArray<string>
  /** Partitions whose storage replicas differ (checksum or applied items). */
  readonly divergent: ReadonlyArray<string>
  readonly faults: ReadonlyArray<string>
  readonly splits: number
  /** Heals whose storage learner waited for the failed member's removal (metadata counters). */
  readonly learnersHeldBack: number
  readonly virtualMs: number
  /** With simulated disks: WAL recoveries, torn-tail bytes cut off, recoveries that found corruption. */
  readonly disk?: {
    readonly recoveries: number
    readonly tornBytes: number
    readonly corrupt: number
    /** Replicas given up after a failed fsync. */
    readonly fsyncFailures: number
    /** Replicas left out of a restart because their state files did not check. */
    readonly unreadable: number
  }
  /** With the scrubber on: what it was given to find, and what it reported. */
  readonly scrub?: {
    /** The injected flip (`partition/node/key`), if a follower held an item to flip. */
    readonly injected: string | undefined
    /** The flip was detected and repaired. */
    readonly repaired: boolean
    /** Events that are not about the injected flip (false positives, or real findings). */
    readonly unexpected: ReadonlyArray<string>
    readonly cycles: number
  }
}

const TABLE = "registers"

/**
 * The scenario's scrubber: a few hundred KB of data in all, so a slow rate still completes a cycle
 * every few hundred ms of virtual time (at MB/s it would re-verify the tiny archive non-stop).
 */
const SCENARIO_SCRUB: ScrubConfig = { bytesPerSec: 256 * 1024, tickMs: 100 }

/** Runs one seeded scenario to completion (synchronously on virtual time). */
export const runScenario = (opts: ScenarioOptions): ScenarioReport => {
  const scrubOn = opts.scrub !== false && opts.cluster?.archive !== undefined
  const diskFaults = (opts.faultKinds ?? []).some(
    (k) =>
      k === "torn-write" ||
      k === "lose-unsynced" ||
      k === "wal-bit-rot" ||
      k === "state-file-rot" ||
      k === "fsync-error" ||
      k === "misdirected-write",
  )
  const c = new SimCluster(opts.seed, {
    nodes: 6,
    routers: 2,
    failureDetectMs: 1500,
    ...(diskFaults ? { disk: {} } : {}),
    ...opts.cluster,
    ...(scrubOn ? { scrub: opts.scrub === undefined ? SCENARIO_SCRUB : opts.scrub } : {}),
  })
  const prng = c.sim.fork("scenario")
  const client = new CallbackClient(c.meta, c.routers)
  const created = c.meta.createTable({
    TableName: TABLE,
    KeySchema: [{ AttributeName: "k", KeyType: "HASH" }],
    AttributeDefinitions: [{ AttributeName: "k", AttributeType: "S" }],
    BillingMode: "PAY_PER_REQUEST",
    Partitions: opts.partitions ?? 3,
  })
  if (created._tag === "Left") throw created.left
  c.runFor(2500)

  const history = new History(() => c.sim.now)
  let open = 0
  const openOps = (): number => open
  const keys = Array.from({ length: opts.keys ?? 6 }, (_, i) => `k${i}`)
  const duration = opts.durationMs ?? 8000
  const start = c.sim.now
  const end = start + duration
  let nextValue = 1
  let ops = 0
  let oks = 0
  let unknown = 0
  const outcome = (e: DynamoDBError): "fail" | "info" =>
    e._tag === "ConditionalCheckFailedException" ||
    e._tag === "ProvisionedThroughputExceededException" ||
    e._tag === "ValidationException"
      ? "fail"
      : "info"

  const clientLoop = (p: number): void => {
    if (c.sim.now >= end) return
    const key = keys[prng.int(keys.length)]!
    const roll = prng.next()
    ops++
    open++
    const finish = (h: number, status: OpOutput["status"], value: unknown): void => {
      open--
      if (status === "ok") {
        oks++
        history.ok(h, value)
      } else if (status === "fail") history.fail(h, value)
      else {
        unknown++
        history.info(h, value)
      }
      c.sim.schedule(prng.int(20), () => clientLoop(p))
    }
    if (roll < 0.4) {
      const h = history.invoke(p, "read", null, key)
      client.getItem({ TableName: TABLE, Key: { k: { S: key } }, ConsistentRead: true }, (r) => {
        if (r.ok) finish(h, "ok", (r.value.Item?.v as { S?: string } | undefined)?.S ?? null)
        else finish(h, outcome(r.error) === "fail" ? "fail" : "info", null)
      })
    } else if (roll < 0.7) {
      const v = `v${nextValue++}`
      const h = history.invoke(p, "write", v, key)
      client.putItem({ TableName: TABLE, Item: { k: { S: key }, v: { S: v } } }, (r) => {
        if (r.ok) finish(h, "ok", v)
        else finish(h, outcome(r.error), null)
      })
    } else {
      // CAS from what this client last saw is too rare; compare with a recent value instead.
      const expected = nextValue > 1 ? `v${nextValue - 1 - prng.int(Math.min(3, nextValue - 1))}` : null
      const v = `v${nextValue++}`
      const h = history.invoke(p, "cas", [expected, v], key)
      const cond =
        expected === null
          ? { ConditionExpression: "attribute_not_exists(v)" }
          : { ConditionExpression: "v = :e", ExpressionAttributeValues: { ":e": { S: expected } } }
      client.updateItem(
        {
          TableName: TABLE,
          Key: { k: { S: key } },
          UpdateExpression: "SET v = :n",
          ...cond,
          ExpressionAttributeValues: {
            ...("ExpressionAttributeValues" in cond ? cond.ExpressionAttributeValues : {}),
            ":n": { S: v },
          },
        },
        (r) => {
          if (r.ok) finish(h, "ok", null)
          else finish(h, outcome(r.error), null)
        },
      )
    }
  }
  const clients = opts.clients ?? 6
  for (let p = 0; p < clients; p++) c.sim.schedule(prng.int(50), () => clientLoop(p))

  // Faults at random times in the first two thirds of the run; each lasts 1-3 s.
  const kinds = opts.faultKinds ?? ["kill-leader", "partition-az", "crash-node"]
  const faults: string[] = []
  let wiped = false
  let rotted = false
  let fsyncNode: string | undefined
  let misdirected = false
  const nodeIds = [...c.nodes.keys()]
  for (let f = 0; f < (opts.faults ?? 3); f++) {
    const at = prng.int(Math.floor((duration * 2) / 3))
    const kind = kinds[prng.int(kinds.length)]!
    const lastMs = 1000 + prng.int(2000)
    c.sim.schedule(at, () => {
      const pids = c.meta.partitionMap(TABLE)?.partitions.map((x) => x.id) ?? []
      if (kind === "kill-leader") {
        const pid = pids[prng.int(pids.length)]!
        const l = c.killLeader(pid)
        faults.push(`${c.sim.now}: kill leader of ${pid} (${l ?? "none"})`)
        if (l !== undefined) c.sim.schedule(lastMs, () => c.restartNode(l))
      } else if (kind === "partition-az") {
        const az = c.azs[prng.int(c.azs.length)]!
        const id = c.partitionAz(az)
        faults.push(`${c.sim.now}: partition ${az}`)
        c.sim.schedule(lastMs, () => c.heal(id))
      } else if (kind === "wipe-node" && !wiped) {
        // One disk loss per run: two of a partition's three disks lost is a lost quorum (the
        // partition stays unavailable, as it would in DynamoDB, until restored from the archive).
        wiped = true
        const n = nodeIds[prng.int(nodeIds.length)]!
        c.wipeNode(n)
        faults.push(`${c.sim.now}: wipe ${n}`)
        c.sim.schedule(lastMs, () => c.restartNode(n))
      } else if (kind === "state-file-rot" && !rotted) {
        // One node per run: 1-2 of its state files (a spec, a split base, a snapshot) rot while
        // it is down; its restart leaves those replicas out and the heals rebuild them.
        rotted = true
        const n = nodeIds[prng.int(nodeIds.length)]!
        c.killNode(n)
        const hit = c.node(n).rotStateFiles(1 + prng.int(2), 1 + prng.int(3), (k) => prng.int(k))
        faults.push(`${c.sim.now}: state files rotted on ${n}: ${hit.join(", ")}`)
        c.sim.schedule(lastMs, () => c.restartNode(n))
      } else if (kind === "wal-bit-rot" && !rotted) {
        rotted = true
        const n = nodeIds[prng.int(nodeIds.length)]!
        c.killNode(n)
        const bits = c.rotWal(n, 1 + prng.int(3))
        faults.push(`${c.sim.now}: ${bits} WAL bits rotted on ${n}`)
        c.sim.schedule(lastMs, () => c.restartNode(n))
      } else if (kind === "fsync-error" && fsyncNode === undefined) {
        // One node per run: replicas given up on two nodes can be two of a partition's three,
        // a lost quorum (as two lost disks would be).
        const n = nodeIds[prng.int(nodeIds.length)]!
        fsyncNode = n
        const count = 1 + prng.int(2)
        c.failNextFsync(n, count)
        faults.push(`${c.sim.now}: next ${count} fsync(s) of ${n} fail`)
      } else if (kind === "misdirected-write" && !misdirected) {
        // One node per run, like the other faults that damage what a disk holds.
        misdirected = true
        const n = nodeIds[prng.int(nodeIds.length)]!
        const count = 1 + prng.int(2)
        c.misdirectNextWrite(n, count)
        faults.push(`${c.sim.now}: next ${count} write(s) of ${n} misdirected`)
        c.sim.schedule(lastMs, () => {
          c.killNode(n)
          c.sim.schedule(500, () => c.restartNode(n))
        })
      } else if (kind === "torn-write" || kind === "lose-unsynced") {
        const n = nodeIds[prng.int(nodeIds.length)]!
        c.crashDuringNextWrite(n, kind === "torn-write" ? "random" : "lose-all")
        faults.push(`${c.sim.now}: ${kind} at the next write of ${n}`)
        c.sim.schedule(lastMs, () => {
          c.crashDuringNextWrite(n, undefined)
          c.restartNode(n)
        })
      } else if (
        kind === "crash-node" ||
        kind === "wipe-node" ||
        kind === "wal-bit-rot" ||
        kind === "state-file-rot" ||
        kind === "fsync-error" ||
        kind === "misdirected-write"
      ) {
        const n = nodeIds[prng.int(nodeIds.length)]!
        c.killNode(n)
        faults.push(`${c.sim.now}: crash ${n}`)
        c.sim.schedule(lastMs, () => c.restartNode(n))
      } else {
        const pid = pids[prng.int(pids.length)]!
        const ok = c.meta.split(TABLE, pid)
        faults.push(`${c.sim.now}: split ${pid} ${ok ? "started" : "refused"}`)
      }
    })
  }
  c.runFor(duration)
  // Quiesce: let in-flight requests finish (each ends by its deadline), heal, restart everything.
  const busyUntil = (cond: () => boolean, capMs: number): void => {
    const stop = c.sim.now + capMs
    while (cond() && c.sim.now < stop) c.runFor(100)
  }
  busyUntil(() => openOps() > 0, 11_000)
  c.heal()
  for (const id of nodeIds) c.restartNode(id)
  c.runFor(3000)

  // Bit rot on one follower, before the final reads: the scrubber must find and repair it. First
  // the heals finish: a partition down to two storage replicas has no majority to repair from.
  let injected: { partition: string; node: string; key: string } | undefined
  if (c.scrub !== undefined) {
    busyUntil(() => c.meta.pendingHealCount() > 0 || c.meta.pendingSplitCount() > 0, 20_000)
    for (const p of c.meta.partitionMap(TABLE)?.partitions ?? []) {
      const leader = c.leaderOf(p.id)
      // A member of the partition's configuration (a replica the scrubber judges).
      const f = c.scrub.replicaPorts(p.id).find((x) => x.node.nodeId !== leader && x.replica.tree.size > 0)
      if (leader === undefined || f === undefined) continue
      const key = f.replica.tree.at(prng.int(f.replica.tree.size))![0]
      flipStoredValueBit(c.scrub, f.replica, f.node, key)
      injected = { partition: p.id, node: f.node.nodeId, key }
      break
    }
    // Two full cycles of the node that scrubs the damaged partition (one may have been under way
    // at the injection). Waiting for two cycles of the slowest node instead could end first: a
    // node owning few partitions cycles fast (stress seed 241128 with lateDefer ended the wait
    // before the owner had looked at the partition again).
    const scrub = c.scrub
    const target = scrub.cyclesCompleted() + 2
    const startOf = new Map<string, number>()
    busyUntil(() => {
      const owner = injected === undefined ? undefined : scrub.ownerOf(injected.partition)
      if (owner === undefined) return scrub.cyclesCompleted() < target
      const done = scrub.metricsByNode()[owner]?.cycles ?? 0
      if (!startOf.has(owner)) startOf.set(owner, done)
      return done < startOf.get(owner)! + 2
    }, 10_000)
  }

  // Final strong read of every key, from a fresh client id each.
  keys.forEach((key, i) => {
    const p = clients + i
    const h = history.invoke(p, "read", null, key)
    open++
    client.getItem({ TableName: TABLE, Key: { k: { S: key } }, ConsistentRead: true }, (r) => {
      open--
      if (r.ok) history.ok(h, (r.value.Item?.v as { S?: string } | undefined)?.S ?? null)
      else history.info(h, null)
    })
  })
  busyUntil(() => open > 0, 11_000)
  // Let the metadata service finish healing (lost replicas re-created) and adopt splits.
  busyUntil(() => c.meta.pendingHealCount() > 0 || c.meta.pendingSplitCount() > 0, 20_000)
  c.runFor(1000)

  const operations = toOperations(history.events)
  const byKey = new Map<string, (typeof operations)[number][]>()
  for (const o of operations) {
    const k = o.input.key ?? ""
    const l = byKey.get(k)
    if (l === undefined) byKey.set(k, [o])
    else l.push(o)
  }
  const badKeys: string[] = []
  let verdict: ScenarioReport["linearizable"] = "linearizable"
  for (const [k, list] of byKey) {
    const r = checkOperations(casRegisterModel, list, { timeoutMs: 10_000 })
    if (r.verdict === "not-linearizable") {
      badKeys.push(k)
      if (opts.debug === true)
        console.log(
          k,
          JSON.stringify(
            list.map((o) => [
              o.client,
              o.input.f,
              o.input.value,
              o.output.status,
              o.output.value,
              o.call,
              o.return,
            ]),
          ),
          JSON.stringify(r.longestPrefix?.slice(-4)),
        )
      verdict = "not-linearizable"
    } else if (r.verdict === "unknown" && verdict === "linearizable") verdict = "unknown"
  }

  // Replica convergence: the storage replicas in each live partition's configuration agree.
  const divergent: string[] = []
  for (const p of c.meta.partitionMap(TABLE)?.partitions ?? []) {
    const reps = c.replicasOf(p.id).filter((x) => x.replica.spec.role === "storage" && !x.replica.retired)
    const leader = reps.find((x) => x.replica.core.state === "leader")
    const members = new Set(
      (leader?.replica.core.latestConfig().members ?? [])
        .filter((m) => m.role === "storage")
        .map((m) => m.id),
    )
    const inConfig = reps.filter((x) => members.size === 0 || members.has(x.replica.replicaId))
    const sums = new Set(inConfig.map((x) => `${x.replica.summary().checksum}/${x.replica.summary().items}`))
    if (opts.debug === true && (sums.size > 1 || inConfig.length < 2))
      console.log(
        p.id,
        JSON.stringify(
          c.replicasOf(p.id).map((x) => [
            x.node,
            x.replica.spec.role,
            x.replica.core.state,
            x.replica.retired,
            x.replica.core.commitIndex,
            x.replica.core
              .latestConfig()
              .members.map((m) => `${m.id}${m.role[0]}${m.learner === true ? "~" : ""}`)
              .join(","),
            x.replica.core.promised,
            x.replica.core.lastIndex(),
            x.replica.core.isRepairing(),
            x.replica.core.leaderId,
            Math.round(x.replica.core.now),
          ]),
        ),
        JSON.stringify(c.meta.heals.filter((h) => h.partitionId === p.id)),
        JSON.stringify(c.meta.placementOf(TABLE, p.id)),
        c.meta.failedNodes(),
        c.sim.now,
        JSON.stringify([...(c.meta as unknown as { lastPong: Map<string, number> }).lastPong]),
        c.simRuntime.net.partitions(),
      )
    if (sums.size > 1 || inConfig.length < 2)
      divergent.push(`${p.id}: ${[...sums].join(" ")} (${inConfig.length} replicas)`)
  }
  if (opts.debug === true) console.log(JSON.stringify(c.meta.heals), faults)
  // With an archive: every live partition's state must equal the reference rebuilt from its base,
  // its archived WAL segments and the log tail after them (the scrubber's reference).
  const archiveMismatch: string[] = []
  const store = c.objectStore
  if (store !== undefined) {
    for (const p of c.meta.partitionMap(TABLE)?.partitions ?? []) {
      const reps = c.replicasOf(p.id).filter((x) => x.replica.spec.role === "storage" && !x.replica.retired)
      const l = (reps.find((x) => x.replica.core.state === "leader") ?? reps[0])?.replica
      if (l === undefined) continue
      const id = { table: TABLE, partition: p.id }
      const listed = Effect.runSyncExit(
        listSegments(id).pipe(Effect.provideService(ObjectStore, store.service())),
      )
      let through = 0
      if (Exit.isSuccess(listed))
        for (const m of listed.value) if (m.firstPosition === through + 1) through = m.lastPosition
      through = Math.min(through, l.applied)
      const initial = new Map<string, string>()
      if (l.durable.base !== undefined)
        for (const [k, v] of l.durable.base.tree.range()) initial.set(k, v.text)
      const applyEntry = (
        m: Map<string, string>,
        e: { kind: number; data: Uint8Array },
      ): Map<string, string> => {
        if (e.kind !== 0) return m
        const cmd = decodeCommand(e.data)
        if (cmd.kind !== "write") return m
        if (cmd.text === undefined) m.delete(cmd.key)
        else m.set(cmd.key, cmd.text)
        return m
      }
      const rebuilt = Effect.runSyncExit(
        rebuildFromArchive(id, through, initial, applyEntry).pipe(
          Effect.provideService(ObjectStore, store.service()),
        ),
      )
      if (Exit.isFailure(rebuilt)) {
        archiveMismatch.push(`${p.id}: archive unreadable`)
        continue
      }
      const ref = rebuilt.value.state
      let missing = false
      for (let slot = rebuilt.value.through + 1; slot <= l.applied; slot++) {
        const e = l.core.entry(slot)
        if (e === undefined) {
          missing = true
          break
        }
        applyEntry(ref, e)
      }
      if (missing) {
        archiveMismatch.push(`${p.id}: log truncated past the archive (${rebuilt.value.through})`)
        continue
      }
      let same = ref.size === l.tree.size
      if (same) for (const [k, v] of l.tree.range()) if (ref.get(k) !== v.text) same = false
      if (!same) archiveMismatch.push(`${p.id}: state differs from the archive reference`)
    }
  }
  let scrub: ScenarioReport["scrub"]
  if (c.scrub !== undefined) {
    const about = (e: { partition: string; replicaNode?: string; keys?: ReadonlyArray<string> }): boolean =>
      injected !== undefined &&
      e.partition === `${TABLE}/${injected.partition}` &&
      e.replicaNode === injected.node &&
      e.keys?.includes(injected.key) === true
    const evs = c.scrubEvents()
    scrub = {
      injected: injected === undefined ? undefined : `${injected.partition}/${injected.node}/${injected.key}`,
      repaired:
        evs.some((e) => e.type === "detected" && about(e)) &&
        evs.some((e) => e.type === "repaired" && about(e)),
      unexpected: evs
        .filter((e) => !about(e))
        .map(
          (e) =>
            `${e.atMs}: ${e.type} ${e.cause} ${e.partition} replica ${e.replicaNode ?? e.replica} ${e.detail}`,
        ),
      cycles: c.scrub.cyclesCompleted(),
    }
  }
  const recoveries = [...c.nodes.values()].flatMap((n) => n.walRecoveries)
  return {
    seed: opts.seed,
    ...(scrub === undefined ? {} : { scrub }),
    ...(c.config.disk === undefined
      ? {}
      : {
          disk: {
            recoveries: recoveries.length,
            tornBytes: recoveries.reduce((a, r) => a + r.tornBytes, 0),
            corrupt: recoveries.filter((r) => r.corrupt).length,
            fsyncFailures: [...c.nodes.values()].reduce((a, n) => a + n.counters.walFsyncFailures, 0),
            unreadable: [...c.nodes.values()].reduce((a, n) => a + n.unreadable.length, 0),
          },
        }),
    archiveMismatch,
    operations: ops,
    ok: oks,
    unknown,
    linearizable: verdict,
    badKeys,
    divergent,
    faults,
    splits: c.meta.counters.splits,
    learnersHeldBack: c.meta.counters.learnersHeldBack,
    virtualMs: c.sim.now,
  }
}
