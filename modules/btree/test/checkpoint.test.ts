import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { Effect, Either, type Scope } from "effect"
import { BTree, CheckpointCorrupt, type Scalar, stringCodec } from "../src/index.ts"

/** Items in the large round trip (about 1.2 s under Bun here); PARTITA_BTREE_BIG_ITEMS overrides. */
const BIG_ITEMS = Number(process.env["PARTITA_BTREE_BIG_ITEMS"] ?? 1_000_000)

const run = <A, E>(eff: Effect.Effect<A, E, FileSystem.FileSystem | Scope.Scope>): Promise<A> =>
  Effect.runPromise(Effect.scoped(eff).pipe(Effect.provide(NodeContext.layer)))

const withTempDir = <A, E>(
  f: (dir: string, fs: FileSystem.FileSystem) => Effect.Effect<A, E, FileSystem.FileSystem>,
): Promise<A> =>
  run(
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "partita-btree-" })
      return yield* f(dir, fs)
    }),
  )

function smallTree(): BTree<Scalar> {
  const t = new BTree<Scalar>({ nodeEntriesMax: 8 })
  t.set("a", "alpha")
  t.set("b\u00e9", 42)
  t.set("c\u4e2d", new Uint8Array([1, 2, 3]))
  t.set("d", "a value long enough to span a page boundary in 64-byte pages")
  t.set("e\ud800", "\ud83d")
  t.set("f", -0)
  return t
}

/** Which page holds byte `at`: 0 header (32 bytes), 1..n data pages, n + 1 footer. */
function pageOf(at: number, fileLength: number, pageBytes: number): number {
  if (at < 32) return 0
  const dataPages = (fileLength - 96) / pageBytes
  return Math.min(dataPages + 1, 1 + Math.floor((at - 32) / pageBytes))
}

describe("checkpoint", () => {
  it("round-trips through a file, keeping content, order, sizes and checksum", async () => {
    const t = smallTree()
    const loaded = await withTempDir((dir) =>
      Effect.gen(function* () {
        const path = `${dir}/small.ckpt`
        yield* t.checkpoint(path)
        return yield* BTree.load(path)
      }),
    )
    assert.deepStrictEqual([...loaded.range()], [...t.range()])
    assert.equal(loaded.checksum(), t.checksum())
    assert.equal(loaded.bytes, t.bytes)
    assert.ok(Object.is(loaded.get("f"), -0))
    loaded.checkInvariants()
  })

  it("round-trips an empty tree and a tree with a value larger than a page", () => {
    const empty = new BTree<string>({ codec: stringCodec })
    const back = Either.getOrThrow(
      BTree.fromCheckpointBytes(empty.toCheckpointBytes(), { codec: stringCodec }),
    )
    assert.equal(back.size, 0)
    const big = new BTree<string>({ codec: stringCodec })
    big.set("k", "x".repeat(300_000))
    big.set("l", "\u4e2d".repeat(70_000))
    const bytes = big.toCheckpointBytes({ pageBytes: 4096 })
    const again = Either.getOrThrow(BTree.fromCheckpointBytes(bytes, { codec: stringCodec }))
    assert.equal(again.get("k"), big.get("k"))
    assert.equal(again.get("l"), big.get("l"))
  })

  it("detects every single-bit flip of a small file, naming the flipped page", () => {
    const PAGE_BYTES = 64
    const file = smallTree().toCheckpointBytes({ pageBytes: PAGE_BYTES })
    assert.ok(Either.isRight(BTree.fromCheckpointBytes(file)))
    assert.ok(file.length >= 96 + 3 * PAGE_BYTES, `file has ${file.length} bytes`)
    let flips = 0
    for (let at = 0; at < file.length; at++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = file.slice()
        bad[at]! ^= 1 << bit
        const r = BTree.fromCheckpointBytes(bad, undefined, "flip")
        if (Either.isRight(r)) assert.fail(`flip of byte ${at} bit ${bit} was not detected`)
        assert.ok(r.left instanceof CheckpointCorrupt)
        assert.equal(r.left._tag, "CheckpointCorrupt")
        assert.equal(r.left.page, pageOf(at, file.length, PAGE_BYTES), `byte ${at}: ${r.left.reason}`)
        flips++
      }
    }
    assert.equal(flips, file.length * 8)
  })

  it("detects truncation, extension, swapped pages and a foreign file", () => {
    const PAGE_BYTES = 64
    const file = smallTree().toCheckpointBytes({ pageBytes: PAGE_BYTES })
    const bad = (b: Uint8Array): CheckpointCorrupt => {
      const r = BTree.fromCheckpointBytes(b)
      if (Either.isRight(r)) return assert.fail("damage not detected")
      return r.left
    }
    bad(file.subarray(0, file.length - 1))
    bad(file.subarray(0, 40))
    const longer = new Uint8Array(file.length + PAGE_BYTES)
    longer.set(file)
    bad(longer)
    const swapped = file.slice()
    swapped.set(file.subarray(32, 32 + PAGE_BYTES), 32 + PAGE_BYTES)
    swapped.set(file.subarray(32 + PAGE_BYTES, 32 + 2 * PAGE_BYTES), 32)
    assert.equal(bad(swapped).page, 1)
    assert.equal(bad(new TextEncoder().encode("not a checkpoint at all, just some text".repeat(4))).page, 0)
  })

  it("load fails with a typed CheckpointCorrupt for a damaged file on disk", async () => {
    const err = await withTempDir((dir, fs) =>
      Effect.gen(function* () {
        const path = `${dir}/damaged.ckpt`
        yield* smallTree().checkpoint(path, { pageBytes: 64 })
        const bytes = yield* fs.readFile(path)
        bytes[100]! ^= 0x10
        yield* fs.writeFile(path, bytes)
        return yield* BTree.load(path).pipe(Effect.flip)
      }),
    )
    assert.ok(err instanceof CheckpointCorrupt)
    assert.equal(err.page, 2)
    assert.match(err.message, /page 2/)
  })

  it(`round-trips ${BIG_ITEMS.toLocaleString("en")} items`, async () => {
    const keys = new Array<string>(BIG_ITEMS)
    const values = new Array<number>(BIG_ITEMS)
    for (let i = 0; i < BIG_ITEMS; i++) {
      keys[i] = `user#${String(i).padStart(8, "0")}#order`
      values[i] = i * 3
    }
    const t = BTree.fromSorted<Scalar>(keys, values)
    t.set("user#00000007#order", "changed")
    const loaded = await withTempDir((dir) =>
      Effect.gen(function* () {
        const path = `${dir}/big.ckpt`
        yield* t.checkpoint(path)
        return yield* BTree.load(path)
      }),
    )
    assert.equal(loaded.size, BIG_ITEMS)
    assert.equal(loaded.checksum(), t.checksum())
    assert.equal(loaded.bytes, t.bytes)
    assert.equal(loaded.get("user#00000007#order"), "changed")
    assert.equal(loaded.get(keys[BIG_ITEMS - 1]!), (BIG_ITEMS - 1) * 3)
  })
})
