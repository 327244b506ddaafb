import { describe, it } from "node:test"
import assert from "node:assert/strict"
import {
  ATTRIBUTE_TYPES,
  AttributeValueSchema,
  attributeType,
  attributeValueFromDynamoJson,
  type AttributeValue,
  fromDynamoJson,
  type Item,
  ItemFromDynamoJson,
  ItemSchema,
  isAttributeValue,
  itemSchemaFor,
  makeKeySchema,
  MAX_NESTING_LEVELS,
  normalizeItem,
  toDynamoJson,
  validateAttributeValue,
  validateItem,
} from "@partita/core"
import { Either, ParseResult, Schema } from "effect"
import fc from "fast-check"

/** Wraps a leaf in `wraps` single-key maps: the leaf sits at level wraps + 1. */
const deep = (wraps: number): AttributeValue => {
  let v: AttributeValue = { S: "leaf" }
  for (let i = 0; i < wraps; i++) v = { M: { n: v } }
  return v
}

const schemaError = (u: unknown): string => {
  const r = Schema.decodeUnknownEither(ItemSchema)(u)
  assert.ok(Either.isLeft(r), "expected the Schema to reject the item")
  return ParseResult.TreeFormatter.formatErrorSync(r.left)
}

/** [what, item, expected message pattern (path and problem)] */
const INVALID: ReadonlyArray<[string, unknown, RegExp]> = [
  ["a bad number", { price: { N: "12abc" } }, /item\.price: "12abc" cannot be converted to a numeric value/],
  [
    "a 39-digit number",
    { n: { N: "1".repeat(39) } },
    /item\.n: "1{39}" has 39 significant digits; DynamoDB keeps at most 38/,
  ],
  ["an overflowing number", { n: { N: "1E126" } }, /item\.n: "1E126" is out of range \(number overflow\)/],
  [
    "an underflowing number",
    { n: { N: "-1E-131" } },
    /item\.n: "-1E-131" is out of range \(number underflow\)/,
  ],
  ["a number that is not text", { n: { N: 5 } }, /item\.n: N must hold the number as a string, got a number/],
  ["an empty SS", { tags: { SS: [] } }, /item\.tags: an SS set must not be empty/],
  ["an empty NS", { m: { M: { s: { NS: [] } } } }, /item\.m\.s: an NS set must not be empty/],
  ["an empty BS", { b: { BS: [] } }, /item\.b: an BS set must not be empty/],
  [
    "duplicate SS elements",
    { t: { SS: ["a", "b", "a"] } },
    /item\.t\[2\]: the SS set has duplicate elements \(same as element 0\)/,
  ],
  [
    "NS elements equal as numbers",
    { t: { NS: ["1", "1.00"] } },
    /item\.t\[1\]: the NS set has duplicate elements: "1" and "1.00" are the same number/,
  ],
  [
    "duplicate BS elements",
    { t: { BS: [Uint8Array.of(1), Uint8Array.of(1)] } },
    /item\.t\[1\]: the BS set has duplicate/,
  ],
  ["a bad number inside NS", { t: { NS: ["1", "x"] } }, /item\.t\[1\]: "x" cannot be converted/],
  ["nesting of 33 levels", { d: deep(32) }, /item\.d(\.n){32}: nesting exceeds 32 levels/],
  ["NULL: false", { z: { NULL: false } }, /item\.z: NULL must hold true/],
  [
    "two type keys",
    { a: { S: "x", N: "1" } },
    /item\.a: an attribute value needs exactly one data type key .* got 2: S, N/,
  ],
  ["no type key", { a: {} }, /item\.a: an attribute value needs exactly one data type key .* got none/],
  ["an unknown type key", { a: { X: 1 } }, /item\.a: unknown data type key "X"/],
  [
    "a value that is not an object",
    { a: "text" },
    /item\.a: expected an attribute value such as \{"S": "text"\}, got a string/,
  ],
  ["a lone surrogate", { a: { S: "\ud800x" } }, /item\.a: S holds a string with a lone surrogate/],
  ["B that is not bytes", { a: { B: "AAE=" } }, /item\.a: B must hold a Uint8Array, got a string/],
  [
    "a bad element deep in a list",
    { a: { L: [{ S: "ok" }, { M: { "x y": { BOOL: "yes" } } }] } },
    /item\.a\[1\]\["x y"\]: BOOL must hold true or false/,
  ],
  ["an empty attribute name", { "": { S: "x" } }, /item: attribute names must not be empty/],
  [
    "an item that is not an object",
    [1, 2],
    /item: an item must be an object of attribute values, got an array/,
  ],
]

