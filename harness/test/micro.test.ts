import assert from "node:assert/strict"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, it } from "node:test"
import { flattenBench, runModuleBench } from "../src/suites/micro.ts"

describe("micro suite", () => {
  it("flattens a module report into tables and figures", () => {
    const flat = flattenBench("m", {
      summary: "fast",
      figures: { opsPerSec: 1234.5, ratio: 2, other: 3 },
      rows: [
        { task: "a", ns: 10.5 },
        { task: "b", ns: 20, extra: true },
      ],
      tables: [{ title: "T", columns: ["x", "y"], rows: [[1, 2]] }],
      markdown: "| ignored |",
    })
    assert.equal(flat.summary, "fast")
    assert.equal(flat.figures["m.figures.opsPerSec"], 1234.5)
    const rows = flat.tables.find((t) => t.title === "m: rows")!
    assert.deepEqual(rows.columns, ["task", "ns", "extra"])
    assert.deepEqual(rows.rows[1], ["b", 20, "yes"])
    assert.ok(flat.tables.some((t) => t.title === "m: T" && t.rows[0]![1] === 2))
    assert.ok(flat.tables.some((t) => t.title === "m: figures"))
  })

  it("runs a module's run…Bench and leaves its results/ folder as it was", async () => {
    const root = mkdtempSync(join(tmpdir(), "micro-"))
    try {
      mkdirSync(join(root, "modules", "fake", "bench"), { recursive: true })
      mkdirSync(join(root, "results", "fake"), { recursive: true })
      writeFileSync(join(root, "results", "fake", "bench.json"), "published")
      writeFileSync(
        join(root, "modules", "fake", "bench", "index.ts"),
        `import { writeFileSync } from "node:fs"
import { join } from "node:path"
export async function runFakeBench(o: { quick: boolean }) {
  const dir = join(import.meta.dirname, "../../../results/fake")
  writeFileSync(join(dir, "bench.json"), "overwritten")
  writeFileSync(join(dir, "bench-quick.json"), "new")
  return { quick: o.quick, opsPerSec: 42 }
}
`,
      )
      const r = await runModuleBench(root, "fake", true)
      assert.equal(r.status, "ran")
      assert.deepEqual(r.report, { quick: true, opsPerSec: 42 })
      assert.equal(readFileSync(join(root, "results", "fake", "bench.json"), "utf8"), "published")
      assert.ok(!existsSync(join(root, "results", "fake", "bench-quick.json")))
      assert.equal((await runModuleBench(root, "absent", true)).status, "missing")
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})
