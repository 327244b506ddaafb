/**
 * The `ReplicationGroup` Effect service: runs a LocalGroup (cores over a Transport, WAL over
 * Storage) on a driver fiber paced by the Effect Clock, and exposes propose, reads, membership
 * changes and metrics.
 */
import { Clock, Context, Data, Effect, Fiber, type Scope } from "effect"
import type { Entry, Member, Membership, ReplicaId } from "./types.ts"
import { type LocalGroupOptions, LocalGroup, MemorySink, type WalSink } from "./runtime.ts"
import {
  Archiver,
  archiveSegment,
  ObjectStore,
  type ObjectStoreService,
  type SealedSegment,
} from "./archive.ts"
import { type LogIdentity, logIdOf, type StorageService } from "./storage.ts"

/** No leader could take the proposal (or it lost leadership before committing it). */
export class NotLeaderError extends Data.TaggedError("NotLeaderError")<{ readonly reason: string }> {}

/** Read consistency: strong reads go to the leader under its lease; eventual to any replica. */
export type Consistency = "strong" | "eventual"

/** An answer to a read: the applied index it reflects and how stale it may be. */
export interface ReadResult {
  readonly replica: ReplicaId
  readonly index: number
  /** 0 for strong reads; for eventual reads, ms since that replica last heard from a leader. */
  readonly stalenessMs: number
}

/** Group metrics, including commit latency percentiles (ms) from proposal to commit. */
export interface ReplicationMetrics {
  readonly commits: number
  readonly syncs: number
  readonly meanBatchEntries: number
  readonly batchEntriesMax: number
  readonly leaderChanges: number
  readonly commitLatencyMs: { readonly p50: number; readonly p99: number; readonly max: number }
  /** Segments uploaded first by some replica's archiver. */
  readonly archiveUploads: number
  /** Segments found already archived, downloaded and compared equal. */
  readonly archiveVerified: number
  /** Failed uploads or comparisons (retried; a mismatch is also kept in `archiveMismatches`). */
  readonly archiveErrors: number
  readonly archiveMismatches: ReadonlyArray<string>
  /** Lowest position archived by every live replica's archiver. */
  readonly archivedThrough: number
}

/** A replication group as a service. */
export interface ReplicationGroupService {
  readonly propose: (data: Uint8Array) => Effect.Effect<number, NotLeaderError>
  readonly read: (consistency: Consistency) => Effect.Effect<ReadResult, NotLeaderError>
  /**
   * Adds a log replica (one change at a time through the log); with `learner` it joins without a
   * vote, to be promoted by `promote` once it has caught up.
   */
  readonly addLogReplica: (
    id: ReplicaId,
    zone: string,
    options?: { readonly learner?: boolean },
  ) => Effect.Effect<number, NotLeaderError>
  /** Makes a learner a voter (one membership change). */
  readonly promote: (id: ReplicaId) => Effect.Effect<number, NotLeaderError>
  readonly removeReplica: (id: ReplicaId) => Effect.Effect<number, NotLeaderError>
  readonly transferLeadership: (to: ReplicaId) => Effect.Effect<boolean>
  readonly crash: (id: ReplicaId) => Effect.Effect<void>
  readonly metrics: Effect.Effect<ReplicationMetrics>
  readonly leaderId: Effect.Effect<ReplicaId | null>
}

/** The ReplicationGroup service tag. */
export class ReplicationGroup extends Context.Tag("@partita/paxos/ReplicationGroup")<
  ReplicationGroup,
  ReplicationGroupService
>() {}

/** Options of `makeReplicationGroup`. */
export interface ReplicationGroupOptions {
  readonly config: Membership
  /** Log id written in every WAL frame (default: the archive's table/partition, else 1). */
  readonly logId?: number
  /** Per-replica Storage; omitted = in-memory sinks. */
  readonly storage?: (id: ReplicaId) => StorageService
  readonly tickMs?: number
  readonly electionTimeoutMs?: number
  readonly heartbeatMs?: number
  readonly leaseMs?: number
  readonly apply?: (id: ReplicaId, e: Entry) => void
  /**
   * WAL archiving: every replica (log replicas too) seals committed entries into segments and
   * uploads them or, if already archived, downloads and compares. Log replicas truncate their
   * log once it is archived; storage replicas truncate through min(archived, checkpoint) when
   * `checkpoint` is given.
   */
  readonly archive?: {
    readonly id: LogIdentity
    readonly store: ObjectStoreService
    readonly entriesPerSegment?: number
    readonly checkpoint?: (replica: ReplicaId) => { readonly index: number; readonly data: Uint8Array } | null
  }
}

