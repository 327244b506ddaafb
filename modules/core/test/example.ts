import assert from "node:assert/strict"
import {
  decodeKey,
  encodedKeyOf,
  encodeKey,
  fromDynamoJson,
  itemSize,
  makeKeySchema,
  partitionKeyRange,
  validateItem,
} from "@partita/core"
import { Either } from "effect"

export const example = (): void => {
  // A table keyed by user (partition key, S) and ts (sort key, N).
  const schema = makeKeySchema("user", "S", "ts", "N")

  // Outside input is DynamoDB JSON (binaries in base64): decode it once, at the boundary.
  const item = Either.getOrThrow(
    fromDynamoJson({
      user: { S: "ada" },
      ts: { N: "1.70E3" },
      avatar: { B: "iVBORw==" },
      tags: { SS: ["math", "poetry"] },
    }),
  )
  assert.deepEqual(item.ts, { N: "1700" }) // exact decimal text, canonical form

  // Size as DynamoDB counts it: user 4+3, ts 2+2, avatar 6+4, tags 4+(4+6).
  assert.equal(itemSize(item), 35)

  // Invalid input is rejected with the path and the problem.
  assert.equal(
    validateItem({ bad: { NS: ["1", "1.0"] } })?.message,
    'Invalid item: item.bad[1]: the NS set has duplicate elements: "1" and "1.0" are the same number',
  )

  // The primary key as an order-preserving string: `<` on encodings is DynamoDB's order.
  const key = Either.getOrThrow(encodedKeyOf(item, schema))
  assert.deepEqual(decodeKey(key, schema), { user: { S: "ada" }, ts: { N: "1700" } })
  assert.ok(encodeKey({ S: "ada" }, { N: "-5" }) < key && key < encodeKey({ S: "ada" }, { N: "1e4" }))

  // All keys of one partition key lie in one range, ordered by sort key.
  const { start, end } = partitionKeyRange({ S: "ada" })
  assert.ok(start <= key && key < end)
  assert.ok(encodeKey({ S: "adb" }, { N: "0" }) >= end)
}
