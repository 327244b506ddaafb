import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeFileSystem } from "@effect/platform-node"
import { Effect } from "effect"
import { crc32c, crc32cUpdate } from "../src/internal/crc32c.ts"
import {
  FileStorageLayer,
  MemoryDisk,
  Storage,
  WalLog,
  logIdOf,
  memoryStorage,
  recoverFromStorage,
} from "../src/internal/storage.ts"
import type { Entry, Ready } from "../src/internal/types.ts"
import { ENTRY_COMMAND } from "../src/internal/types.ts"
import { FrameWriter, recoverState, scanFrames } from "../src/internal/wal.ts"
import { Prng } from "./support/prng.ts"

const enc = new TextEncoder()
const LOG = logIdOf({ table: "t", partition: "p0" })
const entry = (slot: number, ballot = 256, text = `v${slot}`): Entry => ({
  slot,
  ballot,
  kind: ENTRY_COMMAND,
  data: enc.encode(text),
})
const ready = (entries: Entry[], commit: number, promised = 256): Ready => ({
  messages: [],
  entries,
  hardState: { promised, commit },
  snapshot: null,
  committed: [],
  reads: [],
})
const writeLog = (n: number): Uint8Array => {
  const w = new FrameWriter(LOG, 7)
  for (let s = 1; s <= n; s++) {
    w.entry(entry(s))
    w.hard({ promised: 256, commit: s - 1 })
  }
  return w.take()
}

describe("CRC-32C", () => {
  it("matches the standard check values", () => {
    assert.equal(crc32c(enc.encode("123456789")), 0xe3069283)
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa)
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43)
    assert.equal(crc32c(new Uint8Array(0)), 0)
  })
  it("is the same computed in one call or in pieces of any length", () => {
    const b = new Uint8Array(1000).map((_, i) => (i * 31) & 0xff)
    for (const cut of [1, 3, 4, 5, 17, 999]) {
      assert.equal(crc32cUpdate(crc32cUpdate(0, b, 0, cut), b, cut), crc32c(b))
    }
  })
})

describe("WAL frames and recovery", () => {
  it("round-trips entries and hard state", () => {
    const scan = scanFrames(writeLog(20), { logId: LOG, chainSeed: 7 })
    assert.equal(scan.corruptAt, -1)
    const st = recoverState(scan, () => null)
    assert.equal(st.entries.length, 20)
    assert.equal(st.hardState.commit, 19)
    assert.equal(st.hardState.promised, 256)
    assert.equal(st.repairThrough, 0)
  })

  it("truncates a torn tail at every cut point and never calls it corruption", () => {
    const bytes = writeLog(10)
    for (let cut = 0; cut < bytes.length; cut += 7) {
      const scan = scanFrames(bytes.slice(0, cut), { logId: LOG, chainSeed: 7 })
      assert.equal(scan.corruptAt, -1, `cut ${cut}`)
      assert.ok(scan.validBytes <= cut)
      const st = recoverState(scan, () => null)
      assert.equal(st.repairThrough, 0)
      assert.ok(st.entries.every((e, i) => e.slot === i + 1))
    }
  })

  it("treats a bad record followed by valid ones as corruption: trusted prefix only, repair needed", () => {
    const prng = new Prng(3)
    const clean = writeLog(30)
    for (let trial = 0; trial < 50; trial++) {
      const bytes = clean.slice()
      const pos = prng.int(bytes.length - 400)
      bytes[pos]! ^= 1 << prng.int(8)
      const scan = scanFrames(bytes, { logId: LOG, chainSeed: 7 })
      assert.ok(scan.corruptAt >= 0, `flip at ${pos} not detected`)
      const st = recoverState(scan, () => null)
      assert.ok(st.repairThrough >= 30, "must not vote until repaired past the last slot seen")
      assert.ok(st.hardState.commit <= st.entries.length)
      for (const e of st.entries) assert.equal(new TextDecoder().decode(e.data), `v${e.slot}`)
    }
  })

  it("rejects a frame from another log (misdirected) even though its CRC is valid", () => {
    const other = new FrameWriter(logIdOf({ table: "t", partition: "p1" }), 7)
    other.entry(entry(1))
    const scan = scanFrames(other.take(), { logId: LOG, chainSeed: 7 })
    assert.equal(scan.records.length, 0)
  })

  it("rejects a stale frame replayed into the chain even though its CRC is valid", () => {
    const w = new FrameWriter(LOG, 7)
    w.entry(entry(1))
    const first = w.take()
    w.entry(entry(2))
    const second = w.take()
    // Replay frame 1 where frame 2 belongs: CRC fine, chain broken.
    const forged = new Uint8Array([...first, ...first, ...second])
    const scan = scanFrames(forged, { logId: LOG, chainSeed: 7 })
    assert.ok(scan.corruptAt >= 0)
  })

  it("the skip-CRC canary accepts a flipped payload byte (which the real scan rejects)", () => {
    const bytes = writeLog(5)
    bytes[41]! ^= 0x04 // inside the first entry's payload (header is 40 bytes, payload "v1")
    assert.ok(scanFrames(bytes, { logId: LOG, chainSeed: 7 }).corruptAt >= 0)
    const bad = scanFrames(bytes, { logId: LOG, chainSeed: 7, skipCrc: true })
    assert.equal(bad.corruptAt, -1)
    assert.notEqual(new TextDecoder().decode(bad.records[0]!.payload), "v1")
  })
})

