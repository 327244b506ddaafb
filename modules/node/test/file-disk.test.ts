import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { FILE_DISK_OPEN_FILES_MAX, FileDisk, isDiskError } from "@partita/node"

/** A node's disk as real files (`FileDisk`): what the WAL relies on, checked against the files. */
const withDisk = (f: (d: FileDisk, dir: string) => void): void => {
  const dir = mkdtempSync(join(tmpdir(), "partita-disk-"))
  let n = 0
  const random = (): number => {
    n = (n * 1103515245 + 12345) % 2 ** 31
    return n / 2 ** 31
  }
  const d = new FileDisk(dir, random)
  try {
    f(d, dir)
  } finally {
    d.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

const bytes = (...xs: number[]) => new Uint8Array(xs)

describe("FileDisk", () => {
  it("appends, writes at offsets, reads back what the file holds, and knows sizes", () => {
    withDisk((d, dir) => {
      assert.equal(d.exists("wal/a"), false)
      assert.equal(d.append("wal/a", bytes(1, 2, 3)), 0)
      assert.equal(d.append("wal/a", bytes(4, 5)), 3)
      d.fsync("wal/a")
      assert.equal(d.size("wal/a"), 5)
      d.write("wal/a", 1, bytes(9))
      d.write("wal/a", 7, bytes(7))
      assert.deepEqual([...d.read("wal/a")], [1, 9, 3, 4, 5, 0, 0, 7])
      assert.deepEqual([...readFileSync(join(dir, "wal", "a"))], [1, 9, 3, 4, 5, 0, 0, 7])
      // Closed and opened again (a node restart): the same bytes and size.
      d.close()
      assert.equal(d.size("wal/a"), 8)
      assert.deepEqual([...d.read("wal/a")], [1, 9, 3, 4, 5, 0, 0, 7])
    })
  })

  it("renames over a file, removes, and lists by prefix", () => {
    withDisk((d) => {
      d.append("wal/p1", bytes(1))
      d.append("wal/p1.tmp", bytes(2, 2))
      d.append("other/x", bytes(3))
      assert.deepEqual(d.list("wal/"), ["wal/p1", "wal/p1.tmp"])
      d.fsync("wal/p1.tmp")
      d.rename("wal/p1.tmp", "wal/p1")
      assert.deepEqual(d.list("wal/"), ["wal/p1"])
      assert.deepEqual([...d.read("wal/p1")], [2, 2])
      assert.equal(d.size("wal/p1"), 2)
      d.remove("wal/p1")
      assert.equal(d.exists("wal/p1"), false)
      assert.deepEqual(d.list(), ["other/x"])
    })
  })

  it("flips bits in place (bit rot), at a given byte or at random ones", () => {
    withDisk((d) => {
      d.append("f", new Uint8Array(64))
      d.corrupt("f", 10, 3)
      assert.equal(d.read("f")[10], 8)
      const at = d.rot("f", 5)
      assert.equal(at.length, 5)
      const changed = [...d.read("f")].filter((b) => b !== 0).length
      assert.ok(changed >= 1 && changed <= 6)
      assert.throws(
        () => d.corrupt("f", 64),
        (e) => isDiskError(e),
      )
    })
  })

  it("reports I/O errors and names outside its directory as DiskIoError", () => {
    withDisk((d, dir) => {
      for (const bad of ["../escape", "/etc/passwd", "a/../../b", ""])
        assert.throws(
          () => d.append(bad, bytes(1)),
          (e: { _tag?: string }) => isDiskError(e) && e._tag === "DiskIoError",
        )
      assert.throws(
        () => d.read("missing"),
        (e) => isDiskError(e),
      )
      assert.throws(
        () => d.fsync("missing"),
        (e) => isDiskError(e),
      )
      // A directory where a file should be: the write fails, the disk does not crash the caller.
      writeFileSync(join(dir, "plain"), "x")
      assert.throws(
        () => d.append("plain/under", bytes(1)),
        (e) => isDiskError(e),
      )
    })
  })

  it("keeps a bounded number of files open, and reopens the others when used", () => {
    withDisk((d) => {
      const n = FILE_DISK_OPEN_FILES_MAX + 20
      for (let i = 0; i < n; i++) d.append(`wal/p${i}`, bytes(i & 255))
      for (let i = 0; i < n; i++) d.append(`wal/p${i}`, bytes(1))
      for (let i = 0; i < n; i++) assert.deepEqual([...d.read(`wal/p${i}`)], [i & 255, 1])
    })
  })
})
