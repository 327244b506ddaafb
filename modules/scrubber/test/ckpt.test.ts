import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { BTree, type Scalar } from "@partita/btree"
import { checkPages, checkpointLayout } from "../src/internal/ckpt.ts"

/** Page-by-page verification of a checkpoint, the way a scrub slice does it. */
const verify = (b: Uint8Array): boolean => {
  const l = checkpointLayout(b)
  if (!l.ok) return false
  for (let p = 1; p < l.dataPages + 2; p++) if (checkPages(b, l, p, p + 1) !== undefined) return false
  return true
}

describe("checkpoint page checks", () => {
  it("pass on an intact checkpoint and catch every single-bit flip, like the full load", () => {
    const t = new BTree<Scalar>()
    for (let i = 0; i < 60; i++) t.set(`key${i}`, i % 2 === 0 ? `value-${i}` : i)
    const bytes = t.toCheckpointBytes({ pageBytes: 128 })
    assert.ok(verify(bytes))
    const l = checkpointLayout(bytes)
    assert.ok(l.ok && l.dataPages > 3)
    for (let i = 0; i < bytes.length; i++)
      for (let bit = 0; bit < 8; bit++) {
        const b = bytes.slice()
        b[i] = b[i]! ^ (1 << bit)
        assert.equal(verify(b), false, `byte ${i} bit ${bit}`)
      }
  })
})
