/**
 * Benchmarks of the simulation kit: PRNG rate (vs Math.random and Effect's PCG in the same run,
 * interleaved, median of rounds), scheduler events/s, network messages/s, Effect sleeps/s on virtual
 * time, and the linearizability checker's time on the labelled data set.
 *
 *   bun modules/sim/bench/index.ts [--quick]
 *
 * Writes results/sim/bench.json and results/sim/bench.md. Benchmarks may read real time.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { PCGRandom } from "effect/Utils"
import {
  casRegisterModel,
  checkHistory,
  Delay,
  kvModel,
  parseHistory,
  Prng,
  runSim,
  Scheduler,
  Sim,
  SimNetwork,
} from "../src/index.ts"

/** A benchmark report (same shape as the harness's suite output tables). */
export interface BenchReport {
  readonly title: string
  readonly summary: string
  readonly config: Record<string, unknown>
  readonly figures: Record<string, number>
  readonly tables: ReadonlyArray<{ title: string; columns: string[]; rows: Array<Array<string | number>> }>
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Run `fn(n)` and return operations per second. */
const rate = (n: number, fn: (n: number) => number): number => {
  const t0 = performance.now()
  const sink = fn(n)
  const ms = performance.now() - t0
  if (sink === 0.123456789) console.log("") // keep the result alive
  return n / (ms / 1000)
}

const DATA_CANDIDATES = [
  process.env.PARTITA_LINEARIZABILITY_DATA,
  join(import.meta.dirname, "../../../workloads/data/linearizability"),
  join(import.meta.dirname, "../../../../shared/data/linearizability"),
  "/work/shared/data/linearizability",
].filter((p): p is string => p !== undefined && p !== "")

const dataDir = (): string | undefined =>
  DATA_CANDIDATES.find((p) => {
    try {
      readdirSync(join(p, "kv"))
      return true
    } catch {
      return false
    }
  })

/** Run every measurement; `quick` shrinks sizes and rounds (< ~30 s). */
export const runSimBench = async (opts: { quick: boolean }): Promise<BenchReport> => {
  const rounds = opts.quick ? 3 : 7
  const n = opts.quick ? 5_000_000 : 20_000_000
  const figures: Record<string, number> = {}

  // --- PRNG, interleaved with peers
  const ours = new Prng(1)
  const pcg = new PCGRandom(1)
  const r = {
    xoU32: [] as number[],
    xoNext: [] as number[],
    xoInt: [] as number[],
    math: [] as number[],
    pcg: [] as number[],
  }
  for (let i = 0; i < rounds; i++) {
    r.xoU32.push(
      rate(n, (k) => {
        let s = 0
        for (let j = 0; j < k; j++) s ^= ours.nextU32()
        return s
      }),
    )
    r.math.push(
      rate(n, (k) => {
        let s = 0
        for (let j = 0; j < k; j++) s += Math.random()
        return s
      }),
    )
    r.xoNext.push(
      rate(n, (k) => {
        let s = 0
        for (let j = 0; j < k; j++) s += ours.next()
        return s
      }),
    )
    r.pcg.push(
      rate(n, (k) => {
        let s = 0
        for (let j = 0; j < k; j++) s += pcg.number()
        return s
      }),
    )
    r.xoInt.push(
      rate(n, (k) => {
        let s = 0
        for (let j = 0; j < k; j++) s += ours.int(1000)
        return s
      }),
    )
  }
  figures.prngU32PerSec = median(r.xoU32)
  figures.prngNextPerSec = median(r.xoNext)
  figures.prngIntPerSec = median(r.xoInt)
  figures.mathRandomPerSec = median(r.math)
  figures.effectPcgPerSec = median(r.pcg)

  // --- scheduler: schedule + run with ~10k events pending
  const schedRates: number[] = []
  const netRates: number[] = []
  const sleepRates: number[] = []
  const events = opts.quick ? 300_000 : 1_000_000
  for (let i = 0; i < rounds; i++) {
    schedRates.push(
      rate(events, (k) => {
        const s = new Scheduler()
        const p = new Prng(i)
        let left = k
        const fire = (): void => {
          if (--left > 0) s.schedule(p.next() * 10, fire)
        }
        for (let j = 0; j < 10_000; j++) s.schedule(p.next() * 10, fire)
        s.runUntilIdle(k + 20_000)
        return s.steps
      }),
    )
    netRates.push(
      rate(events / 2, (k) => {
        const sim = new Sim(i)
        const net = new SimNetwork<number>(sim, {
          lossProbability: 0.01,
          intraAzDelay: Delay.uniform(0.1, 1),
        })
        let got = 0
        net.addNode("a", "az1", () => got++).addNode("b", "az1", () => got++)
        for (let j = 0; j < k; j++) {
          net.send("a", "b", j)
          if ((j & 1023) === 0) sim.scheduler.runUntilIdle()
        }
        sim.scheduler.runUntilIdle()
        return got
      }),
    )
    const sleeps = opts.quick ? 20_000 : 100_000
    sleepRates.push(
      rate(sleeps, (k) =>
        runSim(
          i,
          Effect.gen(function* () {
            for (let j = 0; j < k; j++) yield* Effect.sleep(1)
            return k
          }),
        ),
      ),
    )
  }
  figures.schedulerEventsPerSec = median(schedRates)
  figures.networkMessagesPerSec = median(netRates)
  figures.effectSleepsPerSec = median(sleepRates)

  // --- checker on the labelled data set
  const checkerRows: Array<Array<string | number>> = []
  const dir = dataDir()
  if (dir !== undefined) {
    for (const f of readdirSync(join(dir, "kv")).sort()) {
      const events = parseHistory(readFileSync(join(dir, "kv", f), "utf8"))
      const times: number[] = []
      let verdict = ""
      for (let i = 0; i < rounds; i++) {
        const t0 = performance.now()
        verdict = checkHistory(kvModel, events).verdict
        times.push(performance.now() - t0)
      }
      const ms = median(times)
      figures[`checker_kv_${f.replace(".txt", "")}_ms`] = ms
      checkerRows.push([`kv/${f}`, events.length, verdict, Number(ms.toFixed(1))])
    }
    const labels = readFileSync(join(dir, "etcd/labels.tsv"), "utf8").trim().split("\n")
    const etcd = labels.map((l) => {
      const [f] = l.split("\t") as [string]
      return parseHistory(readFileSync(join(dir, "etcd", f), "utf8"))
    })
    const totals: number[] = []
    let worst = 0
    for (let i = 0; i < Math.min(rounds, 3); i++) {
      const t0 = performance.now()
      for (const e of etcd) {
        const s = performance.now()
        checkHistory(casRegisterModel, e)
        worst = Math.max(worst, performance.now() - s)
      }
      totals.push(performance.now() - t0)
    }
    figures.checker_etcd_all_ms = median(totals)
    figures.checker_etcd_worst_file_ms = worst
    checkerRows.push([
      "etcd/* (102 files, total)",
      etcd.reduce((a, e) => a + e.length, 0),
      "all labels",
      Number(median(totals).toFixed(1)),
    ])
  }

  const fmt = (x: number) => `${(x / 1e6).toFixed(1)} M/s`
  return {
    title: "Simulation kit",
    summary: `xoshiro128** ${fmt(figures.prngU32PerSec)} u32 (${(figures.prngNextPerSec / figures.mathRandomPerSec).toFixed(2)}x Math.random for floats); scheduler ${fmt(figures.schedulerEventsPerSec)} events; checker c50 kv ${figures["checker_kv_c50-ok_ms"]?.toFixed(0)} ms`,
    config: {
      quick: opts.quick,
      rounds,
      prngDraws: n,
      events,
      runtime: typeof Bun !== "undefined" ? `bun ${Bun.version}` : "other",
    },
    figures,
    tables: [
      {
        title: "PRNG and simulation throughput (median of rounds, interleaved)",
        columns: ["what", "rate", "vs peer"],
        rows: [
          ["Prng.nextU32 (xoshiro128**)", fmt(figures.prngU32PerSec), ""],
          [
            "Prng.next [0,1)",
            fmt(figures.prngNextPerSec),
            `${(figures.prngNextPerSec / figures.mathRandomPerSec).toFixed(2)}x Math.random`,
          ],
          [
            "Effect PCGRandom.number (peer)",
            fmt(figures.effectPcgPerSec),
            `${(figures.prngNextPerSec / figures.effectPcgPerSec).toFixed(2)}x ours/PCG`,
          ],
          ["Math.random (peer, unseeded)", fmt(figures.mathRandomPerSec), ""],
          ["Prng.int(1000)", fmt(figures.prngIntPerSec), ""],
          ["Scheduler schedule+run (10k pending)", fmt(figures.schedulerEventsPerSec), ""],
          ["SimNetwork send+deliver", fmt(figures.networkMessagesPerSec), ""],
          ["runSim Effect.sleep", fmt(figures.effectSleepsPerSec), ""],
        ],
      },
      {
        title: "Linearizability checker (median ms per file)",
        columns: ["history", "events", "verdict", "ms"],
        rows: checkerRows,
      },
    ],
  }
}

const toMarkdown = (r: BenchReport): string =>
  [
    `# ${r.title}`,
    "",
    r.summary,
    "",
    `config: \`${JSON.stringify(r.config)}\``,
    "",
    ...r.tables.flatMap((t) => [
      `## ${t.title}`,
      "",
      `| ${t.columns.join(" | ")} |`,
      `|${t.columns.map(() => "---").join("|")}|`,
      ...t.rows.map((row) => `| ${row.join(" | ")} |`),
      "",
    ]),
  ].join("\n")

if (import.meta.main) {
  const quick = process.argv.includes("--quick")
  const report = await runSimBench({ quick })
  const out = join(import.meta.dirname, "../../../results/sim")
  mkdirSync(out, { recursive: true })
  writeFileSync(join(out, `bench${quick ? "-quick" : ""}.json`), JSON.stringify(report, null, 2))
  writeFileSync(join(out, `bench${quick ? "-quick" : ""}.md`), toMarkdown(report))
  console.log(toMarkdown(report))
}