describe("Storage service and WalLog", () => {
  it("recovers from a memory disk after a crash: synced data survives, a torn tail is cut", async () => {
    const disk = new MemoryDisk()
    const st = memoryStorage(disk)
    const wal = new WalLog(LOG, 600)
    const prog = Effect.gen(function* () {
      for (let s = 1; s <= 20; s++) {
        wal.encode(ready([entry(s)], s - 1))
        const { segment, bytes } = wal.take()
        yield* st.append(segment, bytes)
        yield* st.sync(segment)
      }
      wal.encode(ready([entry(21)], 20))
      const t = wal.take()
      yield* st.append(t.segment, t.bytes)
      disk.crash(30) // a torn prefix of the unsynced frame survives
      return yield* recoverFromStorage(st, LOG, { segmentBytesMax: 600 })
    })
    const rec = await Effect.runPromise(prog)
    assert.ok(wal.sealed().length >= 2, "segments rolled over")
    assert.equal(rec.state.entries.length, 20)
    assert.equal(rec.state.repairThrough, 0)
    assert.equal(rec.truncatedBytes, 30)
    // The recovered WalLog continues the chain.
    rec.wal.encode(ready([entry(21)], 20))
    const t = rec.wal.take()
    const again = await Effect.runPromise(
      Effect.gen(function* () {
        yield* st.append(t.segment, t.bytes)
        yield* st.sync(t.segment)
        return yield* recoverFromStorage(st, LOG)
      }),
    )
    assert.equal(again.state.entries.length, 21)
    assert.equal(again.scan.corruptAt, -1)
  })

  it("reports a failed fsync as a fatal StorageError and drops the unsynced bytes", async () => {
    let fail = false
    const disk = new MemoryDisk({ failSync: () => fail })
    const st = memoryStorage(disk)
    await Effect.runPromise(st.append(0, new Uint8Array([1, 2, 3])))
    fail = true
    const r = await Effect.runPromise(Effect.either(st.sync(0)))
    assert.equal(r._tag, "Left")
    if (r._tag === "Left") assert.equal(r.left.fatal, true)
    fail = false
    await Effect.runPromise(st.sync(0))
    assert.equal(
      (await Effect.runPromise(st.read(0))).length,
      0,
      "a retried fsync does not bring the data back",
    )
  })

  it("writes, syncs, lists, truncates and reads real files through @effect/platform FileSystem", async () => {
    const dir = mkdtempSync(join(tmpdir(), "paxos-wal-"))
    try {
      const prog = Effect.gen(function* () {
        const st = yield* Storage
        const wal = new WalLog(LOG, 1 << 20)
        for (let s = 1; s <= 50; s++) {
          wal.encode(ready([entry(s)], s - 1))
          const { segment, bytes } = wal.take()
          yield* st.append(segment, bytes)
        }
        yield* st.sync(0)
        yield* st.putCheckpoint(10, enc.encode("ckpt"))
        return yield* recoverFromStorage(st, LOG)
      })
      const rec = await Effect.runPromise(
        prog.pipe(Effect.provide(FileStorageLayer(dir)), Effect.provide(NodeFileSystem.layer), Effect.scoped),
      )
      assert.equal(rec.state.entries.length, 50)
      assert.equal(rec.state.hardState.commit, 49)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
