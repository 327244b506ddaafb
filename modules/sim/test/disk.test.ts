import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { Sim, SimDisk, SimDiskError } from "../src/index.ts"

const bytes = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array) => new TextDecoder().decode(b)

describe("SimDisk", () => {
  it("reads back what was written, including appends and overwrites", () => {
    const d = new SimDisk(new Sim(1))
    assert.equal(d.append("f", bytes("hello ")), 0)
    assert.equal(d.append("f", bytes("world")), 6)
    d.write("f", 0, bytes("J"))
    assert.equal(text(d.read("f")), "Jello world")
    assert.equal(text(d.read("f", 6, 3)), "wor")
    assert.equal(d.size("f"), 11)
    assert.throws(() => d.read("nope"), SimDiskError)
  })

  it("on a lose-all crash loses exactly the un-fsynced writes and keeps fsynced bytes exactly", () => {
    for (let seed = 0; seed < 20; seed++) {
      const sim = new Sim(seed)
      const d = new SimDisk(sim)
      const p = sim.fork("data")
      const model = new Uint8Array(8192)
      let durableLen = 0
      let len = 0
      for (let i = 0; i < 30; i++) {
        const off = p.int(6000)
        const data = new Uint8Array(1 + p.int(1500)).map(() => p.int(256))
        d.write("f", off, data)
        len = Math.max(len, off + data.length)
        if (p.bool(0.3)) {
          d.fsync("f")
          durableLen = len
          model.set(d.read("f"))
        }
      }
      const expected = model.slice(0, durableLen)
      d.crash("lose-all")
      assert.deepEqual(d.read("f"), expected, `seed ${seed}`)
      assert.equal(d.pendingWrites("f"), 0)
    }
  })

  it("on a random crash keeps fsynced bytes exactly; every other byte comes from some un-fsynced write", () => {
    let lostSome = 0
    let keptSome = 0
    for (let seed = 0; seed < 50; seed++) {
      const sim = new Sim(seed)
      const d = new SimDisk(sim)
      const p = sim.fork("data")
      // durable prefix of 4 KB of 0xAA
      d.write("f", 0, new Uint8Array(4096).fill(0xaa))
      d.fsync("f")
      // un-fsynced: overwrite part of the prefix with 0x01 and append 0x02
      d.write("f", 1000 + p.int(100), new Uint8Array(700).fill(0x01))
      d.append("f", new Uint8Array(2000).fill(0x02))
      d.crash()
      const after = d.read("f")
      assert.ok(after.length >= 4096, `seed ${seed}: durable length kept`)
      for (let i = 0; i < after.length; i++) {
        const b = after[i]!
        if (i < 4096) assert.ok(b === 0xaa || b === 0x01, `seed ${seed} byte ${i} = ${b}`)
        else assert.ok(b === 0x02 || b === 0, `seed ${seed} byte ${i} = ${b}`)
      }
      // bytes outside the un-fsynced overwrite are exactly the fsynced ones
      for (let i = 0; i < 1000; i++) assert.equal(after[i], 0xaa)
      for (let i = 1800; i < 4096; i++) assert.equal(after[i], 0xaa)
      if (after.length < 6096 || after.includes(0)) lostSome++
      if (after.length > 4096) keptSome++
    }
    assert.ok(lostSome > 0 && keptSome > 0, `random crashes both lose and keep (${lostSome}, ${keptSome})`)
  })

  it("keeps all fsynced data across repeated crash / restart cycles", () => {
    const sim = new Sim(5)
    const d = new SimDisk(sim)
    const log: string[] = []
    for (let round = 0; round < 10; round++) {
      const rec = `record-${round};`
      d.append("wal", bytes(rec))
      if (round % 2 === 0) {
        d.fsync("wal")
        log.push(rec)
      }
      d.append("wal", bytes("garbage"))
      d.crash("lose-all")
      assert.equal(text(d.read("wal")), log.join(""))
    }
  })

  it("injects fsync errors; the failed writes are still un-durable", () => {
    const d = new SimDisk(new Sim(1))
    d.append("f", bytes("a"))
    d.fsync("f")
    d.append("f", bytes("b"))
    d.failNextFsync("f")
    assert.throws(
      () => d.fsync("f"),
      (e: unknown) => e instanceof SimDiskError && e.op === "fsync",
    )
    assert.equal(text(d.read("f")), "ab")
    d.crash("lose-all")
    assert.equal(text(d.read("f")), "a")
    d.append("f", bytes("c"))
    d.fsync("f")
    d.crash("lose-all")
    assert.equal(text(d.read("f")), "ac")
    assert.equal(d.stats.fsyncErrors, 1)
  })

  it("fails fsyncs at the configured rate", () => {
    const d = new SimDisk(new Sim(2), { fsyncErrorProbability: 0.2 })
    d.create("f")
    let failed = 0
    for (let i = 0; i < 2000; i++) {
      try {
        d.fsync("f")
      } catch {
        failed++
      }
    }
    assert.ok(failed > 300 && failed < 500, `${failed}`)
  })

  it("flips bits (bit rot) in stored bytes, also after restart", () => {
    const d = new SimDisk(new Sim(3))
    d.write("f", 0, new Uint8Array(100))
    d.fsync("f")
    d.corrupt("f", 10, 3)
    assert.equal(d.read("f")[10], 8)
    d.crash()
    assert.equal(d.read("f")[10], 8)
    const offs = d.rot("f", 5)
    assert.equal(offs.length, 5)
    const after = d.read("f")
    let flipped = 0
    for (const b of after) if (b !== 0) flipped++
    assert.ok(flipped >= 1 && flipped <= 6)
  })

  it("misdirects a write to another sector of the file", () => {
    const d = new SimDisk(new Sim(4), { sectorBytes: 512 })
    d.write("f", 0, new Uint8Array(4096))
    d.fsync("f")
    d.misdirectNextWrite("f")
    d.write("f", 1024, new Uint8Array(512).fill(7))
    const b = d.read("f")
    assert.ok(
      b.subarray(1024, 1536).every((x) => x === 0),
      "intended sector unchanged",
    )
    assert.ok(b.includes(7), "data landed elsewhere")
    assert.equal(d.stats.misdirected, 1)
  })

  it("rename and remove are durable at once", () => {
    const d = new SimDisk(new Sim(6))
    d.write("tmp", 0, bytes("checkpoint"))
    d.fsync("tmp")
    d.rename("tmp", "ckpt")
    d.create("other")
    d.remove("other")
    d.crash()
    assert.deepEqual(d.list(), ["ckpt"])
    assert.equal(text(d.read("ckpt")), "checkpoint")
  })
})

describe("SimDisk determinism", () => {
  it("the same seed gives the same post-crash bytes and trace hash; another seed differs", () => {
    const run = (seed: number) => {
      const sim = new Sim(seed)
      const d = new SimDisk(sim, { misdirectProbability: 0.05 })
      const p = sim.fork("w")
      for (let i = 0; i < 50; i++) {
        d.write("f", p.int(8192), new Uint8Array(1 + p.int(2000)).fill(1 + p.int(255)))
        if (p.bool(0.2)) d.fsync("f")
      }
      d.crash()
      return { bytes: Array.from(d.read("f")), trace: sim.trace.hex() }
    }
    const a = run(9)
    assert.deepEqual(run(9), a)
    const b = run(10)
    assert.notEqual(b.trace, a.trace)
    assert.notDeepEqual(b.bytes, a.bytes)
  })
})
