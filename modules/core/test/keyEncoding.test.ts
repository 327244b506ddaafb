import { describe, it } from "node:test"
import assert from "node:assert/strict"
import {
  type AttributeValue,
  compareKeyValues,
  beginsWithRange,
  decodeKey,
  decodeKeyValue,
  encodedKeyFromBytes,
  encodedKeyToBytes,
  encodeKey,
  encodeKeyValue,
  type KeyType,
  makeKeySchema,
  normalizeNumber,
  partitionKeyRange,
} from "@partita/core"
import { Either } from "effect"
import fc from "fast-check"
import { compareBytes, keyNumber, keyValueOf, referenceCompare, sign } from "./reference.ts"

const RUNS = Number(process.env.PARTITA_RUNS ?? 1000)
const TYPES: ReadonlyArray<KeyType> = ["S", "N", "B"]
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

const canonical = (v: AttributeValue): AttributeValue =>
  "N" in v ? { N: Either.getOrThrow(normalizeNumber(v.N)) } : v

describe("encodeKeyValue", () => {
  for (const type of TYPES) {
    it(`orders ${type} values as DynamoDB does (JS < on encodings = reference order)`, () => {
      fc.assert(
        fc.property(keyValueOf(type), keyValueOf(type), (a, b) => {
          assert.equal(cmp(encodeKeyValue(a), encodeKeyValue(b)), sign(referenceCompare(a, b)))
        }),
        { numRuns: RUNS },
      )
    })

    it(`round-trips ${type} values exactly (numbers to canonical text)`, () => {
      fc.assert(
        fc.property(keyValueOf(type), (v) => {
          assert.deepEqual(decodeKeyValue(encodeKeyValue(v), type), canonical(v))
        }),
        { numRuns: RUNS },
      )
    })

    it(`sorts a list of ${type} values like the reference comparator`, () => {
      fc.assert(
        fc.property(fc.array(keyValueOf(type), { maxLength: 40 }), (vs) => {
          const byRef = [...vs].sort(referenceCompare).map(encodeKeyValue)
          const byEnc = vs.map(encodeKeyValue).sort(cmp)
          assert.deepEqual(byEnc, byRef)
        }),
        { numRuns: RUNS / 10 },
      )
    })
  }

  it("compareKeyValues agrees with the reference", () => {
    for (const type of TYPES)
      fc.assert(
        fc.property(keyValueOf(type), keyValueOf(type), (a, b) => {
          assert.equal(sign(compareKeyValues(a, b)), sign(referenceCompare(a, b)))
        }),
        { numRuns: RUNS },
      )
  })

  it("orders strings by UTF-8 bytes where UTF-16 order differs (U+FFFF < U+10000)", () => {
    const bmpHigh = { S: "\uffff" }
    const astral = { S: "\u{10000}" }
    assert.ok("\u{10000}" < "\uffff", "JS compares UTF-16 code units")
    assert.ok(encodeKeyValue(bmpHigh) < encodeKeyValue(astral))
    assert.ok(encodeKeyValue({ S: "\ue000" }) < encodeKeyValue({ S: "\u{1f600}" }))
    assert.ok(encodeKeyValue({ S: "\ud7ff" }) < encodeKeyValue({ S: "\ue000" }))
  })

  it("encodes an ASCII string as itself", () => {
    assert.equal(encodeKeyValue({ S: "user#42" }), "user#42")
  })

  it("keeps numbers, binaries and Latin-1 strings in one-byte code units (compact strings)", () => {
    fc.assert(
      fc.property(
        keyNumber,
        fc.uint8Array({ maxLength: 20 }),
        fc.string({ unit: "binary-ascii" }),
        (n, b, s) => {
          for (const enc of [
            encodeKeyValue({ N: n }),
            encodeKey({ B: b }, { N: n }),
            encodeKey({ S: s }, { B: b }),
          ])
            for (let i = 0; i < enc.length; i++) assert.ok(enc.charCodeAt(i) < 0x100)
        },
      ),
      { numRuns: RUNS },
    )
  })

  it("matches the documented layout byte for byte", () => {
    const units = (s: string) => Array.from(s, (c) => c.charCodeAt(0))
    assert.deepEqual(units(encodeKeyValue({ N: "0" })), [0x80])
    assert.deepEqual(units(encodeKeyValue({ N: "123.4" })), [0x81, 2 + 130, 1 + 12, 1 + 34, 0])
    assert.deepEqual(units(encodeKeyValue({ N: "-0.5" })), [0x7f, 255 - (-1 + 130), 100 - 50, 101])
    assert.deepEqual(
      units(encodeKey({ S: "a\u0000" }, { B: Uint8Array.of(0, 255) })),
      [0x61, 0, 1, 0, 0, 0, 255],
    )
    assert.deepEqual(units(encodeKeyValue({ S: "\ue000\u{10000}" })), [
      0xd800,
      0xd800 + 0x2000,
      0xdc00 + 0x2000,
    ])
  })

  it("orders numbers numerically across signs, exponents and digit counts", () => {
    const sorted = [
      "-9.9999999999999999999999999999999999999E+125",
      "-1e10",
      "-100",
      "-10.5",
      "-10",
      "-1",
      "-0.1",
      "-1E-130",
      "0",
      "1E-130",
      "0.1",
      "0.10001",
      "1",
      `1.${"0".repeat(36)}1`,
      "10",
      "99999999999999999999999999999999999999",
      "1e38",
      "9.9999999999999999999999999999999999999E+125",
    ]
    const encs = sorted.map((N) => encodeKeyValue({ N }))
    for (let i = 1; i < encs.length; i++)
      assert.ok(encs[i - 1]! < encs[i]!, `${sorted[i - 1]} < ${sorted[i]}`)
  })

  it("gives equal numbers equal encodings whatever the notation", () => {
    fc.assert(
      fc.property(keyNumber, (n) => {
        const canon = Either.getOrThrow(normalizeNumber(n))
        assert.equal(encodeKeyValue({ N: n }), encodeKeyValue({ N: canon }))
      }),
      { numRuns: RUNS },
    )
    assert.equal(encodeKeyValue({ N: "1.50E2" }), encodeKeyValue({ N: "150.000" }))
    assert.equal(encodeKeyValue({ N: "-0" }), encodeKeyValue({ N: "0e99" }))
  })

  it("orders binaries by unsigned bytes", () => {
    const a = encodeKeyValue({ B: Uint8Array.of(0x7f) })
    const b = encodeKeyValue({ B: Uint8Array.of(0x80) })
    const c = encodeKeyValue({ B: Uint8Array.of(0x80, 0x00) })
    assert.ok(a < b && b < c)
  })

  it("rejects a non-key type and an invalid number", () => {
    assert.throws(() => encodeKeyValue({ BOOL: true }))
    assert.throws(() => encodeKeyValue({ N: "1e999" }))
  })

  it("rejects a corrupt encoding when decoding", () => {
    assert.throws(() => decodeKeyValue("\u4101\u0005", "N"))
    assert.throws(() => decodeKeyValue("\u0100", "B"))
  })
})

