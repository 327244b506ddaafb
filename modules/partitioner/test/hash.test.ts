import assert from "node:assert/strict"
import { createHash } from "node:crypto"
import { describe, it } from "node:test"
import fc from "fast-check"
import { canonicalNumber, hashKeyInto, hexToWords, wordsToHex } from "../src/index.ts"
import { md5Into } from "../src/internal/md5.ts"
import { murmur3Into } from "../src/internal/murmur3.ts"

const out = new Uint32Array(4)

function md5Hex(bytes: Uint8Array): string {
  md5Into(bytes, bytes.length, out, 0)
  return wordsToHex(out)
}

describe("md5Into", () => {
  it("matches node:crypto on the RFC 1321 test suite", () => {
    for (const s of [
      "",
      "a",
      "abc",
      "message digest",
      "abcdefghijklmnopqrstuvwxyz",
      "1234567890".repeat(8),
    ]) {
      const bytes = new TextEncoder().encode(s)
      assert.equal(md5Hex(bytes), createHash("md5").update(bytes).digest("hex"), s)
    }
  })

  it("matches node:crypto on arbitrary byte strings (every padding length)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (bytes) => {
        assert.equal(md5Hex(bytes), createHash("md5").update(bytes).digest("hex"))
      }),
      { numRuns: 500 },
    )
  })

  it("hashes only the given prefix of a reused buffer", () => {
    const buffer = new TextEncoder().encode("abcdef")
    md5Into(buffer, 3, out, 0)
    assert.equal(wordsToHex(out), createHash("md5").update("abc").digest("hex"))
  })
})

describe("murmur3Into (x86_128)", () => {
  // Published vectors (PeterScott/murmur3 test.c), printed as h1 h2 h3 h4.
  const vectors: Array<[string, number, string]> = [
    ["Hello, world!", 123, "61c9129e5a1aacd7a41621629e37c886"],
    ["Hello, world!", 321, "d5fbdcb3c26c4193045880c5a7170f0f"],
    ["xxxxxxxxxxxxxxxxxxxxxxxxxxxx", 123, "5e40bab278825a164cf929d31fec6047"],
    ["", 0, "00000000000000000000000000000000"],
  ]
  for (const [input, seed, expected] of vectors) {
    it(`hashes ${JSON.stringify(input)} with seed ${seed}`, () => {
      const bytes = new TextEncoder().encode(input)
      murmur3Into(bytes, bytes.length, out, 0, seed)
      assert.equal(wordsToHex(out), expected)
    })
  }

  it("spreads keys evenly over the top bits", () => {
    const buckets = new Array<number>(16).fill(0)
    for (let i = 0; i < 16_000; i++) {
      hashKeyInto("murmur3", `user#${i}`, out, 0)
      buckets[out[0]! >>> 28]!++
    }
    for (const b of buckets) assert.ok(b > 850 && b < 1150, `bucket count ${b}`)
  })
})

describe("hashKeyInto", () => {
  it("hashes S as UTF-8, including astral characters and lone surrogates", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (s) => {
        hashKeyInto("md5", { S: s }, out, 0)
        assert.equal(wordsToHex(out), createHash("md5").update(new TextEncoder().encode(s)).digest("hex"))
      }),
      { numRuns: 300 },
    )
  })

  it("treats a bare string as S and a Uint8Array as B", () => {
    const a = new Uint32Array(4)
    for (const name of ["md5", "murmur3"] as const) {
      hashKeyInto(name, { S: "héllo" }, a, 0)
      hashKeyInto(name, "héllo", out, 0)
      assert.deepEqual(out, a)
      hashKeyInto(name, { B: new Uint8Array([1, 2, 3]) }, a, 0)
      hashKeyInto(name, new Uint8Array([1, 2, 3]), out, 0)
      assert.deepEqual(out, a)
    }
  })

  it("hashes equal numbers equally, whatever their spelling", () => {
    const a = new Uint32Array(4)
    hashKeyInto("md5", { N: "1.5" }, a, 0)
    for (const n of ["1.50", "+1.5", "15E-1", "0001.5", "0.15e1"]) {
      hashKeyInto("md5", { N: n }, out, 0)
      assert.deepEqual(out, a, n)
    }
    hashKeyInto("md5", { N: "1.5" }, a, 0)
    hashKeyInto("md5", { N: "1.51" }, out, 0)
    assert.notDeepEqual(out, a)
  })

  it("rejects non-scalar key values", () => {
    assert.throws(() => hashKeyInto("md5", { BOOL: true }, out, 0), TypeError)
  })
})

describe("canonicalNumber", () => {
  it("normalizes sign, zeros and exponents", () => {
    const cases: Array<[string, string]> = [
      ["0", "0"],
      ["-0", "0"],
      ["-0.000", "0"],
      ["100", "100"],
      ["1e2", "100"],
      ["1.2300", "1.23"],
      ["-0012.5", "-12.5"],
      [".5", "0.5"],
      ["5.", "5"],
      ["1E-3", "0.001"],
      ["123.456e1", "1234.56"],
      [" 42 ", "42"],
    ]
    for (const [input, expected] of cases) assert.equal(canonicalNumber(input), expected, input)
  })

  it("rejects text that is not a number", () => {
    for (const bad of ["", "abc", "1.2.3", "e5", "."]) assert.throws(() => canonicalNumber(bad), RangeError)
  })
})

describe("positions", () => {
  it("round-trip through hex and keep numeric order under <", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 8, maxLength: 8 }), (w) => {
        const a = Uint32Array.from(w.slice(0, 4))
        const b = Uint32Array.from(w.slice(4))
        const ha = wordsToHex(a)
        const hb = wordsToHex(b)
        const back = new Uint32Array(4)
        hexToWords(ha, back)
        assert.deepEqual(back, a)
        const big = (x: Uint32Array) => x.reduce((acc, v) => (acc << 32n) | BigInt(v), 0n)
        assert.equal(ha < hb, big(a) < big(b))
      }),
    )
  })
})
