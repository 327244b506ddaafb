/** Item operations over the in-memory store: conditions, ReturnValues, paging, segments, errors. */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { type AttributeValue, type Item, itemSize } from "@partita/core"
import {
  applyWrite,
  deleteItem,
  getItem,
  InMemoryItemStore,
  type ItemStore,
  type ItemWrite,
  pageBytesMax,
  planDeleteItem,
  planPutItem,
  planUpdateItem,
  putItem,
  query,
  scan,
  updateItem,
} from "@partita/expressions"
import { Either } from "effect"
import { L, M, N, NS, S, show } from "./fixtures.ts"

const table = () =>
  new InMemoryItemStore({ partitionKey: { name: "pk", type: "S" }, sortKey: { name: "sk", type: "N" } })
const simple = () => new InMemoryItemStore({ partitionKey: { name: "id", type: "S" } })

const ok = <A, E>(r: Either.Either<A, E>): A => {
  assert.ok(Either.isRight(r), `expected success, got ${show(r)}`)
  return r.right
}
const fails = <A, E extends { _tag: string; message: string }>(
  r: Either.Either<A, E>,
  tag: string,
  fragment?: string,
): E => {
  assert.ok(Either.isLeft(r), `expected ${tag}, got ${show(r)}`)
  assert.equal(r.left._tag, tag)
  if (fragment !== undefined) assert.ok(r.left.message.includes(fragment), r.left.message)
  return r.left
}

const fill = (
  store: ItemStore,
  pk: string,
  sks: ReadonlyArray<number>,
  extra: (sk: number) => Item = () => ({}),
) => {
  for (const sk of sks) ok(putItem(store, { Item: { pk: S(pk), sk: N(String(sk)), ...extra(sk) } }))
}

