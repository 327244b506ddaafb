// Bun-only: our MD5 against Bun's native implementations.
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import fc from "fast-check"
import { hashKeyInto, wordsToHex } from "../src/index.ts"

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")

describe("md5 (Bun peers)", () => {
  it("equals Bun.MD5.hash and Bun.CryptoHasher on arbitrary strings", () => {
    const out = new Uint32Array(4)
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        hashKeyInto("md5", s, out, 0)
        assert.equal(wordsToHex(out), hex(Bun.MD5.hash(s) as Uint8Array))
        assert.equal(wordsToHex(out), new Bun.CryptoHasher("md5").update(s).digest("hex"))
      }),
      { numRuns: 300 },
    )
  })
})
