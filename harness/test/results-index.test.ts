import assert from "node:assert/strict"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, it } from "node:test"
import { runSuite, type Suite } from "../src/suite.ts"

const tiny: Suite = {
  name: "tiny",
  description: "a suite that returns at once",
  run: async (ctx) => ({
    title: `tiny ${ctx.quick ? "quick" : "full"}`,
    summary: "",
    config: {},
    figures: { x: 1 },
    checks: [{ name: "ok", pass: true, detail: "" }],
    tables: [],
    charts: [],
  }),
}

describe("results index", () => {
  it("lists full runs only (quick runs are not published)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "results-"))
    try {
      await runSuite(tiny, { quick: true, seed: 1, root: process.cwd(), resultsDir: dir, quiet: true })
      let index = readFileSync(join(dir, "README.md"), "utf8")
      assert.ok(!index.includes("tiny quick"))
      const full = await runSuite(tiny, {
        quick: false,
        seed: 1,
        root: process.cwd(),
        resultsDir: dir,
        quiet: true,
      })
      index = readFileSync(join(dir, "README.md"), "utf8")
      assert.ok(index.includes("tiny full"))
      assert.ok(index.includes(full.report.runId))
      assert.ok(!index.includes("-quick"))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
