/**
 * `availability` — paper §5.1, §6: a Multi-Paxos replication group (@partita/paxos `LocalGroup`,
 * three storage replicas in three AZs) under a steady write load, in virtual time, through
 * failures: a storage replica lost (with and without log replicas to restore the quorum while
 * the storage replica is rebuilt), the leader killed, the leader's AZ cut off. Availability is
 * measured as DynamoDB does — from the client's side, per interval, as the share of requests that
 * succeed (5-minute intervals in production, scaled here to the run).
 *
 * The transport is the in-process one with a partition filter (messages between cut-off replicas
 * are dropped); requests carry their id in the entry, and succeed when the entry commits before
 * the client's timeout. Autoadmin is modelled: it notices an unresponsive replica after
 * `detectMs`, adds a log replica at once (it only needs the recent WAL, over the protocol) or
 * starts a storage rebuild that takes `rebuildMs` (copying a B-tree: minutes in DynamoDB).
 */
import {
  ENTRY_COMMAND,
  type Entry,
  LocalGroup,
  type Membership,
  type Message,
  MemorySink,
  type PaxosCore,
  type ReplicaId,
  type TransportService,
} from "@partita/paxos"
import { Recorder } from "../measure.ts"
import type { Chart, Table } from "../report.ts"
import type { Suite, SuiteContext, SuiteOutput } from "../suite.ts"
import { type Check, check, lineChart, pct, Prng, sig, table } from "./common.ts"

/** The failure scenarios. */
export const AVAILABILITY_SCENARIOS = [
  "replica-loss-no-log-replica",
  "replica-loss-with-log-replica",
  "leader-kill",
  "az-partition",
] as const
export type AvailabilityScenario = (typeof AVAILABILITY_SCENARIOS)[number]

const ZONES = ["az1", "az2", "az3"] as const
/** Virtual-time step of the simulation loop. */
const STEP_MS = 5
/** The client gives up on a request after this long (and counts it as an error). */
const CLIENT_TIMEOUT_MS = 1000

/** A transport that drops messages between replicas cut off from each other. */
class PartitionTransport implements TransportService {
  private q: Message[] = []
  /** Replica ids isolated from everyone outside their own island. */
  islands: Array<ReadonlySet<ReplicaId>> = []
  dropped = 0
  private island(id: ReplicaId): number {
    for (let i = 0; i < this.islands.length; i++) if (this.islands[i]!.has(id)) return i
    return -1
  }
  reachable(a: ReplicaId, b: ReplicaId): boolean {
    return this.island(a) === this.island(b)
  }
  send(m: Message): void {
    if (this.reachable(m.from, m.to)) this.q.push(m)
    else this.dropped++
  }
  drain(deliver: (m: Message) => void): void {
    const q = this.q
    this.q = []
    for (const m of q) deliver(m)
  }
  get pending(): number {
    return this.q.length
  }
}

/** Timing of a run (ms of virtual time). */
export interface AvailabilityTiming {
  readonly durationMs: number
  readonly intervalMs: number
  readonly writesPerSec: number
  readonly failAtMs: number
  readonly detectMs: number
  readonly rebuildMs: number
  /** Second fault in the replica-loss scenarios: another replica unreachable for `secondOutageMs`. */
  readonly secondFaultAtMs: number
  readonly secondOutageMs: number
  readonly partitionMs: number
}

/** Events on a run's timeline. */
export interface TimelineEvent {
  readonly atMs: number
  readonly label: string
  /** A few characters for chart markers. */
  readonly short: string
}

/** Short names for legends. */
export const SCENARIO_LABELS: Record<AvailabilityScenario, string> = {
  "replica-loss-no-log-replica": "replica loss, no log replica",
  "replica-loss-with-log-replica": "replica loss + log replica",
  "leader-kill": "leader kill",
  "az-partition": "AZ partition",
}

/** What one scenario measured. */
export interface AvailabilityResult {
  readonly scenario: AvailabilityScenario
  readonly recorder: Recorder
  /** Share of requests that succeeded, per interval. */
  readonly availability: number[]
  readonly requests: number
  readonly succeeded: number
  readonly events: TimelineEvent[]
  /** From the first failure until the group again has three healthy voting members (ms), or -1. */
  readonly quorumRestoredAfterMs: number
  /** Leader kill: from the kill until a new leader can serve writes (ms), or -1. */
  readonly newLeaderAfterMs: number
  /** Longest run of consecutive failed requests, in ms of request start time. */
  readonly longestOutageMs: number
}