describe("validateItem", () => {
  for (const [what, item, pattern] of INVALID)
    it(`rejects ${what} with a message naming the path`, () => {
      const e = validateItem(item)
      assert.ok(e !== undefined, "expected a ValidationException")
      assert.equal(e._tag, "ValidationException")
      assert.match(e.message, pattern)
    })

  it("accepts nesting of exactly 32 levels", () => {
    assert.equal(MAX_NESTING_LEVELS, 32)
    assert.equal(validateItem({ d: deep(31) }), undefined)
    assert.equal(validateItem({ d: { L: [deep(30)] } }), undefined)
  })

  it("accepts empty strings and binaries outside keys, and every data type", () => {
    const item: Item = {
      s: { S: "" },
      b: { B: new Uint8Array(0) },
      n: { N: "-1.5e3" },
      t: { BOOL: false },
      z: { NULL: true },
      m: { M: { "": { S: "" } } },
      l: { L: [{ L: [] }, { M: {} }] },
      ss: { SS: ["", "a"] },
      ns: { NS: ["1", "2", "1.5"] },
      bs: { BS: [new Uint8Array(0), Uint8Array.of(0)] },
    }
    assert.equal(validateItem(item), undefined)
  })

  it("checks a single value with its own root", () => {
    assert.equal(validateAttributeValue({ N: "1" }), undefined)
    assert.match(validateAttributeValue({ SS: [] }, ":v")?.message ?? "", /:v: an SS set must not be empty/)
    assert.equal(isAttributeValue({ L: [{ NULL: true }] }), true)
    assert.equal(isAttributeValue({ L: [{ NULL: false }] }), false)
  })
})

describe("ItemSchema", () => {
  for (const [what, item, pattern] of INVALID)
    it(`rejects ${what} with a clear message`, () => {
      assert.match(schemaError(item), pattern)
    })

  it("decodes a valid item with numbers in canonical text", () => {
    const r = Schema.decodeUnknownSync(ItemSchema)({
      a: { N: "1.50E2" },
      s: { NS: ["-0", "007"] },
      l: { L: [{ N: "+5" }] },
    })
    assert.deepEqual(r, { a: { N: "150" }, s: { NS: ["0", "7"] }, l: { L: [{ N: "5" }] } })
  })

  it("rejects an empty key string, a missing key and a wrong key type when it knows the key schema", () => {
    const schema = itemSchemaFor(makeKeySchema("pk", "S", "sk", "B"))
    const message = (u: unknown): string => {
      const r = Schema.decodeUnknownEither(schema)(u)
      assert.ok(Either.isLeft(r))
      return ParseResult.TreeFormatter.formatErrorSync(r.left)
    }
    assert.match(
      message({ pk: { S: "" }, sk: { B: Uint8Array.of(1) } }),
      /key attribute cannot contain an empty string value. Key: pk/,
    )
    assert.match(message({ pk: { S: "a" }, sk: { B: new Uint8Array(0) } }), /empty binary value. Key: sk/)
    assert.match(message({ pk: { S: "a" } }), /Missing the key sk in the item/)
    assert.match(
      message({ pk: { N: "1" }, sk: { B: Uint8Array.of(1) } }),
      /Type mismatch for key pk: expected S, got N/,
    )
    assert.match(
      message({ pk: { S: "a" }, sk: { B: Uint8Array.of(1) }, x: { SS: [] } }),
      /item\.x: an SS set must not be empty/,
    )
    assert.deepEqual(
      Schema.decodeUnknownSync(schema)({ pk: { S: "a" }, sk: { B: Uint8Array.of(1) }, n: { N: "01" } }),
      {
        pk: { S: "a" },
        sk: { B: Uint8Array.of(1) },
        n: { N: "1" },
      },
    )
  })

  it("rejects an item over 400 KB", () => {
    assert.match(
      schemaError({ d: { S: "x".repeat(409600) } }),
      /exceeds the maximum allowed item size of 409600 bytes/,
    )
  })

  it("validates single attribute values", () => {
    assert.deepEqual(Schema.decodeUnknownSync(AttributeValueSchema)({ N: "0010" }), { N: "10" })
    const r = Schema.decodeUnknownEither(AttributeValueSchema)({ M: { a: { SS: ["x", "x"] } } })
    assert.ok(Either.isLeft(r))
    assert.match(ParseResult.TreeFormatter.formatErrorSync(r.left), /value\.a\[1\]: the SS set has duplicate/)
  })
})