describe("putItem / getItem / deleteItem", () => {
  it("stores the item with canonical numbers and reads it back", () => {
    const t = table()
    const w = ok(putItem(t, { Item: { pk: S("a"), sk: N("1.50"), v: N("007") } }))
    assert.deepEqual(w.write.image, { pk: S("a"), sk: N("1.5"), v: N("7") })
    const g = ok(getItem(t, { Key: { pk: S("a"), sk: N("1.5") } }))
    assert.deepEqual(g.Item, { pk: S("a"), sk: N("1.5"), v: N("7") })
    assert.equal(g.consumedBytes, itemSize(g.Item!))
    assert.deepEqual(ok(getItem(t, { Key: { pk: S("a"), sk: N("1.500") } })).Item?.v, N("7"))
  })
  it("reports no item and zero bytes for an absent key", () => {
    const g = ok(getItem(table(), { Key: { pk: S("a"), sk: N("1") } }))
    assert.equal(g.Item, undefined)
    assert.equal(g.consumedBytes, 0)
  })
  it("projects a read but charges for the whole item", () => {
    const t = table()
    ok(
      putItem(t, {
        Item: { pk: S("a"), sk: N("1"), big: S("x".repeat(1000)), m: M({ a: N("1"), b: N("2") }) },
      }),
    )
    const g = ok(
      getItem(t, {
        Key: { pk: S("a"), sk: N("1") },
        ProjectionExpression: "m.b, #k",
        ExpressionAttributeNames: { "#k": "pk" },
      }),
    )
    assert.deepEqual(g.Item, { pk: S("a"), m: M({ b: N("2") }) })
    assert.ok(g.consumedBytes > 1000)
  })
  it("rejects keys that do not match the schema", () => {
    const t = table()
    fails(getItem(t, { Key: { pk: S("a") } }), "ValidationException", "does not match the schema")
    fails(getItem(t, { Key: { pk: S("a"), sk: S("1") } }), "ValidationException")
    fails(getItem(t, { Key: { pk: S("a"), sk: N("1"), x: S("y") } }), "ValidationException")
  })
  it("rejects items without their key, with mistyped or empty keys, or too large", () => {
    const t = table()
    fails(putItem(t, { Item: { pk: S("a") } }), "ValidationException", "Missing the key sk")
    fails(putItem(t, { Item: { pk: N("1"), sk: N("1") } }), "ValidationException", "Type mismatch for key pk")
    fails(putItem(t, { Item: { pk: S(""), sk: N("1") } }), "ValidationException", "empty string")
    fails(
      putItem(t, { Item: { pk: S("a"), sk: N("1"), v: S("x".repeat(400 * 1024)) } }),
      "ValidationException",
      "maximum allowed size",
    )
    fails(putItem(t, { Item: { pk: S("a"), sk: N("1"), v: { SS: [] } } }), "ValidationException")
    fails(
      putItem(t, { Item: { pk: S("a"), sk: N("1"), v: { S: "x", N: "1" } as never } }),
      "ValidationException",
    )
    assert.equal(t.size, 0)
  })
  it("accepts 32 levels of nested documents and rejects 33", () => {
    const nest = (levels: number): AttributeValue => (levels === 0 ? S("leaf") : M({ x: nest(levels - 1) }))
    const t = table()
    ok(putItem(t, { Item: { pk: S("a"), sk: N("1"), d: nest(32) } }))
    fails(
      putItem(t, { Item: { pk: S("a"), sk: N("2"), d: nest(33) } }),
      "ValidationException",
      "Nesting Levels",
    )
    // d.x…x (31 steps) holds the level-31 map; a value two maps deep there reaches level 33.
    const deepPath = `d${".x".repeat(30)}`
    fails(
      updateItem(t, {
        Key: { pk: S("a"), sk: N("1") },
        UpdateExpression: `SET ${deepPath} = :m`,
        ExpressionAttributeValues: { ":m": M({ x: M({ x: M({}) }) }) },
      }),
      "ValidationException",
      "Nesting Levels",
    )
    ok(
      updateItem(t, {
        Key: { pk: S("a"), sk: N("1") },
        UpdateExpression: `SET ${deepPath} = :m`,
        ExpressionAttributeValues: { ":m": M({ x: M({}) }) },
      }),
    )
  })
  it("allows empty strings in non-key attributes", () => {
    ok(putItem(table(), { Item: { pk: S("a"), sk: N("1"), v: S("") } }))
  })
  it("checks the condition against the old item and changes nothing when it fails", () => {
    const t = table()
    const cond = { ConditionExpression: "attribute_not_exists(pk)" }
    ok(putItem(t, { Item: { pk: S("a"), sk: N("1"), v: N("1") }, ...cond }))
    const e = fails(
      putItem(t, { Item: { pk: S("a"), sk: N("1"), v: N("2") }, ...cond }),
      "ConditionalCheckFailedException",
    )
    // As DynamoDB: the item comes back only with ReturnValuesOnConditionCheckFailure = ALL_OLD.
    assert.equal((e as { item?: Item }).item, undefined)
    const withOld = fails(
      putItem(t, {
        Item: { pk: S("a"), sk: N("1"), v: N("2") },
        ...cond,
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
      "ConditionalCheckFailedException",
    )
    assert.deepEqual((withOld as { item?: Item }).item, { pk: S("a"), sk: N("1"), v: N("1") })
    for (const op of ["delete", "update"] as const) {
      const input = {
        Key: { pk: S("a"), sk: N("1") },
        ConditionExpression: "v = :two",
        ExpressionAttributeValues: { ":two": N("2") },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
      }
      const err = fails(
        op === "delete" ? deleteItem(t, input) : updateItem(t, input),
        "ConditionalCheckFailedException",
      )
      assert.deepEqual((err as { item?: Item }).item?.v, N("1"), op)
    }
    const bad = fails(
      putItem(t, {
        Item: { pk: S("b"), sk: N("1") },
        ReturnValuesOnConditionCheckFailure: "ALL_NEW" as never,
      }),
      "ValidationException",
    )
    assert.match(bad.message, /returnValuesOnConditionCheckFailure/)
    assert.deepEqual(ok(getItem(t, { Key: { pk: S("a"), sk: N("1") } })).Item?.v, N("1"))
  })
  it("returns the old item with ALL_OLD and rejects ALL_NEW on put", () => {
    const t = table()
    ok(putItem(t, { Item: { pk: S("a"), sk: N("1"), v: N("1") } }))
    const w = ok(putItem(t, { Item: { pk: S("a"), sk: N("1"), v: N("2") }, ReturnValues: "ALL_OLD" }))
    assert.deepEqual(w.Attributes, { pk: S("a"), sk: N("1"), v: N("1") })
    fails(
      putItem(t, { Item: { pk: S("a"), sk: N("1") }, ReturnValues: "ALL_NEW" as never }),
      "ValidationException",
    )
  })
  it("charges a write the larger of the old and new sizes", () => {
    const t = table()
    ok(putItem(t, { Item: { pk: S("a"), sk: N("1"), v: S("x".repeat(500)) } }))
    const w = ok(putItem(t, { Item: { pk: S("a"), sk: N("1") } }))
    assert.ok(w.consumedBytes > 500)
  })
  it("rejects placeholder maps sent without an expression, and unused ones", () => {
    const t = table()
    fails(
      putItem(t, { Item: { pk: S("a"), sk: N("1") }, ExpressionAttributeNames: { "#a": "a" } }),
      "ValidationException",
      "only be specified when using expressions",
    )
    fails(
      putItem(t, {
        Item: { pk: S("a"), sk: N("1") },
        ConditionExpression: "attribute_not_exists(pk)",
        ExpressionAttributeValues: { ":v": S("x") },
      }),
      "ValidationException",
      "unused",
    )
  })
  it("deletes with a condition and returns ALL_OLD", () => {
    const t = table()
    ok(putItem(t, { Item: { pk: S("a"), sk: N("1"), v: N("5") } }))
    fails(
      deleteItem(t, {
        Key: { pk: S("a"), sk: N("1") },
        ConditionExpression: "v > :x",
        ExpressionAttributeValues: { ":x": N("5") },
      }),
      "ConditionalCheckFailedException",
    )
    assert.equal(t.size, 1)
    const d = ok(
      deleteItem(t, {
        Key: { pk: S("a"), sk: N("1") },
        ConditionExpression: "v >= :x",
        ExpressionAttributeValues: { ":x": N("5") },
        ReturnValues: "ALL_OLD",
      }),
    )
    assert.deepEqual(d.Attributes, { pk: S("a"), sk: N("1"), v: N("5") })
    assert.equal(t.size, 0)
    ok(deleteItem(t, { Key: { pk: S("a"), sk: N("1") } }))
  })
})

describe("updateItem", () => {
  const key = { pk: S("a"), sk: N("1") }
  it("creates the item when absent (upsert)", () => {
    const t = table()
    const w = ok(
      updateItem(t, {
        Key: key,
        UpdateExpression: "ADD hits :one",
        ExpressionAttributeValues: { ":one": N("1") },
        ReturnValues: "ALL_NEW",
      }),
    )
    assert.deepEqual(w.Attributes, { pk: S("a"), sk: N("1"), hits: N("1") })
    assert.deepEqual(w.write.image, w.Attributes)
    assert.equal(w.oldItem, undefined)
  })
  it("returns NONE / ALL_OLD / UPDATED_OLD / ALL_NEW / UPDATED_NEW", () => {
    const t = table()
    ok(putItem(t, { Item: { ...key, a: N("1"), m: M({ x: N("1"), y: N("2") }), keep: S("k") } }))
    const run = (rv: "NONE" | "ALL_OLD" | "UPDATED_OLD" | "ALL_NEW" | "UPDATED_NEW") =>
      ok(
        updateItem(t, {
          Key: key,
          UpdateExpression: "SET a = a + :one, m.x = :one REMOVE gone",
          ExpressionAttributeValues: { ":one": N("1") },
          ReturnValues: rv,
        }),
      ).Attributes
    assert.equal(run("NONE"), undefined)
    assert.deepEqual(run("ALL_OLD"), { ...key, a: N("2"), m: M({ x: N("1"), y: N("2") }), keep: S("k") })
    assert.deepEqual(run("UPDATED_OLD"), { a: N("3"), m: M({ x: N("1") }) })
    assert.deepEqual(run("ALL_NEW"), { ...key, a: N("5"), m: M({ x: N("1"), y: N("2") }), keep: S("k") })
    assert.deepEqual(run("UPDATED_NEW"), { a: N("6"), m: M({ x: N("1") }) })
  })
  it("refuses to update key attributes", () => {
    fails(
      updateItem(table(), {
        Key: key,
        UpdateExpression: "SET sk = :v",
        ExpressionAttributeValues: { ":v": N("2") },
      }),
      "ValidationException",
      "part of the key",
    )
  })
  it("leaves the item unchanged when the condition fails or the update is invalid at run time", () => {
    const t = table()
    ok(putItem(t, { Item: { ...key, v: S("text") } }))
    fails(
      updateItem(t, {
        Key: key,
        UpdateExpression: "SET v = :n",
        ConditionExpression: "attribute_not_exists(v)",
        ExpressionAttributeValues: { ":n": N("1") },
      }),
      "ConditionalCheckFailedException",
    )
    fails(
      updateItem(t, { Key: key, UpdateExpression: "ADD v :n", ExpressionAttributeValues: { ":n": N("1") } }),
      "ValidationException",
      "incorrect data type",
    )
    assert.deepEqual(ok(getItem(t, { Key: key })).Item, { ...key, v: S("text") })
  })
  it("ADD and DELETE on large sets (linear set operations)", () => {
    const t = table()
    const evens = Array.from({ length: 10_000 }, (_, i) => String(i * 2))
    const odds = Array.from({ length: 10_000 }, (_, i) => String(i * 2 + 1))
    ok(putItem(t, { Item: { ...key, s: { NS: evens } } }))
    const added = ok(
      updateItem(t, {
        Key: key,
        UpdateExpression: "ADD s :o",
        ExpressionAttributeValues: { ":o": { NS: [...odds, "0.0"] } },
        ReturnValues: "UPDATED_NEW",
      }),
    )
    assert.equal(
      (added.Attributes!.s as { NS: string[] }).NS.length,
      20_000,
      "0.0 equals 0, already a member",
    )
    const removed = ok(
      updateItem(t, {
        Key: key,
        UpdateExpression: "DELETE s :e",
        ExpressionAttributeValues: { ":e": { NS: evens } },
        ReturnValues: "UPDATED_NEW",
      }),
    )
    assert.deepEqual([...(removed.Attributes!.s as { NS: string[] }).NS].sort(), [...odds].sort())
  })
  it("plans without touching the store", () => {
    const t = table()
    const w = ok(
      planUpdateItem(t, {
        Key: key,
        UpdateExpression: "SET v = :n",
        ExpressionAttributeValues: { ":n": N("1") },
      }),
    )
    assert.deepEqual(w.write.image, { ...key, v: N("1") })
    assert.equal(t.size, 0)
  })
  it("rejects an item that grows past 400 KB", () => {
    const t = table()
    ok(putItem(t, { Item: { ...key, a: S("x".repeat(300 * 1024)) } }))
    fails(
      updateItem(t, { Key: key, UpdateExpression: "SET b = a" }),
      "ValidationException",
      "maximum allowed size",
    )
  })
  it("works without an update expression (creates the key-only item)", () => {
    const t = table()
    ok(updateItem(t, { Key: key }))
    assert.deepEqual(ok(getItem(t, { Key: key })).Item, key)
  })
})

describe("query", () => {
  const kc = (sk: string) => `pk = :p${sk === "" ? "" : ` AND ${sk}`}`
  const values = (more: Record<string, ReturnType<typeof N>> = {}) => ({ ":p": S("p"), ...more })
  const sks = (items: ReadonlyArray<Item>) => items.map((i) => Number((i.sk as { N: string }).N))

  it("returns one partition in numeric sort key order, forward and backward", () => {
    const t = table()
    fill(t, "p", [10, 2, 33, -1, 2.5])
    fill(t, "q", [1])
    assert.deepEqual(
      sks(ok(query(t, { KeyConditionExpression: kc(""), ExpressionAttributeValues: values() })).Items),
      [-1, 2, 2.5, 10, 33],
    )
    assert.deepEqual(
      sks(
        ok(
          query(t, {
            KeyConditionExpression: kc(""),
            ExpressionAttributeValues: values(),
            ScanIndexForward: false,
          }),
        ).Items,
      ),
      [33, 10, 2.5, 2, -1],
    )
  })
  const ops: ReadonlyArray<[string, Record<string, string>, number[]]> = [
    ["sk = :a", { ":a": "10" }, [10]],
    ["sk < :a", { ":a": "10" }, [1, 5]],
    ["sk <= :a", { ":a": "10" }, [1, 5, 10]],
    ["sk > :a", { ":a": "10" }, [15, 20]],
    ["sk >= :a", { ":a": "10" }, [10, 15, 20]],
    ["sk BETWEEN :a AND :b", { ":a": "5", ":b": "15" }, [5, 10, 15]],
    ["sk BETWEEN :a AND :b", { ":a": "6", ":b": "9" }, []],
    [":a > sk", { ":a": "10" }, [1, 5]],
  ]
  for (const [cond, vals, want] of ops) {
    for (const forward of [true, false]) {
      it(`sort key condition ${cond} ${JSON.stringify(vals)} ${forward ? "forward" : "backward"}`, () => {
        const t = table()
        fill(t, "p", [1, 5, 10, 15, 20])
        const v = Object.fromEntries(Object.entries(vals).map(([k, x]) => [k, N(x)]))
        const r = ok(
          query(t, {
            KeyConditionExpression: kc(cond),
            ExpressionAttributeValues: values(v),
            ScanIndexForward: forward,
          }),
        )
        assert.deepEqual(sks(r.Items), forward ? want : [...want].reverse())
        assert.equal(r.ScannedCount, want.length, "only items inside the key range are read")
      })
    }
  }
  it("begins_with on a string sort key, in UTF-8 byte order", () => {
    const t = new InMemoryItemStore({
      partitionKey: { name: "pk", type: "S" },
      sortKey: { name: "sk", type: "S" },
    })
    for (const sk of ["a#1", "a#2", "b#1", "a", "a#\u{10000}", "a#\uFFFD", "ab"])
      ok(putItem(t, { Item: { pk: S("p"), sk: S(sk) } }))
    const r = ok(
      query(t, {
        KeyConditionExpression: "pk = :p AND begins_with(sk, :pre)",
        ExpressionAttributeValues: { ":p": S("p"), ":pre": S("a#") },
      }),
    )
    assert.deepEqual(
      r.Items.map((i) => (i.sk as { S: string }).S),
      ["a#1", "a#2", "a#\uFFFD", "a#\u{10000}"],
    )
    const back = ok(
      query(t, {
        KeyConditionExpression: "pk = :p AND begins_with(sk, :pre)",
        ExpressionAttributeValues: { ":p": S("p"), ":pre": S("a#") },
        ScanIndexForward: false,
      }),
    )
    assert.deepEqual(
      back.Items.map((i) => (i.sk as { S: string }).S),
      ["a#\u{10000}", "a#\uFFFD", "a#2", "a#1"],
    )
  })
  it("orders binary sort keys by unsigned bytes", () => {
    const t = new InMemoryItemStore({
      partitionKey: { name: "pk", type: "S" },
      sortKey: { name: "sk", type: "B" },
    })
    for (const bytes of [[0x80], [0x7f], [0x00, 0x01], [0xff], [0x7f, 0x00], [0x00]]) {
      ok(putItem(t, { Item: { pk: S("p"), sk: { B: new Uint8Array(bytes) } } }))
    }
    const r = ok(
      query(t, {
        KeyConditionExpression: "pk = :p AND sk >= :lo",
        ExpressionAttributeValues: { ":p": S("p"), ":lo": { B: new Uint8Array([0x01]) } },
      }),
    )
    assert.deepEqual(
      r.Items.map((i) => Array.from((i.sk as { B: Uint8Array }).B)),
      [[0x7f], [0x7f, 0x00], [0x80], [0xff]],
    )
  })
  it("pages with Limit and ExclusiveStartKey through every item exactly once", () => {
    const t = table()
    const all = Array.from({ length: 23 }, (_, i) => i)
    fill(t, "p", all)
    for (const forward of [true, false]) {
      const seen: number[] = []
      let esk: Item | undefined
      let pages = 0
      do {
        const r = ok(
          query(t, {
            KeyConditionExpression: kc(""),
            ExpressionAttributeValues: values(),
            Limit: 5,
            ExclusiveStartKey: esk,
            ScanIndexForward: forward,
          }),
        )
        seen.push(...sks(r.Items))
        esk = r.LastEvaluatedKey
        pages++
        assert.ok(pages < 10)
      } while (esk !== undefined)
      assert.deepEqual(seen, forward ? all : [...all].reverse())
    }
  })
  it("applies Limit before the filter (Count ≤ ScannedCount)", () => {
    const t = table()
    fill(t, "p", [1, 2, 3, 4, 5, 6], (sk) => ({ even: { BOOL: sk % 2 === 0 } }))
    const r = ok(
      query(t, {
        KeyConditionExpression: kc(""),
        FilterExpression: "even = :t",
        ExpressionAttributeValues: { ":p": S("p"), ":t": { BOOL: true } },
        Limit: 3,
      }),
    )
    assert.equal(r.ScannedCount, 3)
    assert.equal(r.Count, 1)
    assert.deepEqual(sks(r.Items), [2])
    assert.deepEqual(r.LastEvaluatedKey, { pk: S("p"), sk: N("3") })
  })
  it("stops a page at 1 MB read, before the filter", () => {
    const t = table()
    const payload = "x".repeat(100 * 1024)
    fill(
      t,
      "p",
      Array.from({ length: 15 }, (_, i) => i),
      () => ({ payload: S(payload) }),
    )
    const r = ok(
      query(t, {
        KeyConditionExpression: kc(""),
        FilterExpression: "attribute_not_exists(payload)",
        ExpressionAttributeValues: values(),
      }),
    )
    assert.equal(r.Count, 0)
    assert.equal(r.ScannedCount, 11)
    assert.ok(r.consumedBytes >= pageBytesMax)
    assert.deepEqual(r.LastEvaluatedKey, { pk: S("p"), sk: N("10") })
  })
  it("projects results", () => {
    const t = table()
    fill(t, "p", [1], () => ({ a: N("1"), b: L(S("x"), S("y")) }))
    const r = ok(
      query(t, {
        KeyConditionExpression: kc(""),
        ProjectionExpression: "b[1]",
        ExpressionAttributeValues: values(),
      }),
    )
    assert.deepEqual(r.Items, [{ b: L(S("y")) }])
  })
  const bad: ReadonlyArray<[string, string, Record<string, ReturnType<typeof S>>?, string?]> = [
    ["no partition key", "sk = :a", { ":a": N("1") }, "missed key schema element: pk"],
    ["OR", "pk = :p OR sk = :a", { ":p": S("p"), ":a": N("1") }, "OR"],
    ["NOT", "NOT pk = :p", { ":p": S("p") }],
    ["range on the partition key", "pk > :p", { ":p": S("p") }, "not supported"],
    ["two conditions on one key", "pk = :p AND pk = :p", { ":p": S("p") }, "one condition per key"],
    ["two sort key conditions", "pk = :p AND sk > :a AND sk < :a", { ":p": S("p"), ":a": N("1") }],
    ["a non-key attribute", "pk = :p AND other = :a", { ":p": S("p"), ":a": N("1") }],
    ["<>", "pk = :p AND sk <> :a", { ":p": S("p"), ":a": N("1") }],
    ["IN", "pk IN (:p)", { ":p": S("p") }],
    ["attribute_exists", "pk = :p AND attribute_exists(sk)", { ":p": S("p") }],
    ["contains", "pk = :p AND contains(sk, :a)", { ":p": S("p"), ":a": N("1") }],
    ["begins_with on a number", "pk = :p AND begins_with(sk, :a)", { ":p": S("p"), ":a": N("1") }],
    ["mistyped partition key value", "pk = :p", { ":p": N("1") }, "does not match schema type"],
    ["mistyped sort key value", "pk = :p AND sk = :a", { ":p": S("p"), ":a": S("1") }],
    ["nested path", "pk.x = :p", { ":p": S("p") }],
    ["path against path", "pk = sk", {}],
    ["BETWEEN reversed", "pk = :p AND sk BETWEEN :b AND :a", { ":p": S("p"), ":a": N("1"), ":b": N("2") }],
    ["syntax error", "pk = :p AND", { ":p": S("p") }],
  ]
  for (const [name, expr, vals, fragment] of bad) {
    it(`rejects a key condition with ${name}`, () => {
      const r = query(table(), {
        KeyConditionExpression: expr,
        ExpressionAttributeValues: vals && Object.keys(vals).length > 0 ? vals : undefined,
      })
      fails(r, "ValidationException", fragment)
    })
  }
  it("rejects a filter on a key attribute and a bad Limit", () => {
    fails(
      query(table(), {
        KeyConditionExpression: kc(""),
        FilterExpression: "sk > :a",
        ExpressionAttributeValues: { ":p": S("p"), ":a": N("1") },
      }),
      "ValidationException",
      "non-primary key",
    )
    fails(
      query(table(), { KeyConditionExpression: kc(""), ExpressionAttributeValues: values(), Limit: 0 }),
      "ValidationException",
    )
  })
  it("works on a table without a sort key", () => {
    const t = simple()
    ok(putItem(t, { Item: { id: S("x"), v: NS("1") } }))
    const r = ok(query(t, { KeyConditionExpression: "id = :x", ExpressionAttributeValues: { ":x": S("x") } }))
    assert.equal(r.Count, 1)
  })
})

describe("scan", () => {
  const store = () => {
    const t = table()
    for (let p = 0; p < 20; p++) fill(t, `p${p}`, [1, 2, 3], (sk) => ({ v: N(String(p * 10 + sk)) }))
    return t
  }
  it("reads every item, with filter and projection", () => {
    const t = store()
    assert.equal(ok(scan(t, {})).Count, 60)
    const r = ok(
      scan(t, {
        FilterExpression: "v < :x",
        ProjectionExpression: "v",
        ExpressionAttributeValues: { ":x": N("20") },
      }),
    )
    assert.equal(r.ScannedCount, 60)
    assert.deepEqual(
      r.Items.map((i) => Number((i.v as { N: string }).N)).sort((a, b) => a - b),
      [1, 2, 3, 11, 12, 13],
    )
  })
  it("pages with Limit through every item exactly once", () => {
    const t = store()
    const seen = new Set<string>()
    let esk: Item | undefined
    do {
      const r = ok(scan(t, { Limit: 7, ExclusiveStartKey: esk }))
      for (const i of r.Items) seen.add(show(i))
      esk = r.LastEvaluatedKey
    } while (esk !== undefined)
    assert.equal(seen.size, 60)
  })
  it("splits items into disjoint segments that together cover the table", () => {
    const t = store()
    const total = 4
    const parts = Array.from({ length: total }, (_, s) =>
      ok(scan(t, { Segment: s, TotalSegments: total })).Items.map(show),
    )
    const union = new Set(parts.flat())
    assert.equal(union.size, 60)
    assert.equal(
      parts.reduce((n, p) => n + p.length, 0),
      60,
    )
    assert.ok(parts.filter((p) => p.length > 0).length >= 2, "keys spread over segments")
  })
  it("Select COUNT returns counts only; Select is checked against ProjectionExpression", () => {
    const t = store()
    const r = ok(
      scan(t, { Select: "COUNT", FilterExpression: "v < :x", ExpressionAttributeValues: { ":x": N("20") } }),
    )
    assert.deepEqual(r.Items, [])
    assert.equal(r.Count, 6)
    assert.equal(r.ScannedCount, 60)
    assert.equal(ok(scan(t, { Select: "SPECIFIC_ATTRIBUTES", ProjectionExpression: "v" })).Items.length, 60)
    fails(scan(t, { Select: "SPECIFIC_ATTRIBUTES" }), "ValidationException")
    fails(scan(t, { Select: "COUNT", ProjectionExpression: "v" }), "ValidationException")
    fails(scan(t, { Select: "NOPE" as never }), "ValidationException")
    const q = ok(
      query(t, {
        KeyConditionExpression: "pk = :p",
        ExpressionAttributeValues: { ":p": S("p3") },
        Select: "COUNT",
      }),
    )
    assert.deepEqual([q.Items.length, q.Count], [0, 3])
  })
  it("validates Segment and TotalSegments", () => {
    const t = store()
    fails(scan(t, { Segment: 0 }), "ValidationException", "TotalSegments")
    fails(scan(t, { TotalSegments: 2 }), "ValidationException", "Segment")
    fails(scan(t, { Segment: 2, TotalSegments: 2 }), "ValidationException")
    fails(scan(t, { Segment: 0, TotalSegments: 0 }), "ValidationException")
    fails(scan(t, { Segment: -1, TotalSegments: 2 }), "ValidationException")
  })
})

describe("plan on a leader, apply the image everywhere", () => {
  it("replicas that apply the leader's decided images converge, failed conditions write nothing", () => {
    const schema = {
      partitionKey: { name: "pk", type: "S" as const },
      sortKey: { name: "sk", type: "N" as const },
    }
    const leader = new InMemoryItemStore(schema)
    const follower = new InMemoryItemStore(schema)
    const requests = [
      () =>
        planPutItem(leader, {
          Item: { pk: S("a"), sk: N("1"), n: N("0") },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      () =>
        planPutItem(leader, {
          Item: { pk: S("a"), sk: N("1"), n: N("9") },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      () =>
        planUpdateItem(leader, {
          Key: { pk: S("a"), sk: N("1") },
          UpdateExpression: "ADD n :d",
          ExpressionAttributeValues: { ":d": N("0.5") },
        }),
      () =>
        planUpdateItem(leader, {
          Key: { pk: S("a"), sk: N("2") },
          UpdateExpression: "SET l = list_append(if_not_exists(l, :e), :x)",
          ExpressionAttributeValues: { ":e": L(), ":x": L(S("x")) },
        }),
      () =>
        planDeleteItem(leader, {
          Key: { pk: S("a"), sk: N("2") },
          ConditionExpression: "size(l) > :z",
          ExpressionAttributeValues: { ":z": N("5") },
        }),
      () =>
        planDeleteItem(leader, {
          Key: { pk: S("a"), sk: N("2") },
          ConditionExpression: "size(l) = :one",
          ExpressionAttributeValues: { ":one": N("1") },
        }),
    ]
    const log: ItemWrite[] = []
    let failed = 0
    for (const plan of requests) {
      const r = plan()
      if (Either.isLeft(r)) {
        failed++
        continue
      }
      applyWrite(leader, r.right.write) // the leader applies its own decision...
      log.push(r.right.write) // ...and replicates the image, not the expression
    }
    for (const w of log) applyWrite(follower, w)
    assert.equal(failed, 2)
    assert.deepEqual([...follower.scan(undefined)], [...leader.scan(undefined)])
    assert.deepEqual([...leader.scan(undefined)], [{ pk: S("a"), sk: N("1"), n: N("0.5") }])
  })
})

describe("stores that size items without reading them (itemSize)", () => {
  /** An in-memory store that counts `get` calls and sizes items from a side table. */
  const sizing = () => {
    const inner = table()
    let gets = 0
    const store: ItemStore & { readonly gets: number } = {
      keySchema: inner.keySchema,
      get: (k) => {
        gets++
        return inner.get(k)
      },
      itemSize: (k) => {
        const it = inner.get(k)
        return it === undefined ? undefined : itemSize(it)
      },
      put: (i) => inner.put(i),
      delete: (k) => inner.delete(k),
      partition: (p, f, s) => inner.partition(p, f, s),
      scan: (e) => inner.scan(e),
      get gets() {
        return gets
      },
    }
    return { store, inner }
  }
  const big = { pk: S("a"), sk: N("1"), blob: S("x".repeat(3000)) }
  const small = { pk: S("a"), sk: N("1"), v: N("1") }

  it("an unconditional put or delete is charged on the larger size without reading the old item", () => {
    const { store } = sizing()
    ok(putItem(store, { Item: big }))
    const before = store.gets
    const w = ok(planPutItem(store, { Item: small }))
    assert.equal(store.gets, before, "no get for an unconditional put")
    assert.equal(w.consumedBytes, itemSize(big))
    assert.equal(w.oldItem, undefined)
    const d = ok(planDeleteItem(store, { Key: { pk: S("a"), sk: N("1") } }))
    assert.equal(store.gets, before, "no get for an unconditional delete")
    assert.equal(d.consumedBytes, itemSize(big))
    // The same figures as a store without itemSize.
    const plain = table()
    ok(putItem(plain, { Item: big }))
    assert.equal(ok(planPutItem(plain, { Item: small })).consumedBytes, w.consumedBytes)
    assert.equal(
      ok(planDeleteItem(plain, { Key: { pk: S("a"), sk: N("1") } })).consumedBytes,
      d.consumedBytes,
    )
  })

  it("GetItem charges the store's size for the item, equal to itemSize(item)", () => {
    const { store } = sizing()
    ok(putItem(store, { Item: big }))
    const g = ok(getItem(store, { Key: { pk: S("a"), sk: N("1") } }))
    assert.deepEqual(g.Item, big)
    assert.equal(g.consumedBytes, itemSize(big))
    // A store whose itemSize answers differently is believed (it is the store's contract).
    const liar: ItemStore = { ...store, get: store.get, itemSize: () => 7 }
    assert.equal(ok(getItem(liar, { Key: { pk: S("a"), sk: N("1") } })).consumedBytes, 7)
  })

  it("GetItem over a store with getSized makes one lookup, with its item and size, projected", () => {
    const { store, inner } = sizing()
    ok(putItem(store, { Item: big }))
    let sized = 0
    const one: ItemStore = {
      ...store,
      get: () => assert.fail("get must not be called when getSized is there"),
      itemSize: () => assert.fail("itemSize must not be called when getSized is there"),
      getSized: (k) => {
        sized++
        const it = inner.get(k)
        return it === undefined ? undefined : { item: it, size: 4242 }
      },
    }
    const g = ok(getItem(one, { Key: { pk: S("a"), sk: N("1") } }))
    assert.deepEqual(g.Item, big)
    assert.equal(g.consumedBytes, 4242)
    assert.equal(sized, 1)
    const p = ok(getItem(one, { Key: { pk: S("a"), sk: N("1") }, ProjectionExpression: "sk" }))
    assert.deepEqual(p.Item, { sk: N("1") })
    assert.equal(p.consumedBytes, 4242)
    const none = ok(getItem(one, { Key: { pk: S("a"), sk: N("2") } }))
    assert.equal(none.Item, undefined)
    assert.equal(none.consumedBytes, 0)
  })

  it("a condition or ALL_OLD still reads the old item", () => {
    const { store } = sizing()
    ok(putItem(store, { Item: big }))
    let before = store.gets
    const w = ok(planPutItem(store, { Item: small, ReturnValues: "ALL_OLD" }))
    assert.equal(store.gets, before + 1)
    assert.deepEqual(w.Attributes, big)
    before = store.gets
    fails(
      planPutItem(store, { Item: small, ConditionExpression: "attribute_not_exists(pk)" }),
      "ConditionalCheckFailedException",
    )
    assert.equal(store.gets, before + 1)
    before = store.gets
    const d = ok(planDeleteItem(store, { Key: { pk: S("a"), sk: N("1") }, ReturnValues: "ALL_OLD" }))
    assert.equal(store.gets, before + 1)
    assert.deepEqual(d.Attributes, big)
  })
})

describe("a page continued from elsewhere (OperationOptions.pageBytes)", () => {
  const store = table()
  for (let i = 0; i < 5; i++)
    ok(putItem(store, { Item: { pk: S("a"), sk: N(String(i)), blob: S("x".repeat(1000)) } }))
  const q = (pageBytes: number | undefined) =>
    ok(
      query(
        store,
        { KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": S("a") } },
        { pageBytes },
      ),
    )

  it("stops once the bytes left are read, with a LastEvaluatedKey, as at 1 MB", () => {
    const sizes = q(undefined).Items.map(itemSize)
    const r = q(sizes[0]! + sizes[1]! + 1)
    assert.equal(r.Count, 3)
    assert.deepEqual(r.LastEvaluatedKey, { pk: S("a"), sk: N("2") })
    assert.equal(r.consumedBytes, sizes[0]! + sizes[1]! + sizes[2]!)
    const s = ok(scan(store, {}, { pageBytes: 1 }))
    assert.equal(s.ScannedCount, 1)
    assert.notEqual(s.LastEvaluatedKey, undefined)
  })

  it("is clamped to 1 byte .. 1 MB, and ignored when not a finite number", () => {
    assert.equal(q(undefined).Count, 5)
    assert.equal(q(Number.NaN).Count, 5)
    assert.equal(q(Number.POSITIVE_INFINITY).Count, 5)
    assert.equal(q(10 * pageBytesMax).Count, 5)
    assert.equal(q(0).Count, 1)
    assert.equal(q(-5).Count, 1)
  })
})
