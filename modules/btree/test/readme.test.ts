// The README example (imports, then the body between the markers): if this breaks, fix the README.
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { addChecksums, BTree, stringCodec } from "@partita/btree"
import { Effect } from "effect"

describe("README example", () => {
  it("runs", async () => {
    // --- README example start ---
    const tree = new BTree<string>({ codec: stringCodec })
    tree.set("user#1#order#001", "pencils")
    tree.set("user#1#order#002", "paper")
    tree.set("user#2#order#001", "ink")

    // Items of one partition key are adjacent: read them a page at a time, DynamoDB style.
    const query = { gte: "user#1#", lt: "user#1$" }
    const page1 = tree.page({ ...query, limit: 1 })
    const page2 = tree.page({ ...query, limit: 1, after: page1.lastEvaluatedKey! })
    assert.deepStrictEqual(page1.items, [["user#1#order#001", "pencils"]])
    assert.deepStrictEqual(page2.items, [["user#1#order#002", "paper"]])
    assert.equal(page2.lastEvaluatedKey, undefined)

    // A snapshot is O(1) and keeps its content while the tree changes.
    const snap = tree.snapshot()
    tree.delete("user#2#order#001")
    assert.equal(snap.size, 3)
    assert.equal(tree.size, 2)

    // Checksums depend on the content only, and adjacent ranges add up to the whole.
    const replica = new BTree<string>({ codec: stringCodec })
    replica.set("user#1#order#002", "paper")
    replica.set("user#1#order#001", "pencils")
    assert.equal(replica.checksum(), tree.checksum())
    const cut = "user#1#order#002"
    assert.equal(addChecksums(tree.rangeChecksum(undefined, cut), tree.rangeChecksum(cut)), tree.checksum())

    // Checkpoints go through @effect/platform's FileSystem; any damage fails with CheckpointCorrupt.
    const program = Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      yield* tree.checkpoint(`${dir}/partition-1.ckpt`)
      const loaded = yield* BTree.load(`${dir}/partition-1.ckpt`, { codec: stringCodec })
      return loaded.checksum() === tree.checksum() && loaded.get("user#1#order#002") === "paper"
    })
    assert.equal(
      await Effect.runPromise(program.pipe(Effect.scoped, Effect.provide(NodeContext.layer))),
      true,
    )
    // --- README example end ---
  })
})