describe("encodeKey (composite)", () => {
  for (const pkType of TYPES)
    for (const skType of TYPES) {
      const schema = makeKeySchema("pk", pkType, "sk", skType)
      const pair = fc.tuple(keyValueOf(pkType), keyValueOf(skType))

      it(`orders (${pkType}, ${skType}) keys by partition key, then sort key`, () => {
        fc.assert(
          fc.property(pair, pair, ([p1, s1], [p2, s2]) => {
            const expected = sign(referenceCompare(p1, p2)) || sign(referenceCompare(s1, s2))
            assert.equal(cmp(encodeKey(p1, s1), encodeKey(p2, s2)), expected)
          }),
          { numRuns: RUNS / 2 },
        )
      })

      it(`round-trips (${pkType}, ${skType}) keys`, () => {
        fc.assert(
          fc.property(pair, ([p, s]) => {
            assert.deepEqual(decodeKey(encodeKey(p, s), schema), { pk: canonical(p), sk: canonical(s) })
          }),
          { numRuns: RUNS / 2 },
        )
      })
    }

  for (const pkType of TYPES) {
    it(`keeps each ${pkType} partition contiguous: partitionKeyRange bounds exactly its keys`, () => {
      fc.assert(
        fc.property(keyValueOf(pkType), keyValueOf(pkType), keyValueOf("S"), (p, q, s) => {
          const { start, end } = partitionKeyRange(p)
          const inP = encodeKey(p, s)
          assert.ok(start <= inP && inP < end)
          assert.ok(start <= encodeKey(p) && encodeKey(p) < end)
          if (referenceCompare(p, q) !== 0) {
            const inQ = encodeKey(q, s)
            assert.ok(inQ < start || inQ >= end)
          }
        }),
        { numRuns: RUNS },
      )
    })

    it(`round-trips a ${pkType} partition key alone`, () => {
      const schema = makeKeySchema("id", pkType)
      fc.assert(
        fc.property(keyValueOf(pkType), (p) => {
          assert.deepEqual(decodeKey(encodeKey(p), schema), { id: canonical(p) })
        }),
        { numRuns: RUNS / 2 },
      )
    })
  }

  it("makes a sort key prefix a prefix of the encoding (begins_with is a range)", () => {
    fc.assert(
      fc.property(keyValueOf("S"), keyValueOf("S"), keyValueOf("S"), (p, a, b) => {
        if (!("S" in a) || !("S" in b)) return
        assert.ok(encodeKey(p, { S: a.S + b.S }).startsWith(encodeKey(p, a)))
      }),
      { numRuns: RUNS },
    )
  })

  for (const skType of ["S", "B"] as const)
    it(`bounds begins_with on a ${skType} sort key to exactly the keys with that prefix`, () => {
      const prefixOf = (v: AttributeValue, n: number): AttributeValue =>
        "S" in v ? { S: Array.from(v.S).slice(0, n).join("") } : { B: (v as { B: Uint8Array }).B.slice(0, n) }
      const startsWith = (v: AttributeValue, p: AttributeValue): boolean =>
        "S" in v && "S" in p
          ? v.S.startsWith(p.S)
          : "B" in v && "B" in p && p.B.every((x, i) => v.B[i] === x) && v.B.length >= p.B.length
      fc.assert(
        fc.property(
          keyValueOf("S"),
          keyValueOf(skType),
          keyValueOf(skType),
          fc.nat(4),
          keyValueOf("S"),
          (pk, a, b, n, otherPk) => {
            const p = prefixOf(a, n)
            const { start, end } = beginsWithRange(pk, p)
            const inRange = (k: string) => start <= k && k < end
            assert.ok(inRange(encodeKey(pk, a)), "a value with the prefix is inside")
            assert.equal(inRange(encodeKey(pk, b)), startsWith(b, p))
            if (referenceCompare(pk, otherPk) !== 0) assert.ok(!inRange(encodeKey(otherPk, a)))
          },
        ),
        { numRuns: RUNS },
      )
      const all = beginsWithRange(
        { S: "p" },
        skType === "S" ? { S: "\u{10ffff}" } : { B: Uint8Array.of(255) },
      )
      assert.ok(all.start < all.end)
    })

  it("converts encodings to bytes whose unsigned order is the key order, and back", () => {
    fc.assert(
      fc.property(keyValueOf("S"), keyValueOf("N"), keyValueOf("S"), keyValueOf("N"), (p1, s1, p2, s2) => {
        const a = encodeKey(p1, s1)
        const b = encodeKey(p2, s2)
        assert.equal(sign(compareBytes(encodedKeyToBytes(a), encodedKeyToBytes(b))), cmp(a, b))
        assert.equal(encodedKeyFromBytes(encodedKeyToBytes(a)), a)
      }),
      { numRuns: RUNS / 2 },
    )
  })
})
