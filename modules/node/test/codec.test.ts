/** The log entry codec and the stored item form: bytes, lazy text and item, carried sizes. */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { BTree } from "@partita/btree"
import { encodeKey, type Item, itemSize } from "@partita/core"
import {
  decodeCommand,
  decodeCommandShared,
  encodeWrite,
  encodeWriteShared,
  SHARED_COMMANDS_MAX,
  itemFromText,
  itemToText,
  makeTree,
  PlanningStore,
  storedItem,
  storedItemCodec,
  storedItemOfBytes,
  TreeItemStore,
} from "@partita/node"
import { Either } from "effect"
import fc from "fast-check"

const S = (s: string) => ({ S: s })
const item: Item = {
  id: S("k1"),
  n: { N: "42" },
  bin: { B: new Uint8Array([0, 1, 2, 255]) },
  s: S('h\u00e9\n"x'),
}

describe("log entry codec", () => {
  it("round-trips a write: key, request id, body bytes, text and the carried size", () => {
    const key = encodeKey(S("k1"), undefined)
    const text = itemToText(item)
    const c = decodeCommand(encodeWrite("r-1", key, text, itemSize(item)))
    assert.equal(c.kind, "write")
    if (c.kind !== "write") return
    assert.equal(c.requestId, "r-1")
    assert.equal(c.key, key)
    assert.equal(c.text, text)
    assert.deepEqual(c.body, new TextEncoder().encode(text))
    assert.equal(c.size, itemSize(item))
    assert.deepEqual(itemFromText(c.text!), item)
  })

  it("a write encoded with its decoded form remembered equals what decoding gives", () => {
    // The leader remembers the command from its own strings (`encodeWriteShared`); the replicas
    // that apply the entry in this process take that instead of decoding it.
    const cases: Array<[string, string, string | undefined, number | undefined, number | undefined]> = [
      ["rr0:17", encodeKey({ S: "k1" }), '{"id":{"S":"k1"},"v":{"N":"1"}}', 12, 1_795_000_123_456],
      ["rr1:2", encodeKey({ S: "ké\u0001" }), '{"id":{"S":"kéy €"}}', undefined, 0],
      ["rôuter:9", encodeKey({ N: "-3.5" }), undefined, undefined, 2 ** 53 - 1],
      ["r:1", encodeKey({ S: "x" }), '{"id":{"S":"x"}}', 2 ** 33, undefined],
      // Not a whole number of ms in range: not carried.
      ["r:2", encodeKey({ S: "y" }), '{"id":{"S":"y"}}', 3, 1.5],
    ]
    for (const [rid, key, text, size, stamp] of cases) {
      const data = encodeWriteShared(rid, key, text, size, stamp)
      assert.deepEqual(data, encodeWrite(rid, key, text, size, stamp))
      const shared = decodeCommandShared(data)
      const fresh = decodeCommand(data)
      assert.ok(shared !== fresh && shared.kind === "write" && fresh.kind === "write")
      assert.equal(shared.requestId, fresh.requestId)
      assert.equal(shared.key, fresh.key)
      assert.equal(shared.size, fresh.size)
      assert.equal(shared.stamp, fresh.stamp)
      assert.equal(fresh.stamp, stamp === 1.5 ? undefined : stamp)
      assert.equal(shared.bodyAt, fresh.bodyAt)
      assert.equal(shared.deletes, fresh.deletes)
      assert.equal(shared.text, fresh.text)
      assert.equal(shared.text, text)
      assert.equal(shared.stored()?.text, fresh.stored()?.text)
    }
  })

  it("a delete has no body; a write without a carried size decodes with size undefined", () => {
    const d = decodeCommand(encodeWrite("r-2", "k", undefined))
    assert.ok(d.kind === "write" && d.body === undefined && d.text === undefined)
    const w = decodeCommand(encodeWrite("r-3", "k", '{"id":{"S":"x"}}'))
    assert.ok(w.kind === "write" && w.size === undefined && w.text === '{"id":{"S":"x"}}')
  })

  it("still decodes a write with the earlier JSON header", () => {
    const legacy = new TextEncoder().encode(
      `${JSON.stringify({ r: "r-9", k: "k\u0000x", z: 12 })}\n{"id":{"S":"x"}}`,
    )
    const c = decodeCommand(legacy)
    assert.ok(c.kind === "write")
    assert.equal(c.requestId, "r-9")
    assert.equal(c.key, "k\u0000x")
    assert.equal(c.size, 12)
    assert.equal(c.text, '{"id":{"S":"x"}}')
  })

  it("a damaged binary header is a clear error, not a wrong command", () => {
    const w = encodeWrite("r-1", "some-key", '{"id":{"S":"x"}}', 20)
    for (const cut of [3, 9, 14, 20])
      assert.throws(() => decodeCommand(w.subarray(0, cut)), /corrupt command/)
    const stamped = encodeWrite("r-1", "some-key", '{"id":{"S":"x"}}', 20, 123_456)
    for (const cut of [3, 12, 17, 22, 28])
      assert.throws(() => decodeCommand(stamped.subarray(0, cut)), /corrupt command/)
    const d = encodeWrite("r-2", "k", undefined)
    const longer = new Uint8Array(d.length + 1)
    longer.set(d)
    assert.throws(() => decodeCommand(longer), /corrupt command: bytes after a delete/)
  })

  it("non-ASCII items take the slower encoding path and round-trip", () => {
    const text = itemToText({ id: S("k"), s: S("\u00e9\u4e2d\ud83d\ude00") })
    const c = decodeCommand(encodeWrite("r", "k", text, 3))
    assert.ok(c.kind === "write" && c.text === text && c.size === 3)
  })

  it("keys with any code units survive the header (order-preserving encodings use control units)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), fc.string({ maxLength: 200 }), (key, s) => {
        const text = itemToText({ id: S(s) })
        const c = decodeCommand(encodeWrite("r", key, text, 7))
        return c.kind === "write" && c.key === key && c.text === text && c.size === 7
      }),
      { numRuns: 300 },
    )
  })
})

