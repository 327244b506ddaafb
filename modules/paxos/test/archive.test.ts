import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeFileSystem } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import {
  Archiver,
  DirectoryObjectStoreLayer,
  MemoryObjectStore,
  MemoryObjectStoreLayer,
  type ObjectStore,
  archiveSegment,
  encodeArchiveSegment,
  listSegments,
  readSegment,
  rebuildFromArchive,
} from "../src/internal/archive.ts"
import type { Entry } from "../src/internal/types.ts"
import { ENTRY_COMMAND, ENTRY_NOOP } from "../src/internal/types.ts"

const enc = new TextEncoder()
const dec = new TextDecoder()
const ID = { table: "orders", partition: "p7" }
const log = (n: number, ballot = 513): Entry[] =>
  Array.from({ length: n }, (_, i) =>
    i % 10 === 0
      ? { slot: i + 1, ballot, kind: ENTRY_NOOP, data: new Uint8Array(0) }
      : { slot: i + 1, ballot, kind: ENTRY_COMMAND, data: enc.encode(`k${i % 7}=${i}`) },
  )
const sumApply = (s: Map<string, string>, e: Entry): Map<string, string> => {
  if (e.kind !== ENTRY_COMMAND) return s
  const [k, v] = dec.decode(e.data).split("=")
  s.set(k!, v!)
  return s
}
const run = <A, E>(eff: Effect.Effect<A, E, ObjectStore>, store: MemoryObjectStore) =>
  Effect.runPromise(Effect.either(eff.pipe(Effect.provide(MemoryObjectStoreLayer(store)))))

