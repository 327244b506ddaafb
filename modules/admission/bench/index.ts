/**
 * Admission benchmarks: decisions per second on the request path, and GAC convergence in simulation.
 *
 *   bun modules/admission/bench/index.ts          # full run
 *   bun modules/admission/bench/index.ts --quick  # small run (< 30 s)
 *
 * Writes results/admission/admission.json and results/admission/admission.md (quick runs:
 * admission-quick.*, so a quick run never overwrites the published figures).
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { cpus } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import {
  GacStage,
  MILLI_PER_UNIT,
  READ,
  StaticStage,
  TokenBucket,
  BurstStage,
  type Topology,
} from "../src/index.ts"
import { convergence, runGacSim } from "../test/support/gacSim.ts"

/** What the harness gathers from this suite. */
export interface BenchReport {
  readonly suite: "admission"
  readonly runtime: string
  readonly machine: string
  readonly quick: boolean
  readonly decisionsPerSec: Record<string, number>
  readonly ratios: Record<string, number>
  readonly gac: ReadonlyArray<{
    scenario: "skewed" | "uniform"
    routers: number
    convergedAfterMs: number
    overshootPct: number
    restartMaxDeviationPct: number
    seeds: number
  }>
  /** Everything above as one flat record of numbers, for the harness. */
  readonly figures: Record<string, number>
  readonly markdown: string
}

