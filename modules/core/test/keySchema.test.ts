import { describe, it } from "node:test"
import assert from "node:assert/strict"
import {
  decodeKey,
  encodedKeyOf,
  encodeKey,
  type Item,
  KeySchemaSchema,
  keyOf,
  makeKeySchema,
  MAX_PARTITION_KEY_BYTES,
  MAX_SORT_KEY_BYTES,
  validateKey,
} from "@partita/core"
import { Either, Schema } from "effect"

const schema = makeKeySchema("pk", "S", "sk", "N")

const errorOf = (r: Either.Either<unknown, { message: string }>): string => {
  assert.ok(Either.isLeft(r), "expected a ValidationException")
  return r.left.message
}

describe("keyOf", () => {
  it("extracts the key attributes", () => {
    const item: Item = { pk: { S: "u1" }, sk: { N: "3" }, other: { BOOL: true } }
    assert.deepEqual(Either.getOrThrow(keyOf(item, schema)), { pk: { S: "u1" }, sk: { N: "3" } })
    assert.equal(Either.getOrThrow(encodedKeyOf(item, schema)), encodeKey({ S: "u1" }, { N: "3" }))
    assert.deepEqual(decodeKey(Either.getOrThrow(encodedKeyOf(item, schema)), schema), {
      pk: { S: "u1" },
      sk: { N: "3" },
    })
  })

  it("rejects a missing key attribute", () => {
    assert.match(errorOf(keyOf({ pk: { S: "a" } }, schema)), /Missing the key sk in the item/)
    assert.match(errorOf(encodedKeyOf({ sk: { N: "1" } }, schema)), /Missing the key pk in the item/)
  })

  it("rejects a key attribute of the wrong type", () => {
    assert.match(
      errorOf(keyOf({ pk: { N: "1" }, sk: { N: "1" } }, schema)),
      /Type mismatch for key pk: expected S, got N/,
    )
    assert.match(
      errorOf(keyOf({ pk: { S: "a" }, sk: { SS: ["1"] } }, schema)),
      /Type mismatch for key sk: expected N/,
    )
  })

  it("rejects an empty string or binary key", () => {
    assert.match(
      errorOf(keyOf({ pk: { S: "" }, sk: { N: "1" } }, schema)),
      /key attribute cannot contain an empty string value. Key: pk/,
    )
    const bin = makeKeySchema("id", "B")
    assert.match(errorOf(keyOf({ id: { B: new Uint8Array(0) } }, bin)), /empty binary value. Key: id/)
  })

  it("rejects an invalid number key", () => {
    assert.match(
      errorOf(keyOf({ pk: { S: "a" }, sk: { N: "1e200" } }, schema)),
      /Key sk: "1e200" is out of range/,
    )
  })

  it("limits the partition key to 2048 bytes and the sort key to 1024 bytes", () => {
    const ss = makeKeySchema("pk", "S", "sk", "S")
    const ok: Item = {
      pk: { S: "é".repeat(MAX_PARTITION_KEY_BYTES / 2) },
      sk: { S: "x".repeat(MAX_SORT_KEY_BYTES) },
    }
    assert.ok(Either.isRight(keyOf(ok, ss)))
    assert.match(
      errorOf(keyOf({ ...ok, pk: { S: "é".repeat(1024) + "x" } }, ss)),
      /partition key pk is 2049 bytes; it must be at most 2048 bytes/,
    )
    assert.match(
      errorOf(keyOf({ ...ok, sk: { S: "x".repeat(1025) } }, ss)),
      /sort key sk is 1025 bytes; it must be at most 1024 bytes/,
    )
  })

  it("checks a Key parameter holds exactly the key attributes", () => {
    assert.ok(Either.isRight(validateKey({ pk: { S: "a" }, sk: { N: "1" } }, schema)))
    assert.match(errorOf(validateKey({ pk: { S: "a" } }, schema)), /does not match the schema: missing sk/)
    assert.match(
      errorOf(validateKey({ pk: { S: "a" }, sk: { N: "1" }, x: { S: "" } }, schema)),
      /x is not a key attribute/,
    )
  })
})

describe("KeySchemaSchema", () => {
  it("accepts a valid schema and rejects bad ones", () => {
    assert.deepEqual(Schema.decodeUnknownSync(KeySchemaSchema)(schema), schema)
    assert.throws(() =>
      Schema.decodeUnknownSync(KeySchemaSchema)({ partitionKey: { name: "a", type: "BOOL" } }),
    )
    assert.throws(() => Schema.decodeUnknownSync(KeySchemaSchema)({ partitionKey: { name: "", type: "S" } }))
    assert.throws(
      () =>
        Schema.decodeUnknownSync(KeySchemaSchema)({
          partitionKey: { name: "a", type: "S" },
          sortKey: { name: "a", type: "N" },
        }),
      /different name/,
    )
  })
})
