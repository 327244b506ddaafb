/**
 * The report page renders in a real browser: headless Chromium (Debian's `chromium` package) loads
 * a report.html written by a suite and the rendered DOM holds every chart as an SVG. Skipped when
 * Chromium is not installed. To look at a page yourself:
 *   chromium --headless --no-sandbox --screenshot=/tmp/report.png --window-size=1000,4000 file://$PWD/results/<suite>/<run>/report.html
 */
import assert from "node:assert/strict"
import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, it } from "node:test"
import { runSuite } from "../src/suite.ts"
import { throttlingConfig, throttlingSuiteRun } from "../src/suites/throttling.ts"

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p))

describe("report.html in headless Chromium", () => {
  it("renders every chart of a suite's report as SVG", { skip: CHROMIUM === undefined }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "html-"))
    try {
      const cfg = { ...throttlingConfig(true), loads: [60, 100], durationMs: 6000, dilutionMs: 4000 }
      const { report, dir: runDir } = await runSuite(
        { name: "throttling", description: "", run: (ctx) => throttlingSuiteRun(ctx, cfg) },
        { quick: true, seed: 1, root: process.cwd(), resultsDir: dir, quiet: true },
      )
      const dom = execFileSync(
        CHROMIUM!,
        [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--dump-dom",
          `file://${join(runDir, "report.html")}`,
        ],
        { encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "ignore"] },
      )
      const svgs = dom.match(/<svg[\s>]/g)?.length ?? 0
      assert.equal(svgs, report.charts.length)
      assert.ok(dom.includes(report.title.replaceAll("&", "&amp;")))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
