/**
 * The availability scenarios against the whole @partita/node cluster on the deterministic
 * simulation (`simCluster`: storage nodes, request routers with retries, MemDS, GAC, the metadata
 * service that detects failures and heals with a log replica, then a rebuilt storage replica).
 * Writes come through the client from routers in every AZ; a write that has not succeeded within
 * the router's deadline is an error. Availability per interval is the share that succeeded.
 */
import { CallbackClient, type SimCluster, simCluster } from "@partita/node"
import { Recorder } from "../measure.ts"
import type { Chart, Table } from "../report.ts"
import {
  AVAILABILITY_SCENARIOS,
  type AvailabilityExtra,
  type AvailabilityScenario,
  type AvailabilityTiming,
  SCENARIO_LABELS,
  type TimelineEvent,
} from "./availability.ts"
import { type Check, check, lineChart, pct, sig, table } from "./common.ts"

/** What one cluster scenario measured. */
export interface ClusterAvailabilityResult {
  readonly scenario: AvailabilityScenario
  readonly recorder: Recorder
  readonly availability: number[]
  readonly requests: number
  readonly succeeded: number
  readonly events: TimelineEvent[]
  /** Failure → log replica caught up (quorum restored), ms; -1 if it did not happen. */
  readonly coveredAfterMs: number
  /** Failure → storage replica rebuilt, ms; -1 if it did not happen. */
  readonly rebuiltAfterMs: number
  /** Leader kill → a new leader known, ms; -1 otherwise. */
  readonly newLeaderAfterMs: number
  readonly longestOutageMs: number
}

const TABLE = "avail"
/** The router gives up on a request after this long (the client-side error). */
const DEADLINE_MS = 1000

