import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { readFileSync } from "node:fs"
import { example } from "./example.ts"

describe("README example", () => {
  it("runs", () => {
    example()
  })

  it("is the code shown in the README", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
    const source = readFileSync(new URL("./example.ts", import.meta.url), "utf8")
    assert.ok(readme.includes(source.trim()), "README.md must show test/example.ts verbatim")
  })
})