describe("WAL archive", () => {
  it("seals byte-identical segments on every replica whatever ballots they accepted in", () => {
    const a = new Archiver(ID, 100).offer(log(250, 513))
    const b = new Archiver(ID, 100).offer(log(250, 770))
    assert.equal(a.length, 2)
    assert.deepEqual(
      a.map((s) => s.bytes),
      b.map((s) => s.bytes),
    )
    assert.deepEqual(a[1]!.manifest.firstPosition, 101)
  })

  it("uploads once; archivers on the other replicas download and compare instead", async () => {
    const store = new MemoryObjectStore()
    const segs = [0, 1, 2].map(() => new Archiver(ID, 100).offer(log(300)))
    const outcomes: string[] = []
    for (const replica of segs)
      for (const s of replica) {
        const r = await run(archiveSegment(ID, s), store)
        assert.equal(r._tag, "Right")
        if (r._tag === "Right") outcomes.push(r.right)
      }
    assert.deepEqual(outcomes.filter((o) => o === "uploaded").length, 3)
    assert.deepEqual(outcomes.filter((o) => o === "verified-existing").length, 6)
  })

  it("detects an archived copy that differs from a replica's log (bit rot in the store)", async () => {
    const store = new MemoryObjectStore()
    const [s] = new Archiver(ID, 100).offer(log(100))
    assert.equal((await run(archiveSegment(ID, s!), store))._tag, "Right")
    const key = [...store.objects.keys()].find((k) => k.endsWith(".seg"))!
    store.objects.get(key)![77]! ^= 0x10
    const again = await run(archiveSegment(ID, s!), store)
    assert.equal(again._tag, "Left")
    if (again._tag === "Left") assert.match(String((again.left as { reason?: string }).reason), /differs/)
    const read = await run(readSegment(ID, s!.manifest), store)
    assert.equal(read._tag, "Left", "a rotted segment fails verification on download")
  })

  it("refuses to upload a segment with a hole, a foreign table/partition or a bad checksum", async () => {
    const store = new MemoryObjectStore()
    const entries = log(10)
    const holey = encodeArchiveSegment(ID, [...entries.slice(0, 4), ...entries.slice(5)])
    const r1 = await run(archiveSegment(ID, holey), store)
    assert.equal(r1._tag, "Left")
    const foreign = encodeArchiveSegment({ table: "orders", partition: "p8" }, entries)
    assert.equal((await run(archiveSegment(ID, foreign), store))._tag, "Left")
    const good = encodeArchiveSegment(ID, entries)
    const flipped = { manifest: good.manifest, bytes: good.bytes.slice() }
    flipped.bytes[50]! ^= 1
    assert.equal((await run(archiveSegment(ID, flipped), store))._tag, "Left")
    assert.equal(store.objects.size, 0, "nothing was uploaded")
  })

  it("survives injected store failures: the upload fails with a typed error and succeeds on retry", async () => {
    let fail = true
    const store = new MemoryObjectStore({ failPut: () => fail })
    const [s] = new Archiver(ID, 50).offer(log(50))
    const r = await run(archiveSegment(ID, s!), store)
    assert.equal(r._tag, "Left")
    if (r._tag === "Left") assert.equal(r.left._tag, "ObjectStoreError")
    fail = false
    assert.equal((await run(archiveSegment(ID, s!), store))._tag, "Right")
  })

  it("rebuilds a reference replica from the archive up to a position, and refuses a hole", async () => {
    const store = new MemoryObjectStore()
    const entries = log(400)
    for (const s of new Archiver(ID, 100).offer(entries)) await run(archiveSegment(ID, s), store)
    const expected = entries.slice(0, 333).reduce(sumApply, new Map<string, string>())
    const r = await run(rebuildFromArchive(ID, 333, new Map<string, string>(), sumApply), store)
    assert.equal(r._tag, "Right")
    if (r._tag === "Right") {
      assert.equal(r.right.through, 333)
      assert.deepEqual([...r.right.state].sort(), [...expected].sort())
    }
    const listed = await run(listSegments(ID), store)
    assert.equal(listed._tag === "Right" ? listed.right.length : -1, 4)
    for (const k of [...store.objects.keys()]) if (k.includes("00000000000101-")) store.objects.delete(k)
    const holed = await run(rebuildFromArchive(ID, 400, new Map<string, string>(), sumApply), store)
    assert.equal(holed._tag, "Left")
  })

  it("a manifest damaged in the store is a typed ArchiveCheckError naming its key, not an exception", async () => {
    const damages: Array<[string, (b: Uint8Array) => Uint8Array]> = [
      ["not JSON", (b) => b.subarray(0, b.length - 3)],
      [
        "a bit flipped in a digit",
        (b) => Uint8Array.from(b, (x, i) => (i === b.indexOf(0x3a) + 1 ? x ^ 0x40 : x)),
      ],
      ["wrong shape", () => enc.encode(JSON.stringify({ table: "orders", partition: "p7" }))],
      ["another partition's", (b) => enc.encode(dec.decode(b).replace('"p7"', '"p8"'))],
      [
        "positions not matching its key",
        (b) => enc.encode(dec.decode(b).replace('"lastPosition":200', '"lastPosition":199')),
      ],
    ]
    for (const [what, damage] of damages) {
      const store = new MemoryObjectStore()
      for (const s of new Archiver(ID, 100).offer(log(300))) await run(archiveSegment(ID, s), store)
      const key = [...store.objects.keys()].find(
        (k) => k.includes("00000000000101-") && k.endsWith(".manifest.json"),
      )!
      store.objects.set(key, damage(store.objects.get(key)!))
      const r = await run(listSegments(ID), store)
      assert.equal(r._tag, "Left", what)
      if (r._tag === "Left") {
        assert.equal(r.left._tag, "ArchiveCheckError", what)
        if (r.left._tag === "ArchiveCheckError") assert.equal(r.left.segment, key, what)
      }
    }
  })

  it("truncation is allowed only through min(archived, checkpoint)", () => {
    const a = new Archiver(ID, 100)
    a.archivedThrough = 200
    assert.equal(a.truncatableThrough(150), 150)
    assert.equal(a.truncatableThrough(500), 200)
  })

  it("works on a local directory store through @effect/platform FileSystem", async () => {
    const dir = mkdtempSync(join(tmpdir(), "paxos-archive-"))
    try {
      const layer = DirectoryObjectStoreLayer(dir).pipe(Layer.provide(NodeFileSystem.layer))
      const prog = Effect.gen(function* () {
        for (const s of new Archiver(ID, 64).offer(log(200))) yield* archiveSegment(ID, s)
        return yield* rebuildFromArchive(ID, 192, 0, (n, e) => n + (e.kind === ENTRY_COMMAND ? 1 : 0))
      })
      const r = await Effect.runPromise(prog.pipe(Effect.provide(layer)))
      assert.equal(r.through, 192)
      assert.equal(r.state, log(192).filter((e) => e.kind === ENTRY_COMMAND).length)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