/** Runs one scenario on a fresh simulated cluster. Deterministic for a seed. */
export function runClusterAvailability(
  scenario: AvailabilityScenario,
  timing: AvailabilityTiming,
  seed: number,
): ClusterAvailabilityResult {
  const withHeal = scenario !== "replica-loss-no-log-replica"
  const c: SimCluster = simCluster(seed, {
    nodes: 9,
    routers: 3,
    failureDetectMs: timing.detectMs,
    heal: withHeal,
    deadlineMs: DEADLINE_MS,
  })
  c.meta.createTable({
    TableName: TABLE,
    KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
    AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
    BillingMode: "PAY_PER_REQUEST",
    Partitions: 1,
  })
  c.runFor(3000)
  const pid = c.meta.partitionMap(TABLE)!.partitions[0]!.id
  const client = new CallbackClient(c.meta, c.routers)
  const t0 = c.sim.now
  const recorder = new Recorder(timing.intervalMs)
  const events: TimelineEvent[] = []
  let requests = 0
  let succeeded = 0
  const outcomes: Array<[number, boolean]> = []
  const gap = 1000 / timing.writesPerSec
  const n = Math.floor((timing.durationMs * timing.writesPerSec) / 1000)
  for (let i = 0; i < n; i++) {
    const at = i * gap
    c.sim.schedule(at, () => {
      requests++
      const start = c.sim.now
      client.putItem({ TableName: TABLE, Item: { id: { S: `k${i % 500}` }, n: { N: String(i) } } }, (r) => {
        const ok = r.ok
        if (ok) succeeded++
        outcomes.push([start - t0, ok])
        recorder.record("write", start - t0, (c.sim.now - start) * 1000, ok ? "ok" : "error")
      })
    })
  }
  const at = (ms: number, label: string, short: string, run: () => void) =>
    c.sim.schedule(ms, () => {
      events.push({ atMs: ms, label, short })
      run()
    })
  let failedAt = -1
  let victim = ""
  let newLeaderAt = -1
  const f = timing.failAtMs
  switch (scenario) {
    case "replica-loss-no-log-replica":
    case "replica-loss-with-log-replica": {
      let second = ""
      let handle = -1
      at(f, "storage replica fails", "replica dies", () => {
        const leader = c.leaderOf(pid)
        const followers = c.replicasOf(pid).filter((x) => x.node !== leader)
        victim = followers[0]!.node
        second = followers[1]?.node ?? ""
        failedAt = c.sim.now
        c.killNode(victim)
      })
      at(timing.secondFaultAtMs, "second replica unreachable", "2nd cut", () => {
        // The other original follower, unless healing already replaced it.
        if (second) handle = c.isolate(second)
      })
      at(timing.secondFaultAtMs + timing.secondOutageMs, "second replica back", "2nd back", () => {
        if (handle >= 0) c.heal(handle)
      })
      break
    }
    case "leader-kill":
      at(f, "leader killed", "kill", () => {
        failedAt = c.sim.now
        victim = c.killLeader(pid) ?? ""
      })
      break
    case "az-partition": {
      let handle = -1
      at(f, "leader's AZ cut off", "cut", () => {
        const leader = c.leaderOf(pid)
        const az = [...c.nodes.values()].find((x) => x.nodeId === leader)?.az ?? "az1"
        failedAt = c.sim.now
        victim = leader ?? ""
        handle = c.partitionAz(az)
      })
      at(f + timing.partitionMs, "AZ reconnected", "heal", () => c.heal(handle))
      break
    }
  }
  const end = timing.durationMs + DEADLINE_MS * 3
  while (c.sim.now - t0 < end) {
    c.runFor(10)
    if (failedAt >= 0 && newLeaderAt < 0) {
      const l = c.leaderOf(pid)
      if (l !== undefined && l !== victim) newLeaderAt = c.sim.now
    }
  }
  outcomes.sort((a, b) => a[0] - b[0])
  let longest = 0
  let streak = -1
  for (const [s, ok] of outcomes) {
    if (ok) {
      if (streak >= 0) longest = Math.max(longest, s - streak)
      streak = -1
    } else if (streak < 0) streak = s
  }
  // An outage still going at the end of the run lasted at least until the last request.
  if (streak >= 0) longest = Math.max(longest, (outcomes.at(-1)?.[0] ?? streak) - streak)
  const heal = c.meta.heals.find((h) => h.failedNode === victim)
  const series = recorder.series()
  return {
    scenario,
    recorder,
    availability: series.map((s) => (s.ok + s.errors > 0 ? s.ok / (s.ok + s.errors) : 1)),
    requests,
    succeeded,
    events,
    coveredAfterMs: heal?.coveredAt !== undefined && failedAt >= 0 ? heal.coveredAt - failedAt : -1,
    rebuiltAfterMs: heal?.rebuiltAt !== undefined && failedAt >= 0 ? heal.rebuiltAt - failedAt : -1,
    newLeaderAfterMs: newLeaderAt >= 0 ? newLeaderAt - failedAt : -1,
    longestOutageMs: longest,
  }
}

