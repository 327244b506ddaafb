/**
 * Item sizes computed by hand from the developer guide's rules ("DynamoDB item sizes and formats"):
 * names and strings in UTF-8 bytes; numbers 1 byte + 1 per two significant digits (pairs aligned on
 * the decimal point) + 1 if negative; binary raw bytes; BOOL/NULL 1; M/L 3 + 1 per element + contents;
 * sets the sum of their elements.
 */
import { describe, it } from "node:test"
import assert from "node:assert/strict"
import {
  attributeValueSize,
  checkItemSize,
  type Item,
  itemSize,
  MAX_ITEM_SIZE_BYTES,
  numberSizeBytes,
  validateItem,
} from "@partita/core"

describe("itemSize", () => {
  it("counts a string as name bytes + UTF-8 bytes", () => {
    assert.equal(itemSize({ name: { S: "abc" } }), 4 + 3)
    assert.equal(itemSize({ é: { S: "日本" } }), 2 + 6) // é is 2 bytes, each CJK char 3
    assert.equal(itemSize({ e: { S: "😀" } }), 1 + 4) // one astral code point = 4 bytes (2 UTF-16 units)
    assert.equal(itemSize({ e: { S: "" } }), 1)
  })

  it("counts a number as 1 byte + 1 per two significant digits (+1 if negative)", () => {
    assert.equal(numberSizeBytes("12"), 1 + 1)
    assert.equal(numberSizeBytes("123"), 1 + 2)
    assert.equal(numberSizeBytes("1200"), 1 + 1) // trailing zeros trimmed: digits "12"
    assert.equal(numberSizeBytes("000123.000"), 1 + 2) // leading zeros trimmed
    assert.equal(numberSizeBytes("0"), 1)
    assert.equal(numberSizeBytes("-1"), 1 + 1 + 1)
    assert.equal(numberSizeBytes("1".repeat(38)), 1 + 19)
    // The pairs are base-100 digits aligned on the decimal point: "1.2" is 01|.20 → 2 pairs, "12" is 1 pair.
    assert.equal(numberSizeBytes("1.2"), 1 + 2)
    assert.equal(numberSizeBytes("0.012"), 1 + 2) // .01|20
    assert.equal(numberSizeBytes("0.12"), 1 + 1) // .12
    assert.equal(itemSize({ n: { N: "123" } }), 1 + 3)
  })

  it("counts binary as raw bytes, BOOL and NULL as 1 byte", () => {
    assert.equal(itemSize({ b: { B: new Uint8Array(5) } }), 1 + 5)
    assert.equal(itemSize({ flag: { BOOL: true } }), 4 + 1)
    assert.equal(itemSize({ nothing: { NULL: true } }), 7 + 1)
  })

  it("counts List and Map as 3 bytes + 1 per element + contents (map keys included)", () => {
    assert.equal(itemSize({ e: { L: [] } }), 1 + 3)
    assert.equal(itemSize({ e: { M: {} } }), 1 + 3)
    assert.equal(itemSize({ l: { L: [{ S: "ab" }, { N: "1" }] } }), 1 + 3 + (1 + 2) + (1 + 2))
    assert.equal(itemSize({ m: { M: { k: { S: "v" } } } }), 1 + 3 + (1 + 1 + 1))
    const nested: Item = { doc: { M: { tags: { L: [{ M: { x: { BOOL: false } } }] } } } }
    // doc(3) + M 3 + [1 + "tags"(4) + L 3 + [1 + M 3 + [1 + "x"(1) + 1]]]
    assert.equal(itemSize(nested), 3 + 3 + 1 + 4 + 3 + 1 + 3 + 1 + 1 + 1)
  })

  it("counts sets as the sum of their elements", () => {
    assert.equal(itemSize({ ss: { SS: ["a", "bc"] } }), 2 + 1 + 2)
    assert.equal(itemSize({ ns: { NS: ["1", "22", "-333"] } }), 2 + 2 + 2 + (1 + 2 + 1))
    assert.equal(itemSize({ bs: { BS: [new Uint8Array(2), new Uint8Array(3)] } }), 2 + 5)
  })

  it("sums a whole item", () => {
    const item: Item = {
      pk: { S: "user#1" }, // 2 + 6
      age: { N: "42" }, // 3 + 2
      photo: { B: new Uint8Array(10) }, // 5 + 10
      tags: { SS: ["a", "b"] }, // 4 + 2
      addr: { M: { city: { S: "Oslo" } } }, // 4 + 3 + 1 + 4 + 4
    }
    assert.equal(itemSize(item), 8 + 5 + 15 + 6 + 16)
    assert.equal(
      itemSize(item),
      Object.entries(item).reduce(
        (s, [k, v]) => s + new TextEncoder().encode(k).length + attributeValueSize(v),
        0,
      ),
    )
  })

  it("enforces the 400 KB item limit at exactly 409,600 bytes", () => {
    assert.equal(MAX_ITEM_SIZE_BYTES, 409600)
    const fits: Item = { d: { S: "x".repeat(MAX_ITEM_SIZE_BYTES - 1) } }
    const over: Item = { d: { S: "x".repeat(MAX_ITEM_SIZE_BYTES) } }
    assert.equal(itemSize(fits), MAX_ITEM_SIZE_BYTES)
    assert.equal(checkItemSize(fits), undefined)
    assert.equal(validateItem(fits), undefined)
    assert.match(checkItemSize(over)?.message ?? "", /409601 bytes > 409600 bytes/)
    assert.match(validateItem(over)?.message ?? "", /maximum allowed size/)
  })
})