describe("fromDynamoJson / toDynamoJson", () => {
  it("decodes base64 binaries and round-trips", () => {
    const json = { id: { S: "a" }, b: { B: "AAEC/w==" }, bs: { BS: ["AA==", "AQ=="] }, l: { L: [{ B: "" }] } }
    const item = Either.getOrThrow(fromDynamoJson(json))
    assert.deepEqual(item.b, { B: Uint8Array.of(0, 1, 2, 255) })
    assert.deepEqual(item.bs, { BS: [Uint8Array.of(0), Uint8Array.of(1)] })
    assert.deepEqual(toDynamoJson(item), json)
    assert.deepEqual(Schema.decodeUnknownSync(ItemFromDynamoJson)(json), item)
    assert.deepEqual(Schema.encodeSync(ItemFromDynamoJson)(item), json)
  })

  it("rejects bad base64 with the path", () => {
    const r = fromDynamoJson({ x: { M: { y: { L: [{ B: "AA=" }] } } } })
    assert.ok(Either.isLeft(r))
    assert.match(r.left.message, /item\.x\.y\[0\]: B must hold base64 text/)
    const s = fromDynamoJson({ x: { BS: ["AA==", "A*=="] } })
    assert.ok(Either.isLeft(s))
    assert.match(s.left.message, /item\.x\[1\]: BS elements must be base64 text/)
    const v = attributeValueFromDynamoJson({ B: "%%%%" })
    assert.ok(Either.isLeft(v))
  })

  it("detects BS duplicates after decoding base64", () => {
    const r = fromDynamoJson({ x: { BS: ["AQ==", "AQ=="] } })
    assert.ok(Either.isLeft(r))
    assert.match(r.left.message, /item\.x\[1\]: the BS set has duplicate elements/)
  })

  it("round-trips random binaries through base64", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const json = toDynamoJson({ b: { B: bytes } })
        assert.equal((json.b as { B: string }).B, Buffer.from(bytes).toString("base64"))
        assert.deepEqual(Either.getOrThrow(fromDynamoJson(json)), { b: { B: bytes } })
      }),
      { numRuns: 300 },
    )
  })
})

describe("normalizeItem", () => {
  it("returns the same object when nothing changes", () => {
    const item: Item = { a: { N: "1" }, b: { M: { c: { NS: ["2"] } } } }
    assert.equal(normalizeItem(item), item)
    assert.deepEqual(normalizeItem({ a: { N: "1.0" } }), { a: { N: "1" } })
  })
})

describe("attribute names that are JS specials", () => {
  it("keeps an attribute named __proto__ as data through the JSON boundary", () => {
    const json = JSON.parse('{"__proto__": {"S": "x"}, "m": {"M": {"__proto__": {"N": "1.0"}}}}')
    const item = Either.getOrThrow(fromDynamoJson(json))
    assert.deepEqual(Object.keys(item), ["__proto__", "m"])
    assert.deepEqual(Object.getOwnPropertyDescriptor(item, "__proto__")?.value, { S: "x" })
    const m = (item.m as { M: Record<string, unknown> }).M
    assert.deepEqual(Object.getOwnPropertyDescriptor(m, "__proto__")?.value, { N: "1" })
    assert.deepEqual(Object.keys(toDynamoJson(item)), ["__proto__", "m"])
  })
})

describe("attributeType", () => {
  it("names the data type of each value", () => {
    const values: ReadonlyArray<AttributeValue> = [
      { S: "" },
      { N: "1" },
      { B: new Uint8Array(0) },
      { BOOL: true },
      { NULL: true },
      { M: {} },
      { L: [] },
      { SS: ["a"] },
      { NS: ["1"] },
      { BS: [new Uint8Array(0)] },
    ]
    assert.deepEqual(values.map(attributeType), [...ATTRIBUTE_TYPES])
  })
})