/** Report pieces for the cluster scenarios (appended to the availability report). */
export function clusterSection(
  timing: AvailabilityTiming,
  results: ClusterAvailabilityResult[],
): { tables: Table[]; charts: Chart[]; checks: Check[]; summary: string; figures: Record<string, number> } {
  const ivS = timing.intervalMs / 1000
  const get = (s: AvailabilityScenario) => results.find((r) => r.scenario === s)!
  const figures: Record<string, number> = {}
  for (const r of results) {
    figures[`cluster.${r.scenario}.availabilityPct`] = sig(pct(r.succeeded / Math.max(1, r.requests)), 6)
    figures[`cluster.${r.scenario}.longestOutageMs`] = Math.round(r.longestOutageMs)
  }
  const secs = (ms: number) => (ms >= 0 ? sig(ms / 1000, 3) : "-")
  const tables: Table[] = [
    table(
      "@partita/node cluster on the simulation: write availability by scenario (client side)",
      [
        "scenario",
        "requests",
        "succeeded %",
        "worst interval %",
        "longest outage (s)",
        "log replica covered after (s)",
        "storage replica rebuilt after (s)",
        "new leader after (s)",
      ],
      results.map((r) => [
        r.scenario,
        r.requests,
        sig(pct(r.succeeded / Math.max(1, r.requests)), 6),
        pct(Math.min(...r.availability)),
        secs(r.longestOutageMs),
        secs(r.coveredAfterMs),
        secs(r.rebuiltAfterMs),
        r.scenario === "leader-kill" || r.scenario === "az-partition" ? secs(r.newLeaderAfterMs) : "-",
      ]),
      `simCluster: 9 storage nodes in 3 AZs, 3 routers (one per AZ), MemDS and GAC, one partition; ${timing.writesPerSec} PutItem/s round-robin over the routers; router deadline ${DEADLINE_MS} ms (retries inside it). Healing (log replica, then storage rebuild) is the metadata service's own, failure detection ${timing.detectMs / 1000} s; "no log replica" runs with healing off.`,
    ),
  ]
  const charts: Chart[] = [
    lineChart(
      "@partita/node cluster: write availability per interval",
      "time (s)",
      "availability (%)",
      results.map((r) => [
        SCENARIO_LABELS[r.scenario],
        r.availability.map((a, i) => [i * ivS, pct(a)] as const),
      ]),
    ),
  ]
  const noLog = get("replica-loss-no-log-replica")
  const withLog = get("replica-loss-with-log-replica")
  const kill = get("leader-kill")
  const part = get("az-partition")
  const partIdx = Math.floor((timing.failAtMs + timing.partitionMs / 2) / timing.intervalMs)
  const midPart = part.availability[partIdx] ?? 1
  const checks: Check[] = [
    check(
      "cluster: the metadata service restores the quorum with a log replica within seconds",
      withLog.coveredAfterMs >= 0 && withLog.coveredAfterMs <= timing.detectMs + 3000,
      `covered after ${secs(withLog.coveredAfterMs)} s, storage rebuilt after ${secs(withLog.rebuiltAfterMs)} s`,
    ),
    check(
      "cluster: a second fault stops writes without healing, not with it",
      noLog.longestOutageMs >= timing.secondOutageMs * 0.8 && withLog.longestOutageMs <= 2500,
      `longest outage without ${secs(noLog.longestOutageMs)} s, with ${secs(withLog.longestOutageMs)} s`,
    ),
    check(
      "cluster: writes recover once the second replica is back (no healing)",
      (noLog.availability.at(-2) ?? 0) >= 0.99,
      `last full interval ${pct(noLog.availability.at(-2) ?? 0)} %`,
    ),
    check(
      "cluster: leader kill costs a few seconds at most",
      kill.newLeaderAfterMs > 0 && kill.longestOutageMs <= 5000,
      `new leader after ${secs(kill.newLeaderAfterMs)} s; longest outage ${secs(kill.longestOutageMs)} s`,
    ),
    check(
      "cluster: AZ partition — clients outside the cut-off AZ keep being served mid-partition",
      midPart >= 0.5,
      `mid-partition interval ${pct(midPart)} % (longest outage ${secs(part.longestOutageMs)} s)`,
    ),
  ]
  const summary = `On the @partita/node cluster (simCluster): log replica covered after ${secs(withLog.coveredAfterMs)} s, storage rebuilt after ${secs(withLog.rebuiltAfterMs)} s; leader kill outage ${secs(kill.longestOutageMs)} s; AZ partition mid-interval availability ${pct(midPart)} %.`
  return { tables, charts, checks, summary, figures }
}

/** Runs every scenario on the cluster and returns the report pieces (the suite's `extra`). */
export function clusterExtra(timing: AvailabilityTiming, seed: number): AvailabilityExtra {
  return clusterSection(
    timing,
    AVAILABILITY_SCENARIOS.map((s) => runClusterAvailability(s, timing, seed)),
  )
}