const config: Membership = {
  members: ZONES.map((zone, id) => ({ id, role: "storage" as const, zone })),
}

/** Runs one scenario. Deterministic for a seed. */
export function runAvailability(
  scenario: AvailabilityScenario,
  timing: AvailabilityTiming,
  seed: number,
): AvailabilityResult {
  const rng = new Prng(seed)
  const transport = new PartitionTransport()
  const committed = new Set<number>()
  const group = new LocalGroup({
    config,
    sink: () => new MemorySink(),
    transport,
    apply: (_id: ReplicaId, e: Entry) => {
      if (e.kind === ENTRY_COMMAND && e.data.length >= 4)
        committed.add(new DataView(e.data.buffer, e.data.byteOffset, 4).getUint32(0))
    },
  })
  const zoneOf = new Map<ReplicaId, string>(config.members.map((m) => [m.id, m.zone]))
  const events: TimelineEvent[] = []
  // Elect replica 0 before the measured run starts.
  group.cores.get(0)!.campaign()
  let now = 0
  for (let guard = 0; guard < 10_000; guard++) {
    group.pumpSync()
    const l = group.leader()
    if (l?.isEstablished() && l.canServeReads()) break
    now += STEP_MS
    group.tick(now)
  }
  const t0 = now
  /** The AZ whose clients are cut off with its replicas (AZ partition), if any. */
  let clientZoneCut: string | undefined
  const rel = (t: number) => t - t0
  const recorder = new Recorder(timing.intervalMs)
  const gapMs = 1000 / timing.writesPerSec
  // Outstanding requests: id → intended start (virtual, absolute).
  const outstanding = new Map<number, number>()
  let nextReq = 0
  let requests = 0
  let succeeded = 0
  let failStreakStart = -1
  let longestOutageMs = 0
  const outcome = (start: number, ok: boolean, at: number) => {
    recorder.record("write", rel(start), (at - start) * 1000, ok ? "ok" : "error")
    if (ok) {
      succeeded++
      if (failStreakStart >= 0) longestOutageMs = Math.max(longestOutageMs, start - failStreakStart)
      failStreakStart = -1
    } else if (failStreakStart < 0) failStreakStart = start
  }
  // The client: requests from routers in every AZ; each sends to the leader it can reach.
  const leaderReachableFrom = (zone: string): PaxosCore | undefined => {
    for (const [id, c] of group.cores) {
      if (group.down.has(id) || c.state !== "leader") continue
      const isolated = transport.islands.some((s) => s.has(id))
      // Clients in a cut-off AZ reach only the cut-off replicas; clients elsewhere the rest.
      if (isolated === (zone === clientZoneCut)) return c
    }
    return undefined
  }
  // Autoadmin: pending membership changes, applied one at a time on the leader.
  const changes: Array<(m: Membership) => Membership> = []
  let changePending: { slot: number; leader: PaxosCore } | undefined
  let healthyAtMs = -1
  let failedAtMs = -1
  let newLeaderAtMs = -1
  let nextId = 3
  const healthyMembers = (): number => {
    const l = group.leader()
    if (!l) return 0
    return l.latestConfig().members.filter((m) => !group.down.has(m.id) && transport.reachable(m.id, l.id))
      .length
  }
  type Action = { atMs: number; run: () => void }
  const actions: Action[] = []
  const at = (ms: number, label: string, short: string, run: () => void) =>
    actions.push({
      atMs: t0 + ms,
      run: () => {
        events.push({ atMs: ms, label, short })
        run()
      },
    })
  const replace = (deadId: ReplicaId, role: "storage" | "log", zone: string) => {
    const id = nextId++
    group.addReplica(id, role, null)
    zoneOf.set(id, zone)
    changes.push((m) => ({ members: [...m.members, { id, role, zone }] }))
    changes.push((m) => ({ members: m.members.filter((x) => x.id !== deadId) }))
    return id
  }
  const f = timing.failAtMs
  switch (scenario) {
    case "replica-loss-no-log-replica":
    case "replica-loss-with-log-replica": {
      const withLog = scenario === "replica-loss-with-log-replica"
      at(f, "storage replica 2 fails", "r2 dies", () => {
        group.crash(2)
        failedAtMs = now
      })
      if (withLog)
        at(f + timing.detectMs, "autoadmin adds a log replica", "+log", () => replace(2, "log", "az3"))
      else at(f + timing.detectMs, "autoadmin starts a storage rebuild", "rebuild", () => {})
      at(f + timing.detectMs + timing.rebuildMs, "storage replica rebuilt, joins", "rebuilt", () => {
        const log = [...group.cores.keys()].find((id) => id >= 3 && group.cores.get(id)!.role === "log")
        replace(log ?? 2, "storage", "az3")
      })
      at(timing.secondFaultAtMs, "replica 1 unreachable", "r1 cut", () => {
        transport.islands = [new Set([1])]
      })
      at(timing.secondFaultAtMs + timing.secondOutageMs, "replica 1 back", "r1 back", () => {
        transport.islands = []
      })
      break
    }
    case "leader-kill":
      at(f, "leader (replica 0) killed", "kill", () => {
        group.crash(0)
        failedAtMs = now
      })
      at(f + timing.detectMs, "autoadmin adds a log replica", "+log", () => replace(0, "log", "az1"))
      break
    case "az-partition":
      at(f, "az1 (the leader's AZ) cut off", "cut", () => {
        transport.islands = [new Set([0])]
        clientZoneCut = "az1"
        failedAtMs = now
      })
      at(f + timing.partitionMs, "az1 reconnected", "heal", () => {
        transport.islands = []
        clientZoneCut = undefined
      })
      break
  }
  actions.sort((a, b) => a.atMs - b.atMs)
  let ai = 0
  const end = t0 + timing.durationMs
  let nextArrival = t0
  while (now < end || outstanding.size > 0) {
    while (ai < actions.length && actions[ai]!.atMs <= now) actions[ai++]!.run()
    // Issue the requests due by now.
    while (nextArrival <= now && nextArrival < end) {
      const id = nextReq++
      requests++
      const zone = ZONES[Math.floor(rng.next() * ZONES.length)]!
      const leader = leaderReachableFrom(zone)
      const data = new Uint8Array(100)
      new DataView(data.buffer).setUint32(0, id)
      const r = leader?.propose(data)
      if (r?.ok) outstanding.set(id, nextArrival)
      else outcome(nextArrival, false, now)
      nextArrival += gapMs
    }
    // Membership changes, one at a time.
    const leader = group.leader()
    if (
      changePending &&
      (changePending.leader.state !== "leader" || changePending.leader.commitIndex >= changePending.slot)
    )
      changePending = undefined
    if (!changePending && changes.length > 0 && leader?.isEstablished()) {
      const r = leader.proposeConfig(changes[0]!(leader.latestConfig()))
      if (r.ok) {
        changes.shift()
        changePending = { slot: r.slot, leader }
      }
    }
    group.pumpSync()
    for (const [id, start] of outstanding) {
      if (committed.has(id)) {
        outstanding.delete(id)
        committed.delete(id)
        outcome(start, true, now)
      } else if (now - start >= CLIENT_TIMEOUT_MS) {
        outstanding.delete(id)
        outcome(start, false, now)
      }
    }
    if (failedAtMs >= 0 && newLeaderAtMs < 0) {
      const l = group.leader()
      if (l && l.id !== 0 && l.isEstablished() && l.canServeReads()) newLeaderAtMs = now
    }
    if (
      failedAtMs >= 0 &&
      healthyAtMs < 0 &&
      now > failedAtMs &&
      healthyMembers() >= 3 &&
      changes.length === 0 &&
      !changePending
    )
      healthyAtMs = now
    now += STEP_MS
    group.tick(now)
    if (now > end + 10 * CLIENT_TIMEOUT_MS) break
  }
  const series = recorder.series()
  const availability = series.map((s) => (s.ok + s.errors > 0 ? s.ok / (s.ok + s.errors) : 1))
  if (failStreakStart >= 0) longestOutageMs = Math.max(longestOutageMs, end - failStreakStart)
  return {
    scenario,
    recorder,
    availability,
    requests,
    succeeded,
    events,
    quorumRestoredAfterMs: healthyAtMs >= 0 ? healthyAtMs - failedAtMs : -1,
    newLeaderAfterMs: newLeaderAtMs >= 0 ? newLeaderAtMs - failedAtMs : -1,
    longestOutageMs,
  }
}