const LATENCY_SAMPLES_MAX = 100_000

/** Adapts a Storage service to the runtime's WalSink (one Effect per batch, not per entry). */
const storageSink = (st: StorageService): WalSink => ({
  append: (segment, bytes) => Effect.runPromise(st.append(segment, bytes)),
  sync: (segment) => Effect.runPromise(st.sync(segment)),
})

/** Builds a running group; the driver fiber lives as long as the scope. */
export const makeReplicationGroup = (
  opts: ReplicationGroupOptions,
): Effect.Effect<ReplicationGroupService, never, Scope.Scope> =>
  Effect.gen(function* () {
    const gopts: LocalGroupOptions = {
      config: opts.config,
      sink: (id) => (opts.storage ? storageSink(opts.storage(id)) : new MemorySink()),
      logId: opts.logId ?? (opts.archive !== undefined ? logIdOf(opts.archive.id) : 1),
      electionTimeoutMs: opts.electionTimeoutMs ?? 1000,
      heartbeatMs: opts.heartbeatMs ?? 100,
      leaseMs: opts.leaseMs ?? 800,
      ...(opts.apply ? { apply: opts.apply } : {}),
    }
    const group = new LocalGroup(gopts)
    const latencies: number[] = []
    const tickMs = opts.tickMs ?? 5
    const first = opts.config.members.find((m) => m.role === "storage")
    group.tick(yield* Clock.currentTimeMillis)
    if (first !== undefined) group.cores.get(first.id)!.campaign()
    const arch = opts.archive
    const archivers = new Map<ReplicaId, Archiver>()
    const uploads = new Map<ReplicaId, SealedSegment[]>()
    const archiveStats = { uploads: 0, verified: 0, errors: 0, mismatches: [] as string[] }
    const archiveStep =
      arch === undefined
        ? Effect.void
        : Effect.gen(function* () {
            for (const [id, core] of group.cores) {
              if (group.down.has(id)) continue
              let a = archivers.get(id)
              if (a === undefined) {
                a = new Archiver(arch.id, arch.entriesPerSegment)
                archivers.set(id, a)
              }
              if (a.nextPosition() < core.firstLogIndex()) a.skipTo(core.firstLogIndex())
              const fresh: Entry[] = []
              for (let s = a.nextPosition(); s <= core.commitIndex; s++) fresh.push(core.entry(s)!)
              const q = uploads.get(id) ?? []
              q.push(...a.offer(fresh))
              uploads.set(id, q)
              while (q.length > 0) {
                const seg = q[0]!
                const r = yield* Effect.either(
                  archiveSegment(arch.id, seg).pipe(Effect.provideService(ObjectStore, arch.store)),
                )
                if (r._tag === "Left") {
                  archiveStats.errors++
                  if (r.left._tag === "ArchiveCheckError") {
                    archiveStats.mismatches.push(`r${id}: ${r.left.segment}: ${r.left.reason}`)
                    q.shift() // reported; the scrubber repairs, we do not retry a mismatch
                  }
                  break
                }
                if (r.right === "uploaded") archiveStats.uploads++
                else archiveStats.verified++
                a.archivedThrough = Math.max(a.archivedThrough, seg.manifest.lastPosition)
                q.shift()
              }
              // Truncate only after archive (and checkpoint for storage replicas).
              if (core.role === "log" && a.archivedThrough >= core.firstLogIndex())
                core.compact(a.archivedThrough, null)
              else if (core.role === "storage" && arch.checkpoint !== undefined) {
                const ck = arch.checkpoint(id)
                if (ck !== null && ck.index <= a.archivedThrough && ck.index >= core.firstLogIndex())
                  core.compact(ck.index, ck.data)
              }
            }
          })
    const driver = Effect.gen(function* () {
      for (;;) {
        group.tick(yield* Clock.currentTimeMillis)
        yield* Effect.promise(() => group.pump())
        yield* archiveStep
        yield* Effect.sleep(tickMs)
      }
    })
    yield* Effect.forkScoped(driver).pipe(Effect.tap((f) => Effect.addFinalizer(() => Fiber.interrupt(f))))
    const kick = Effect.promise(() => group.pump())
    const proposeWith = (f: (cb: (ok: boolean, slot: number) => void) => boolean) =>
      Effect.flatMap(Clock.currentTimeMillis, (t0) =>
        Effect.zipLeft(
          Effect.async<number, NotLeaderError>((resume) => {
            const ok = f((done, slot) =>
              resume(done ? Effect.succeed(slot) : Effect.fail(new NotLeaderError({ reason: "superseded" }))),
            )
            if (!ok) resume(Effect.fail(new NotLeaderError({ reason: "no leader" })))
          }).pipe(
            Effect.tap(() =>
              Effect.map(Clock.currentTimeMillis, (t1) => {
                if (latencies.length < LATENCY_SAMPLES_MAX) latencies.push(t1 - t0)
              }),
            ),
          ),
          Effect.void,
        ).pipe(Effect.zipLeft(kick, { concurrent: true })),
      )
    const configChange = (next: (cur: Membership) => Membership) =>
      Effect.suspend(() => {
        const l = group.leader()
        if (l === undefined) return Effect.fail(new NotLeaderError({ reason: "no leader" }))
        const r = l.proposeConfig(next(l.latestConfig()))
        return r.ok ? Effect.as(kick, r.slot) : Effect.fail(new NotLeaderError({ reason: r.reason }))
      })
    const service: ReplicationGroupService = {
      propose: (data) => proposeWith((cb) => group.propose(data, cb)),
      read: (consistency) =>
        consistency === "strong"
          ? Effect.async<ReadResult, NotLeaderError>((resume) => {
              const l = group.leader()
              const id = latencies.length + group.metrics.rounds
              const st = group.read(id, () =>
                resume(Effect.succeed({ replica: l!.id, index: l!.commitIndex, stalenessMs: 0 })),
              )
              if (st !== "ok") resume(Effect.fail(new NotLeaderError({ reason: st })))
            }).pipe(Effect.zipLeft(kick, { concurrent: true }))
          : Effect.sync(() => {
              const c = [...group.cores.values()].find((x) => x.role === "storage" && !group.down.has(x.id))!
              return { replica: c.id, index: c.commitIndex, stalenessMs: c.stalenessMs() }
            }),
      addLogReplica: (id, zone, options) =>
        Effect.suspend(() => {
          if (!group.cores.has(id)) group.addReplica(id, "log", null)
          const m: Member =
            options?.learner === true ? { id, role: "log", zone, learner: true } : { id, role: "log", zone }
          return configChange((cur) => ({ members: [...cur.members, m] }))
        }),
      promote: (id) =>
        configChange((cur) => ({
          members: cur.members.map((m) => (m.id === id ? { id: m.id, role: m.role, zone: m.zone } : m)),
        })),
      removeReplica: (id) => configChange((cur) => ({ members: cur.members.filter((m) => m.id !== id) })),
      transferLeadership: (to) => Effect.sync(() => group.leader()?.transferLeadership(to) ?? false),
      crash: (id) => Effect.sync(() => group.crash(id)),
      leaderId: Effect.sync(() => group.leader()?.id ?? null),
      metrics: Effect.sync(() => {
        const sorted = [...latencies].sort((a, b) => a - b)
        const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0
        const m = group.metrics
        return {
          commits: m.commits,
          syncs: m.syncs,
          meanBatchEntries: m.syncs === 0 ? 0 : m.batchEntriesSum / m.syncs,
          batchEntriesMax: m.batchEntriesMax,
          leaderChanges: m.leaderChanges,
          commitLatencyMs: { p50: q(0.5), p99: q(0.99), max: sorted[sorted.length - 1] ?? 0 },
          archiveUploads: archiveStats.uploads,
          archiveVerified: archiveStats.verified,
          archiveErrors: archiveStats.errors,
          archiveMismatches: [...archiveStats.mismatches],
          archivedThrough: Math.min(
            ...[...archivers].filter(([id]) => !group.down.has(id)).map(([, a]) => a.archivedThrough),
            Number.POSITIVE_INFINITY,
          ),
        }
      }),
    }
    return service
  })
