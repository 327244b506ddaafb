import type { Recorder } from "./measure.ts"
import type { Chart, Table } from "./report.ts"

/** A table of latency percentiles per operation kind (µs). */
export function latencyTable(recorder: Recorder, title = "Latency by operation (µs)"): Table {
  const rows: Array<Array<string | number>> = []
  for (const op of [...recorder.ops(), "*"]) {
    const s = recorder.summary(op)
    rows.push([op === "*" ? "all" : op, s.count, s.p50Us, s.p90Us, s.p99Us, s.p999Us, s.maxUs])
  }
  return { title, columns: ["operation", "count", "p50", "p90", "p99", "p99.9", "max"], rows }
}

/** Latency percentile curves (log-scale latency against a percentile axis). */
export function percentileChart(
  title: string,
  runs: ReadonlyArray<readonly [string, Recorder, string?]>,
): Chart {
  return {
    kind: "line",
    title,
    xLabel: "percentile",
    yLabel: "latency (µs)",
    logY: true,
    percentileX: true,
    series: runs.map(([name, r, op]) => ({ name, points: r.percentileCurve(op ?? "*") })),
  }
}

/** Time series of completed and throttled requests per second, and p99 per interval. */
export function timeSeriesChart(recorder: Recorder, title = "Rate over time"): Chart {
  const s = recorder.series()
  const perSec = 1000 / recorder.intervalMs
  return {
    kind: "line",
    title,
    xLabel: "time (s)",
    yLabel: "requests/s",
    series: [
      { name: "ok/s", points: s.map((iv) => [iv.startMs / 1000, iv.ok * perSec] as [number, number]) },
      {
        name: "throttled/s",
        points: s.map((iv) => [iv.startMs / 1000, iv.throttled * perSec] as [number, number]),
      },
      {
        name: "errors/s",
        points: s.map((iv) => [iv.startMs / 1000, iv.errors * perSec] as [number, number]),
      },
    ],
  }
}
