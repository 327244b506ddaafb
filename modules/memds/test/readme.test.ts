import assert from "node:assert/strict"
import { readFileSync } from "node:fs"
import { describe, it } from "node:test"
import { quickstart } from "../examples/quickstart.ts"

describe("README example", () => {
  it("is the file examples/quickstart.ts, verbatim, and produces what the README says", async () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
    const example = readFileSync(new URL("../examples/quickstart.ts", import.meta.url), "utf8")
    assert.ok(readme.includes(example.trim()), "README must embed examples/quickstart.ts verbatim")
    assert.deepEqual(await quickstart(), {
      roots: 1,
      partition: "p1",
      leader: "sn-p1-2",
      lookupsPerRequest: 1,
      restoredMatches: true,
    })
  })
})