describe("stored items", () => {
  it("parse lazily and agree with the eager form; size is carried or computed", () => {
    const text = itemToText(item)
    const a = storedItem(text)
    assert.equal(a.text, text)
    assert.deepEqual(a.item, item)
    assert.equal(a.item, a.item, "parsed once")
    assert.equal(a.size, itemSize(item))
    const bytes = new TextEncoder().encode(text)
    assert.equal(storedItemOfBytes(bytes, 12345).size, 12345, "a carried size is trusted")
    assert.equal(storedItemOfBytes(bytes).size, itemSize(item))
    assert.equal(storedItemOfBytes(bytes, -1).size, itemSize(item), "a negative size is ignored")
  })

  it("the replica stores size items as itemSize(get(key)), pending writes included", () => {
    const ks = { partitionKey: { name: "id", type: "S" as const } }
    const tree = makeTree()
    const committed = new TreeItemStore(ks, tree)
    const planning = new PlanningStore(committed)
    const k = encodeKey(S("k1"), undefined)
    tree.set(k, storedItemOfBytes(new TextEncoder().encode(itemToText(item)), itemSize(item)))
    assert.equal(committed.itemSize({ id: S("k1") }), itemSize(item))
    assert.equal(committed.itemSize({ id: S("nope") }), undefined)
    const next: Item = { id: S("k1"), big: S("y".repeat(500)) }
    planning.propose(k, next)
    assert.equal(planning.itemSize({ id: S("k1") }), itemSize(next))
    planning.propose(k, undefined)
    assert.equal(planning.itemSize({ id: S("k1") }), undefined)
  })

  it("checkpoints round-trip byte-backed items with equal checksums", () => {
    const tree = makeTree()
    for (let i = 0; i < 200; i++) {
      const it: Item = { id: S(`k${i}`), v: S("z".repeat(i)) }
      tree.set(encodeKey(S(`k${i}`), undefined), storedItem(itemToText(it)))
    }
    const back = BTree.fromCheckpointBytes(tree.toCheckpointBytes(), { codec: storedItemCodec })
    assert.ok(Either.isRight(back))
    assert.deepEqual(back.right.checksum(), tree.checksum())
    assert.deepEqual(back.right.get(encodeKey(S("k7"), undefined))!.item, { id: S("k7"), v: S("zzzzzzz") })
  })
})

describe("decodeCommandShared", () => {
  it("decodes an entry array once: the same command and stored item for every replica, equal to decodeCommand", () => {
    const item = { id: { S: "k1" }, v: { N: "7" } }
    const data = encodeWrite("rr0:1", encodeKey(item.id, undefined), itemToText(item), itemSize(item))
    const a = decodeCommandShared(data)
    const b = decodeCommandShared(data)
    assert.equal(a, b)
    assert.ok(a.kind === "write" && b.kind === "write")
    assert.equal(a.stored(), b.stored())
    assert.deepEqual(a.stored()!.item, item)
    assert.equal(a.stored()!.size, itemSize(item))
    const plain = decodeCommand(data)
    assert.ok(plain.kind === "write")
    assert.equal(plain.requestId, a.requestId)
    assert.equal(plain.key, a.key)
    assert.deepEqual(plain.body, a.body)
    // A copy of the bytes (a WAL read back) is another array: decoded afresh, same content.
    const copy = decodeCommandShared(data.slice())
    assert.notEqual(copy, a)
    assert.ok(copy.kind === "write")
    assert.deepEqual(copy.stored()!.item, item)
    // A delete has no stored item.
    const del = decodeCommandShared(encodeWrite("rr0:2", encodeKey(item.id, undefined), undefined))
    assert.ok(del.kind === "write" && del.stored() === undefined)
  })

  it("remembers at most SHARED_COMMANDS_MAX arrays (the oldest are decoded again)", () => {
    const first = encodeWrite("rr9:0", "k", "{}", 0)
    const a = decodeCommandShared(first)
    for (let i = 1; i <= SHARED_COMMANDS_MAX; i++) decodeCommandShared(encodeWrite(`rr9:${i}`, "k", "{}", 0))
    const again = decodeCommandShared(first)
    assert.notEqual(again, a)
    assert.ok(again.kind === "write" && a.kind === "write" && again.requestId === a.requestId)
  })
})
