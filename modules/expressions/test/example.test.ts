/** The README example, run as a test; a second test checks the README still shows this code. */
import assert from "node:assert/strict"
import { readFileSync } from "node:fs"
import { describe, it } from "node:test"
// #region imports
import * as X from "@partita/expressions"
import { Either } from "effect"
// #endregion imports

describe("README example", () => {
  it("runs as documented", () => {
    // #region example
    // A table keyed by (pk: S, sk: N), kept in an in-memory sorted store.
    const store = new X.InMemoryItemStore({
      partitionKey: { name: "pk", type: "S" },
      sortKey: { name: "sk", type: "N" },
    })

    // Conditional put: only if the item does not exist yet.
    const put = X.putItem(store, {
      Item: { pk: { S: "cart#1" }, sk: { N: "1" }, qty: { N: "0.1" }, tags: { SS: ["new"] } },
      ConditionExpression: "attribute_not_exists(pk)",
    })
    assert.ok(Either.isRight(put))

    // Update with exact decimal arithmetic: 0.1 + 0.2 is 0.3, not 0.30000000000000004.
    const upd = X.updateItem(store, {
      Key: { pk: { S: "cart#1" }, sk: { N: "1" } },
      UpdateExpression: "SET qty = qty + :d, #s = :s ADD tags :t",
      ConditionExpression: "qty < :max",
      ExpressionAttributeNames: { "#s": "status" }, // "status" is a reserved word
      ExpressionAttributeValues: {
        ":d": { N: "0.2" },
        ":s": { S: "open" },
        ":t": { SS: ["gift"] },
        ":max": { N: "10" },
      },
      ReturnValues: "UPDATED_NEW",
    })
    assert.ok(Either.isRight(upd))
    assert.deepEqual(upd.right.Attributes, {
      qty: { N: "0.3" },
      status: { S: "open" },
      tags: { SS: ["new", "gift"] },
    })

    // A failed condition is a typed error and changes nothing.
    const again = X.putItem(store, {
      Item: { pk: { S: "cart#1" }, sk: { N: "1" } },
      ConditionExpression: "attribute_not_exists(pk)",
    })
    assert.ok(Either.isLeft(again) && again.left._tag === "ConditionalCheckFailedException")

    // Query a partition in sort key order with a filter; the filter runs after the read.
    for (const sk of [2, 3, 4]) X.putItem(store, { Item: { pk: { S: "cart#1" }, sk: { N: String(sk) } } })
    const page = X.query(store, {
      KeyConditionExpression: "pk = :p AND sk BETWEEN :lo AND :hi",
      FilterExpression: "attribute_exists(qty)",
      ExpressionAttributeValues: { ":p": { S: "cart#1" }, ":lo": { N: "1" }, ":hi": { N: "3" } },
    })
    assert.ok(Either.isRight(page))
    assert.equal(page.right.ScannedCount, 3)
    assert.equal(page.right.Count, 1)

    // Errors say which expression, which token and what was expected.
    const bad = X.parseCondition("qty = AND")
    assert.ok(Either.isLeft(bad))
    assert.equal(
      bad.left.message,
      'Invalid ConditionExpression: Syntax error; token: "AND", near: "qty = AND", position: 6, expected: an operand',
    )

    // Hot path: bind once, evaluate many times.
    const isOpen = Either.getOrThrow(
      X.compileCondition("#s = :open AND size(tags) > :n", {
        names: { "#s": "status" },
        values: { ":open": { S: "open" }, ":n": { N: "1" } },
      }),
    )
    const cart = Either.getOrThrow(X.getItem(store, { Key: { pk: { S: "cart#1" }, sk: { N: "1" } } }))
    assert.equal(isOpen(cart.Item!), true)
    // #endregion example
  })

  it("is the code the README shows", () => {
    const src = readFileSync(new URL("./example.test.ts", import.meta.url), "utf8")
    const region = src.slice(src.indexOf("// #region example"), src.indexOf("// #endregion example"))
    const body = region
      .split("\n")
      .slice(1)
      .map((l) => l.replace(/^ {4}/, ""))
      .join("\n")
      .trim()
    const imports = src
      .slice(src.indexOf("// #region imports"), src.indexOf("// #endregion imports"))
      .split("\n")
      .slice(1)
      .join("\n")
      .trim()
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
    assert.ok(readme.includes(imports), "README.md must show the example's imports")
    assert.ok(
      readme.includes(body),
      "README.md must contain the example region of test/example.test.ts verbatim",
    )
  })
})
