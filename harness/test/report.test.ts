import assert from "node:assert/strict"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, it } from "node:test"
import {
  decodeTrace,
  encodeTrace,
  importCsv,
  Recorder,
  type RunReport,
  renderHtml,
  replayStarts,
  validateReport,
  writeReport,
} from "@partita/harness"

function sampleReport(): RunReport {
  const r = new Recorder(100)
  for (let i = 0; i < 1000; i++) r.record(i % 2 ? "get" : "put", i, 100 + (i % 97) * 10)
  return {
    schemaVersion: 1,
    suite: "test",
    runId: "20261125T000000Z",
    title: "A <sample> report",
    summary: "numbers & charts",
    startedAt: "2026-11-25T00:00:00.000Z",
    durationMs: 12,
    quick: true,
    seed: 7,
    config: { a: 1 },
    versions: { effect: "3.22.4" },
    machine: {
      cpuModel: "x",
      cores: 2,
      memoryBytes: 1,
      platform: "linux-x64",
      runtime: "bun",
      runtimeVersion: "1",
    },
    figures: { p99Us: r.summary().p99Us },
    checks: [{ name: "flat p99", pass: true, detail: "ok" }],
    tables: [{ title: "t", columns: ["a", "b"], rows: [["x", 1.5]] }],
    charts: [
      {
        kind: "line",
        title: "pct",
        xLabel: "percentile",
        yLabel: "µs",
        logY: true,
        percentileX: true,
        series: [{ name: "all", points: r.percentileCurve() }],
      },
      {
        kind: "heatmap",
        title: "heat",
        xLabel: "t",
        yLabel: "partition",
        rowLabels: ["p0", "p1"],
        columnLabels: ["0", "1"],
        values: [
          [1, 2],
          [3, 4],
        ],
      },
    ],
  }
}

describe("reports", () => {
  it("writes report.json that validates against its schema, plus md and html", () => {
    const dir = mkdtempSync(join(tmpdir(), "partita-report-"))
    try {
      const paths = writeReport(dir, sampleReport())
      const parsed = validateReport(JSON.parse(readFileSync(paths.json, "utf8")))
      assert.equal(parsed._tag, "Right")
      assert.match(readFileSync(paths.md, "utf8"), /\| check \| result \| detail \|/)
      const html = readFileSync(paths.html, "utf8")
      assert.match(html, /^<!doctype html>/)
      assert.equal((html.match(/<svg /g) ?? []).length, 2)
      assert.ok(
        !/<script|https?:\/\/(?!www\.w3\.org)/.test(html),
        "self-contained: no scripts or external resources",
      )
      assert.ok(html.includes("A &lt;sample&gt; report"), "escapes text")
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("rejects a report that does not match the schema, naming the field", () => {
    const bad = { ...sampleReport(), seed: "seven" }
    const v = validateReport(bad)
    assert.equal(v._tag, "Left")
    if (v._tag === "Left") assert.match(v.left, /seed/)
  })

  it("renders a log-scale percentile chart with finite coordinates", () => {
    const html = renderHtml(sampleReport())
    assert.ok(!/NaN|Infinity/.test(html))
  })
})

describe("traces", () => {
  const entries = [
    { t: 0, op: "read", table: "t", key: "a", size: 100 },
    { t: 5.5, op: "update", table: "t", key: "b", size: 900 },
    { t: 10, op: "insert", table: "t", key: "c", size: 1 },
  ] as const
  it("round-trips through gzip JSON Lines", () => {
    const bytes = encodeTrace("x", entries)
    assert.equal(bytes[0], 0x1f)
    const back = decodeTrace(bytes)
    assert.deepEqual(back.entries, entries)
    assert.equal(back.header.entries, 3)
  })
  it("rejects a bad line with its line number", () => {
    const text = `${JSON.stringify({ trace: 1, name: "x", entries: 1 })}\n{"t":-1,"op":"read","table":"t","key":"a","size":1}\n`
    assert.throws(() => decodeTrace(new TextEncoder().encode(text), "f.jsonl"), /f\.jsonl:2/)
  })
  it("imports a CSV of production shapes, sorted and shifted to zero", () => {
    const csv = "time_s,operation,table,key,size\n2.5,GetItem,orders,o1,400\n2.0,PutItem,orders,o2,1200\n"
    const { entries: e } = importCsv(csv)
    assert.deepEqual(
      e.map((x) => [x.t, x.op, x.key]),
      [
        [0, "insert", "o2"],
        [500, "read", "o1"],
      ],
    )
    assert.throws(() => importCsv("1,Frobnicate,t,k,1"), /unknown operation/)
    assert.throws(() => importCsv("1,GetItem,t,k"), /5 columns/)
  })
  it("replays at the original timing, faster, or as fast as possible", () => {
    assert.deepEqual([...replayStarts(entries, 1)], [0, 5.5, 10])
    assert.deepEqual([...replayStarts(entries, 2)], [0, 2.75, 5])
    assert.deepEqual([...replayStarts(entries, Number.POSITIVE_INFINITY)], [0, 0, 0])
    assert.throws(() => [...replayStarts(entries, 0)])
  })
  it("a trace file written to disk reads back", () => {
    const dir = mkdtempSync(join(tmpdir(), "partita-trace-"))
    try {
      const f = join(dir, "t.jsonl.gz")
      writeFileSync(f, encodeTrace("x", entries))
      assert.equal(decodeTrace(new Uint8Array(readFileSync(f))).entries.length, 3)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
