import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Interaction, parseDataFile, renderDataFile } from "./support/interaction.ts"

const dir = join(dirname(fileURLToPath(import.meta.url)), "testdata")
const rewrite = process.env.PARTITA_REWRITE === "1"

describe("paxos scenario files (test/testdata/*.txt)", () => {
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".txt"))
    .sort()) {
    it(`replays ${file} exactly`, () => {
      const text = readFileSync(join(dir, file), "utf8")
      const header = text
        .split("\n")
        .filter((l, i, all) => l.startsWith("#") && all.slice(0, i).every((x) => x.startsWith("#")))
        .join("\n")
      const cases = parseDataFile(text)
      const env = new Interaction()
      const results = cases.map((c) => ({ ...c, actual: env.run(c.command, c.args) }))
      if (rewrite) {
        writeFileSync(join(dir, file), renderDataFile(header === "" ? "" : `${header}\n\n`, results))
        return
      }
      for (const r of results) {
        const actual = r.actual === "" ? "ok" : r.actual
        assert.equal(actual, r.expected, `${file}:${r.line} ${r.command} ${r.args.join(" ")}`)
      }
    })
  }
})