/** The classic floating-point token bucket most libraries ship: the peer we compare against. */
class FloatBucket {
  tokens: number
  last: number
  constructor(
    readonly rate: number,
    readonly cap: number,
    now: number,
  ) {
    this.tokens = cap
    this.last = now
  }
  tryTake(n: number, now: number): boolean {
    this.tokens = Math.min(this.cap, this.tokens + ((now - this.last) * this.rate) / 1000)
    this.last = now
    if (this.tokens < n) return false
    this.tokens -= n
    return true
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

let sink = 0

/** Calls per second of `fn(i)` over `n` calls. */
function rate(n: number, fn: (i: number) => boolean): number {
  const t0 = performance.now()
  let ok = 0
  for (let i = 0; i < n; i++) if (fn(i)) ok++
  const dt = performance.now() - t0
  sink += ok
  return (n / dt) * 1000
}

const topo: Topology = {
  nodes: [{ id: "a", readCapacityUnits: 1e6, writeCapacityUnits: 1e6 }],
  routers: ["r0"],
  tables: [
    {
      id: "t",
      mode: "provisioned",
      readCapacityUnits: 100_000,
      writeCapacityUnits: 100_000,
      partitions: Array.from({ length: 64 }, (_, i) => ({ id: `p${i}`, replicas: ["a"] })),
    },
  ],
}

function decisionBench(quick: boolean): { perSec: Record<string, number>; ratios: Record<string, number> } {
  const n = quick ? 2_000_000 : 20_000_000
  const rounds = quick ? 3 : 7
  // Time advances one ms every 64 calls and buckets refill 40 units per ms, so both outcomes occur
  // (about 60 % admitted) and every call does the refill arithmetic.
  const cases: Record<string, () => (i: number) => boolean> = {
    "TokenBucket.tryTake": () => {
      const b = new TokenBucket(40_000 * MILLI_PER_UNIT, 40_000 * MILLI_PER_UNIT, 0)
      return (i) => b.tryTake(MILLI_PER_UNIT, i >>> 6)
    },
    "FloatBucket.tryTake (peer)": () => {
      const b = new FloatBucket(40_000, 40_000, 0)
      return (i) => b.tryTake(1, i >>> 6)
    },
    "StaticStage.admit": () => {
      const s = new StaticStage(topo)
      return (i) => s.admit(0, i & 63, READ, MILLI_PER_UNIT, i >>> 6) <= 1
    },
    "BurstStage.admit": () => {
      const s = new BurstStage(topo)
      return (i) => s.admit(0, i & 63, READ, MILLI_PER_UNIT, i >>> 6) <= 1
    },
    "GacStage.admit": () => {
      const s = new GacStage(topo)
      return (i) => s.admit(0, i & 63, READ, MILLI_PER_UNIT, i >>> 6) <= 1
    },
  }
  const samples: Record<string, number[]> = {}
  for (let r = 0; r < rounds; r++) {
    // Interleaved: every case once per round, in the same process.
    for (const [name, mk] of Object.entries(cases)) (samples[name] ??= []).push(rate(n, mk()))
  }
  const perSec: Record<string, number> = {}
  for (const [k, v] of Object.entries(samples)) perSec[k] = median(v)
  const ratios: Record<string, number> = {}
  // Per-round ratio against the peer measured in the same round, then the median.
  ratios["TokenBucket / FloatBucket"] = median(
    samples["TokenBucket.tryTake"]!.map((x, i) => x / samples["FloatBucket.tryTake (peer)"]![i]!),
  )
  return { perSec, ratios }
}

function gacBench(quick: boolean): BenchReport["gac"] {
  const seeds = quick ? 2 : 5
  const R = 10_000
  const stepMs = 10_000
  const out: Array<BenchReport["gac"][number]> = []
  const scenarios = {
    // Quiet at R/2, then a step to 1.2 R with one router wanting 0.6 R.
    skewed: (routers: number) => (r: number, t: number) =>
      t < stepMs ? (0.5 * R) / routers : r === 0 ? 0.6 * R : (0.6 * R) / (routers - 1),
    // Quiet at R/2, then 2 R spread evenly over the routers.
    uniform: (routers: number) => (_r: number, t: number) =>
      t < stepMs ? (0.5 * R) / routers : (2 * R) / routers,
  } as const
  for (const scenario of ["skewed", "uniform"] as const)
    for (const routers of [10, 100]) {
      const conv: number[] = []
      const over: number[] = []
      const dev: number[] = []
      for (let seed = 1; seed <= seeds; seed++) {
        const base = {
          seed,
          routers,
          servers: 3,
          provisionedUnits: R,
          durationMs: 40_000,
          lossRate: 0.02,
          delayMs: [1, 30] as const,
          demand: scenarios[scenario](routers),
        }
        const res = runGacSim(base)
        const c = convergence(res.admitted, R, stepMs, 0.03)
        conv.push(c.convergedAfterMs)
        over.push(c.overshoot)
        const restarted = runGacSim({ ...base, restartOwnerAtMs: 22_000 })
        let worst = 0
        for (let w = 20; w < 40; w++)
          worst = Math.max(worst, Math.abs(restarted.admitted[w]! - res.admitted[w]!) / R)
        dev.push(worst)
      }
      out.push({
        scenario,
        routers,
        convergedAfterMs: median(conv),
        overshootPct: Math.round(median(over) * 1000) / 10,
        restartMaxDeviationPct: Math.round(median(dev) * 1000) / 10,
        seeds,
      })
    }
  return out
}

/** Runs the suite and writes JSON + Markdown under results/admission/. */
export async function runAdmissionBench(opts: { quick: boolean }): Promise<BenchReport> {
  const runtime = typeof Bun !== "undefined" ? `bun ${Bun.version}` : `node ${process.version}`
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}`
  const { perSec, ratios } = decisionBench(opts.quick)
  const gac = gacBench(opts.quick)
  const fmt = (x: number) => `${(x / 1e6).toFixed(1)} M/s`
  const md = [
    `## @partita/admission benchmark (${opts.quick ? "quick" : "full"})`,
    "",
    `${runtime}, ${machine}. Median of interleaved rounds.`,
    "",
    "| decision path | decisions/s |",
    "|---|---|",
    ...Object.entries(perSec).map(([k, v]) => `| ${k} | ${fmt(v)} |`),
    "",
    ...Object.entries(ratios).map(
      ([k, v]) => `Ratio ${k}: **${v.toFixed(2)}×** (same process, per-round median).`,
    ),
    "",
    "GAC in simulation (3 GAC servers, 2 % message loss, 1–30 ms delay, 2 s replenish interval). At 10 s demand",
    "steps from 0.5 R to 1.2 R with one router wanting 0.6 R (skewed), or to 2 R spread evenly (uniform).",
    "Converged = every later 1 s window within 3 % of R; overshoot = the largest 1 s window above R;",
    "restart = the owning GAC server restarts empty at 22 s, largest change of a 1 s window against the same run",
    "without restart. Medians over seeds.",
    "",
    "| demand step | routers | converged after | overshoot | owner restart: max deviation | seeds |",
    "|---|---|---|---|---|---|",
    ...gac.map(
      (g) =>
        `| ${g.scenario} | ${g.routers} | ${(g.convergedAfterMs / 1000).toFixed(0)} s | ${g.overshootPct} % | ${g.restartMaxDeviationPct} % | ${g.seeds} |`,
    ),
    "",
  ].join("\n")
  const figures: Record<string, number> = {}
  for (const [k, v] of Object.entries(perSec)) figures[`decisionsPerSec.${k}`] = Math.round(v)
  for (const [k, v] of Object.entries(ratios)) figures[`ratio.${k}`] = v
  for (const g of gac) {
    const k = `gac.${g.scenario}.${g.routers}`
    figures[`${k}.convergedAfterMs`] = g.convergedAfterMs
    figures[`${k}.overshootPct`] = g.overshootPct
    figures[`${k}.restartMaxDeviationPct`] = g.restartMaxDeviationPct
  }
  const report: BenchReport = {
    figures,
    suite: "admission",
    runtime,
    machine,
    quick: opts.quick,
    decisionsPerSec: perSec,
    ratios,
    gac,
    markdown: md,
  }
  const dir = join(dirname(fileURLToPath(import.meta.url)), "../../../results/admission")
  mkdirSync(dir, { recursive: true })
  // a quick run never overwrites the published full-run figures
  const base = opts.quick ? "admission-quick" : "admission"
  writeFileSync(
    join(dir, `${base}.json`),
    `${JSON.stringify({ ...report, date: new Date().toISOString(), sink }, null, 2)}\n`,
  )
  writeFileSync(join(dir, `${base}.md`), `${md}\n`)
  return report
}

if (import.meta.main) {
  const report = await runAdmissionBench({ quick: process.argv.includes("--quick") })
  console.log(report.markdown)
}