/** Quick (CI) and full timings. */
export function availabilityTiming(quick: boolean): AvailabilityTiming {
  return quick
    ? {
        durationMs: 40_000,
        intervalMs: 1000,
        writesPerSec: 500,
        failAtMs: 5000,
        detectMs: 2000,
        rebuildMs: 20_000,
        secondFaultAtMs: 12_000,
        secondOutageMs: 8000,
        partitionMs: 10_000,
      }
    : {
        durationMs: 150_000,
        intervalMs: 2500,
        writesPerSec: 500,
        failAtMs: 15_000,
        detectMs: 3000,
        rebuildMs: 90_000,
        secondFaultAtMs: 40_000,
        secondOutageMs: 30_000,
        partitionMs: 30_000,
      }
}

/** Runs the suite. */
/** More scenarios run by another target (the @partita/node cluster), appended to the report. */
export interface AvailabilityExtra {
  readonly tables: ReadonlyArray<Table>
  readonly charts: ReadonlyArray<Chart>
  readonly checks: ReadonlyArray<Check>
  readonly summary: string
  readonly figures: Record<string, number>
}

export async function availabilitySuiteRun(
  ctx: SuiteContext,
  timing = availabilityTiming(ctx.quick),
  extra?: (timing: AvailabilityTiming, seed: number) => AvailabilityExtra,
): Promise<SuiteOutput> {
  const progress = ctx.progress("scenarios", AVAILABILITY_SCENARIOS.length)
  const results: AvailabilityResult[] = []
  for (const s of AVAILABILITY_SCENARIOS) {
    results.push(runAvailability(s, timing, ctx.seed))
    progress.tick()
    await Promise.resolve()
  }
  progress.finish()
  const out = buildAvailabilityReport(timing, results, extra !== undefined)
  if (!extra) return out
  const more = extra(timing, ctx.seed)
  return {
    ...out,
    summary: `${out.summary} ${more.summary}`,
    figures: { ...out.figures, ...more.figures },
    checks: [...out.checks, ...more.checks],
    tables: [...out.tables, ...more.tables],
    charts: [...out.charts, ...more.charts],
  }
}

