import assert from "node:assert/strict"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { describe, it } from "node:test"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { customStore } from "../examples/custom-store.ts"
import { countVisits } from "../examples/data-dir.ts"
import { overTcp } from "../examples/over-tcp.ts"
import { quickstart } from "../examples/quickstart.ts"

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
const source = (name: string) => readFileSync(new URL(`../examples/${name}`, import.meta.url), "utf8")

describe("README examples", () => {
  it("the quickstart runs a cluster and returns what the README says", async () => {
    assert.deepEqual(await quickstart(), { spent: { N: "42" }, capacity: 1, count: 1 })
    assert.ok(
      readme.includes(source("quickstart.ts").trim()),
      "README quickstart differs from examples/quickstart.ts",
    )
  })
  it("the custom store (one Paxos group of B-trees, no router) works", async () => {
    assert.deepEqual(await customStore(), {
      put: true,
      item: { k: { S: "x" }, v: { N: "1" } },
      identicalReplicas: true,
    })
    assert.ok(
      readme.includes(source("custom-store.ts").trim()),
      "README custom store differs from examples/custom-store.ts",
    )
  })
  it("a data directory: each opening finds what the last one wrote", async () => {
    const dir = mkdtempSync(join(tmpdir(), "partita-example-"))
    try {
      assert.deepEqual([await countVisits(dir), await countVisits(dir), await countVisits(dir)], [1, 2, 3])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    assert.ok(
      readme.includes(source("data-dir.ts").trim()),
      "README data directory example differs from examples/data-dir.ts",
    )
  })
  it("over TCP: a server and a remote client", async () => {
    assert.deepEqual(await overTcp(), {
      data: { B: new Uint8Array([0xca, 0xfe]) },
      refused: "ResourceNotFoundException",
    })
    assert.ok(
      readme.includes(source("over-tcp.ts").trim()),
      "README over-TCP example differs from examples/over-tcp.ts",
    )
  })
})
