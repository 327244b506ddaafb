import assert from "node:assert/strict"
import { readFileSync } from "node:fs"
import { describe, it } from "node:test"
import { customStore } from "../examples/custom-store.ts"
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
})