function get(results: AvailabilityResult[], s: AvailabilityScenario): AvailabilityResult {
  return results.find((r) => r.scenario === s)!
}

/** Tables, charts and checks. */
export function buildAvailabilityReport(
  timing: AvailabilityTiming,
  results: AvailabilityResult[],
  withCluster = false,
): SuiteOutput {
  const tables: Table[] = []
  const charts: Chart[] = []
  const checks: Check[] = []
  const figures: Record<string, number> = {}
  const ivS = timing.intervalMs / 1000
  for (const r of results) {
    figures[`${r.scenario}.availabilityPct`] = sig(pct(r.succeeded / r.requests), 6)
    figures[`${r.scenario}.minIntervalPct`] = pct(Math.min(...r.availability))
    figures[`${r.scenario}.longestOutageMs`] = Math.round(r.longestOutageMs)
  }
  tables.push(
    table(
      "Write availability by scenario (client side)",
      [
        "scenario",
        "requests",
        "succeeded %",
        "worst interval %",
        "intervals below 99.99 %",
        "longest outage (s)",
        "quorum restored after (s)",
        "new leader after (s)",
      ],
      results.map((r) => [
        r.scenario,
        r.requests,
        sig(pct(r.succeeded / r.requests), 6),
        pct(Math.min(...r.availability)),
        r.availability.filter((a) => a < 0.9999).length,
        sig(r.longestOutageMs / 1000, 3),
        r.quorumRestoredAfterMs >= 0 ? sig(r.quorumRestoredAfterMs / 1000, 3) : "-",
        r.newLeaderAfterMs >= 0 ? sig(r.newLeaderAfterMs / 1000, 3) : "-",
      ]),
      `${timing.writesPerSec} writes/s from routers in three AZs for ${timing.durationMs / 1000} s of virtual time; a request fails when no reachable leader takes it or it does not commit within ${CLIENT_TIMEOUT_MS} ms. Availability per ${ivS} s interval (DynamoDB: 5 minutes). Autoadmin notices a failure after ${timing.detectMs / 1000} s; a storage rebuild is modelled as ${timing.rebuildMs / 1000} s. Paxos timers are the module's defaults (election timeout 1 s, lease 0.8 s, heartbeat 0.1 s).`,
    ),
  )
  for (const r of results)
    tables.push(
      table(
        `Timeline: ${r.scenario}`,
        ["t (s)", "event"],
        r.events.map((e) => [sig(e.atMs / 1000, 4), e.label]),
      ),
    )
  charts.push(
    lineChart(
      "Write availability per interval (share of requests that succeed)",
      "time (s)",
      "availability (%)",
      results.map((r) => [
        SCENARIO_LABELS[r.scenario],
        r.availability.map((a, i) => [i * ivS, pct(a)] as const),
      ]),
      {
        markers: get(results, "replica-loss-no-log-replica").events.map((e) => ({
          x: e.atMs / 1000,
          label: e.short,
        })),
      },
    ),
  )
  for (const r of results) {
    const s = r.recorder.series()
    charts.push(
      lineChart(
        `Writes per second — ${SCENARIO_LABELS[r.scenario]}`,
        "time (s)",
        "requests/s",
        [
          ["ok/s", s.map((iv) => [iv.startMs / 1000, iv.ok / ivS] as const)],
          ["errors/s", s.map((iv) => [iv.startMs / 1000, iv.errors / ivS] as const)],
        ],
        { markers: r.events.map((e) => ({ x: e.atMs / 1000, label: e.short })) },
      ),
    )
  }
  const noLog = get(results, "replica-loss-no-log-replica")
  const withLog = get(results, "replica-loss-with-log-replica")
  const kill = get(results, "leader-kill")
  const part = get(results, "az-partition")
  checks.push(
    check(
      "log replica restores a full quorum within seconds; a storage rebuild takes much longer",
      withLog.quorumRestoredAfterMs >= 0 &&
        withLog.quorumRestoredAfterMs <= timing.detectMs + 3000 &&
        noLog.quorumRestoredAfterMs >= timing.rebuildMs,
      `with log replica ${sig(withLog.quorumRestoredAfterMs / 1000, 3)} s, storage rebuild ${sig(noLog.quorumRestoredAfterMs / 1000, 3)} s`,
    ),
  )
  checks.push(
    check(
      "a second fault during the rebuild stops writes without a log replica, not with one",
      noLog.longestOutageMs >= timing.secondOutageMs * 0.8 && withLog.longestOutageMs <= 2500,
      `longest outage without ${sig(noLog.longestOutageMs / 1000, 3)} s, with ${sig(withLog.longestOutageMs / 1000, 3)} s`,
    ),
  )
  checks.push(
    check(
      "leader kill: a new leader serves writes within a few seconds (election timeout + lease wait)",
      kill.newLeaderAfterMs > 0 && kill.newLeaderAfterMs <= 5000,
      `new leader after ${sig(kill.newLeaderAfterMs / 1000, 3)} s; longest outage ${sig(kill.longestOutageMs / 1000, 3)} s`,
    ),
  )
  const partIdx = Math.floor((timing.failAtMs + timing.partitionMs / 2) / timing.intervalMs)
  const midPart = part.availability[partIdx] ?? 1
  checks.push(
    check(
      "AZ partition: the majority side keeps serving (~2/3 of clients succeed mid-partition), all recover after",
      midPart > 0.5 && midPart < 0.8 && (part.availability.at(-2) ?? 0) >= 0.999,
      `mid-partition interval ${pct(midPart)} %, last full interval ${pct(part.availability.at(-2) ?? 0)} %`,
    ),
  )
  const summary =
    `A three-AZ Multi-Paxos group (@partita/paxos LocalGroup, zero-delay in-process transport with a partition filter) under ${timing.writesPerSec} writes/s in virtual time; client-side availability per ${ivS} s interval. ` +
    `Losing a storage replica: a log replica restored a full quorum after ${sig(withLog.quorumRestoredAfterMs / 1000, 3)} s vs ${sig(noLog.quorumRestoredAfterMs / 1000, 3)} s for the (modelled) storage rebuild, and a second fault in that window cost ${sig(noLog.longestOutageMs / 1000, 3)} s of writes without it, ${sig(withLog.longestOutageMs / 1000, 3)} s with it. ` +
    `Leader kill: new leader after ${sig(kill.newLeaderAfterMs / 1000, 3)} s. AZ partition: ${pct(midPart)} % of requests succeed mid-partition (clients in the cut-off AZ fail).${withCluster ? "" : " @partita/node's cluster was not used: its API had not landed."}`
  return {
    title:
      "Availability: replica loss, log replicas, leader kill and AZ partition (client-side, per interval)",
    summary,
    config: { ...timing, stepMs: STEP_MS, clientTimeoutMs: CLIENT_TIMEOUT_MS },
    figures,
    checks,
    tables,
    charts,
  }
}

/** The suite. */
export const availabilitySuite: Suite = {
  name: "availability",
  description:
    "replica loss with/without log replicas, leader kill, AZ partition: client-side availability per interval",
  run: (ctx) => availabilitySuiteRun(ctx),
}
