import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { Either } from "effect"
import fc from "fast-check"
import {
  compareBytes,
  hashFromBigInt,
  parseRoutingKey,
  PerkleStore,
  type Region,
  type RoutingEntry,
  routingKey,
  tablePrefix,
  toHex,
} from "../src/index.ts"

const TABLES = ["orders", "users", "u"]

const entryArb: fc.Arbitrary<RoutingEntry> = fc.record({
  partitionId: fc.stringMatching(/^p-[0-9a-f]{1,6}$/),
  epoch: fc.nat({ max: 1_000_000 }),
  replicas: fc.array(
    fc.record({
      nodeId: fc.constantFrom("sn-1", "sn-2", "sn-3", "sn-4", "sn-é"),
      az: fc.constantFrom("az1", "az2", "az3"),
    }),
    { maxLength: 4 },
  ),
  leaderHint: fc.option(fc.constantFrom("sn-1", "sn-2", "sn-9"), { nil: null }),
})

// keys: small hash spaces and short sort keys make prefix relations and shared bytes common
const keyArb: fc.Arbitrary<Uint8Array> = fc
  .record({
    table: fc.constantFrom(...TABLES),
    hash: fc.oneof(fc.bigInt({ min: 0n, max: 16n }), fc.bigInt({ min: 0n, max: (1n << 128n) - 1n })),
    sort: fc.option(fc.string({ maxLength: 3, unit: fc.constantFrom("a", "b", "\u0000", "\uffff", "é") }), {
      nil: undefined,
    }),
  })
  .map(({ table, hash, sort }) => routingKey(table, hashFromBigInt(hash), sort))

type Op = { put: true; key: Uint8Array; entry: RoutingEntry } | { put: false; key: Uint8Array }
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ put: fc.constant(true as const), key: keyArb, entry: entryArb }) },
  { weight: 1, arbitrary: fc.record({ put: fc.constant(false as const), key: keyArb }) },
)

/** The reference: a sorted array of [hex key, key, entry]. */
class Ref {
  rows: { key: Uint8Array; entry: RoutingEntry }[] = []
  apply(op: Op): void {
    const i = this.rows.findIndex((r) => compareBytes(r.key, op.key) === 0)
    if (op.put) {
      if (i >= 0) this.rows[i] = { key: op.key, entry: op.entry }
      else {
        this.rows.push({ key: op.key, entry: op.entry })
        this.rows.sort((a, b) => compareBytes(a.key, b.key))
      }
    } else if (i >= 0) this.rows.splice(i, 1)
  }
  floor(q: Uint8Array) {
    let best: (typeof this.rows)[number] | undefined
    for (const r of this.rows) if (compareBytes(r.key, q) <= 0) best = r
    return best
  }
  ceiling(q: Uint8Array) {
    return this.rows.find((r) => compareBytes(r.key, q) >= 0)
  }
}

const norm = (e: RoutingEntry | undefined) =>
  e === undefined ? undefined : { ...e, replicas: e.replicas.map((r) => ({ nodeId: r.nodeId, az: r.az })) }

const apply = (s: PerkleStore, op: Op) => (op.put ? s.put(op.key, op.entry) : s.delete(op.key))

describe("PerkleStore lookups", () => {
  it("agree with a sorted-array reference on exact, floor, ceiling, lower, higher, between and prefix", () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 120 }),
        fc.array(keyArb, { maxLength: 30 }),
        (ops, queries) => {
          const s = new PerkleStore()
          const ref = new Ref()
          s.trim() // trimming an empty store must leave it usable
          ops.forEach((op, i) => {
            apply(s, op)
            ref.apply(op)
            if (i % 7 === 3) s.trim()
          })
          assert.equal(s.size, ref.rows.length)
          assert.deepEqual(
            s.entries().map((b) => toHex(b.key)),
            ref.rows.map((r) => toHex(r.key)),
          )
          for (const q of [...queries, ...ops.map((o) => o.key)]) {
            const exact = ref.rows.find((r) => compareBytes(r.key, q) === 0)
            assert.deepEqual(norm(s.get(q)), norm(exact?.entry))
            const f = s.floor(q)
            const rf = ref.floor(q)
            assert.equal(f && toHex(f.key), rf && toHex(rf.key))
            assert.deepEqual(norm(f?.entry), norm(rf?.entry))
            const lo = s.lower(q)
            const rlo = [...ref.rows].reverse().find((r) => compareBytes(r.key, q) < 0)
            assert.equal(lo && toHex(lo.key), rlo && toHex(rlo.key))
            const hi = s.higher(q)
            const rhi = ref.rows.find((r) => compareBytes(r.key, q) > 0)
            assert.equal(hi && toHex(hi.key), rhi && toHex(rhi.key))
            const to = queries[0] ?? q
            assert.deepEqual(
              s.between(q, to).map((b) => toHex(b.key)),
              ref.rows
                .filter((r) => compareBytes(r.key, q) >= 0 && compareBytes(r.key, to) < 0)
                .map((r) => toHex(r.key)),
            )
            const c = s.ceiling(q)
            const rc = ref.ceiling(q)
            assert.equal(c && toHex(c.key), rc && toHex(rc.key))
          }
          // the read index (per-table 64-bit words) agrees with the reference floor within a table
          for (const q of [...queries, ...ops.map((o) => o.key)]) {
            const t = parseRoutingKey(q).tableId
            const p = toHex(tablePrefix(t))
            const inTable = ref.rows.filter((r) => toHex(r.key).startsWith(p) && compareBytes(r.key, q) <= 0)
            const want = inTable[inTable.length - 1]
            const slot = s.floorInTable(s.tableHandle(t), q)
            assert.equal(slot < 0 ? undefined : toHex(s.keyAt(slot)), want && toHex(want.key))
            const r = s.route(q)
            assert.equal(r && toHex(r.start), want && toHex(want.key))
            if (r !== undefined) {
              const next = ref.rows.find(
                (x) => toHex(x.key).startsWith(p) && compareBytes(x.key, r.start) > 0,
              )
              assert.equal(r.end && toHex(r.end), next ? toHex(next.key) : null)
            }
          }
          for (const t of TABLES) {
            const p = tablePrefix(t)
            const want = ref.rows.filter((r) => toHex(r.key).startsWith(toHex(p))).map((r) => toHex(r.key))
            assert.deepEqual(
              s.table(t).map((b) => toHex(b.key)),
              want,
            )
          }
          // arbitrary byte prefixes too
          for (const q of queries) {
            const p = q.subarray(0, q.length >> 1)
            const want = ref.rows.filter((r) => toHex(r.key).startsWith(toHex(p))).map((r) => toHex(r.key))
            assert.deepEqual(
              s.prefix(p).map((b) => toHex(b.key)),
              want,
            )
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it("route returns the partition holding a key and its end, within the key's table", () => {
    const s = new PerkleStore()
    const e = (p: string): RoutingEntry => ({
      partitionId: p,
      epoch: 1,
      replicas: [{ nodeId: "n1", az: "a" }],
      leaderHint: "n1",
    })
    s.put(routingKey("t", hashFromBigInt(0n)), e("p0"))
    s.put(routingKey("t", hashFromBigInt(1n << 127n)), e("p1"))
    s.put(routingKey("tt", hashFromBigInt(0n)), e("q0"))
    const r0 = s.route(routingKey("t", hashFromBigInt(5n)), s.tableHandle("t"))
    assert.equal(r0?.entry.partitionId, "p0")
    assert.equal(toHex(r0!.end!), toHex(routingKey("t", hashFromBigInt(1n << 127n))))
    const r1 = s.route(routingKey("t", hashFromBigInt((1n << 128n) - 1n)), s.tableHandle("t"))
    assert.equal(r1?.entry.partitionId, "p1")
    assert.equal(r1?.end, null)
    assert.equal(s.route(routingKey("a", hashFromBigInt(0n)), s.tableHandle("a")), undefined)
  })

  it("route answers from its memo until an update, then with the update", () => {
    const s = new PerkleStore()
    const e = (p: string, epoch: number, leader: string): RoutingEntry => ({
      partitionId: p,
      epoch,
      replicas: [
        { nodeId: "n1", az: "a" },
        { nodeId: "n2", az: "b" },
      ],
      leaderHint: leader,
    })
    const q = routingKey("t", hashFromBigInt(5n))
    s.put(routingKey("t", hashFromBigInt(0n)), e("p0", 1, "n1"))
    s.put(routingKey("t", hashFromBigInt(1n << 127n)), e("p1", 1, "n1"))
    const a = s.route(q)!
    // One decoded object serves repeated lookups of the same route.
    assert.equal(s.route(q), a)
    // A new leader at the same boundary: the next lookup sees it.
    s.put(routingKey("t", hashFromBigInt(0n)), e("p0", 2, "n2"))
    const b = s.route(q)!
    assert.equal(b.entry.leaderHint, "n2")
    assert.equal(b.entry.epoch, 2)
    assert.equal(toHex(b.end!), toHex(routingKey("t", hashFromBigInt(1n << 127n))))
    // A boundary inserted after it (a split) moves the range's end, and its deletion moves it back.
    const mid = routingKey("t", hashFromBigInt(1n << 100n))
    s.put(mid, e("p2", 1, "n1"))
    assert.equal(toHex(s.route(q)!.end!), toHex(mid))
    assert.equal(s.route(routingKey("t", hashFromBigInt((1n << 100n) + 1n)))!.entry.partitionId, "p2")
    s.delete(mid)
    assert.equal(toHex(s.route(q)!.end!), toHex(routingKey("t", hashFromBigInt(1n << 127n))))
    // The range's own boundary deleted: the key falls to no range of the table.
    s.delete(routingKey("t", hashFromBigInt(0n)))
    assert.equal(s.route(q), undefined)
  })
})

describe("Perkle Merkle hashes", () => {
  it("equal contents give equal roots whatever the update order", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), fc.integer(), (ops, seed) => {
        const a = new PerkleStore()
        for (const op of ops) apply(a, op)
        // the same final contents, inserted in a shuffled order, with detours
        const final = a.entries()
        const shuffled = [...final]
        let x = seed >>> 0 || 1
        for (let i = shuffled.length - 1; i > 0; i--) {
          x = (Math.imul(x, 1103515245) + 12345) >>> 0
          const j = x % (i + 1)
          ;[shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!]
        }
        const b = new PerkleStore()
        for (const r of shuffled) {
          b.put(r.key, { partitionId: "tmp", epoch: 0, replicas: [], leaderHint: null })
          b.put(routingKey("zz", hashFromBigInt(BigInt(x & 0xff))), r.entry)
        }
        b.delete(routingKey("zz", hashFromBigInt(BigInt(x & 0xff))))
        for (const r of shuffled) b.put(r.key, r.entry)
        assert.equal(b.root, a.root)
        assert.equal(b.diff(a).keys.length, 0)
      }),
      { numRuns: 200 },
    )
  })

  it("different contents give different roots", () => {
    const a = new PerkleStore()
    const k = routingKey("t", hashFromBigInt(7n))
    a.put(k, { partitionId: "p", epoch: 1, replicas: [], leaderHint: null })
    const r1 = a.root
    a.put(k, { partitionId: "p", epoch: 2, replicas: [], leaderHint: null })
    assert.notEqual(a.root, r1)
    a.delete(k)
    assert.equal(a.root, "0000000000000000")
  })

  it("the diff finds exactly the differing keys, descending only into differing subtrees", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), fc.array(opArb, { maxLength: 20 }), (base, extra) => {
        const a = new PerkleStore()
        const b = new PerkleStore()
        const ra = new Ref()
        const rb = new Ref()
        for (const op of base) {
          apply(a, op)
          apply(b, op)
          ra.apply(op)
          rb.apply(op)
        }
        for (const op of extra) {
          apply(b, op)
          rb.apply(op)
        }
        const all = new Map<string, Uint8Array>()
        for (const r of [...ra.rows, ...rb.rows]) all.set(toHex(r.key), r.key)
        const want = [...all.values()]
          .filter((k) => {
            const x = ra.rows.find((r) => compareBytes(r.key, k) === 0)
            const y = rb.rows.find((r) => compareBytes(r.key, k) === 0)
            return (
              x === undefined ||
              y === undefined ||
              JSON.stringify(norm(x.entry)) !== JSON.stringify(norm(y.entry))
            )
          })
          .sort(compareBytes)
          .map(toHex)
        const d = a.diff(b)
        assert.deepEqual(d.keys.map(toHex), want)
        assert.deepEqual(b.diff(a).keys.map(toHex), want)
      }),
      { numRuns: 300 },
    )
  })

  it("a diff of one changed entry among 20,000 visits few nodes", () => {
    const a = new PerkleStore()
    const b = new PerkleStore()
    for (let i = 0; i < 20_000; i++) {
      const k = routingKey("t", hashFromBigInt(BigInt(i) * 0x1234567890abcdefn * 7919n))
      const e = {
        partitionId: `p${i}`,
        epoch: 1,
        replicas: [{ nodeId: `n${i % 50}`, az: `az${i % 3}` }],
        leaderHint: null,
      }
      a.put(k, e)
      b.put(k, i === 777 ? { ...e, epoch: 2 } : e)
    }
    const d = a.diff(b)
    assert.equal(d.keys.length, 1)
    assert.ok(d.visited < 200, `visited ${d.visited}`)
  })
})

describe("Perkle snapshots", () => {
  it("round-trip contents and root, and are byte-identical for equal contents", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
        const a = new PerkleStore()
        for (const op of ops) apply(a, op)
        const snap = a.snapshot(42)
        const back = PerkleStore.fromSnapshot(snap)
        assert.ok(Either.isRight(back))
        const { store, version } = back.right
        assert.equal(version, 42)
        assert.equal(store.root, a.root)
        assert.deepEqual(
          store.entries().map((b) => [toHex(b.key), norm(b.entry)]),
          a.entries().map((b) => [toHex(b.key), norm(b.entry)]),
        )
        const c = new PerkleStore()
        for (const r of [...a.entries()].reverse()) c.put(r.key, r.entry)
        assert.deepEqual(c.snapshot(42), snap)
      }),
      { numRuns: 150 },
    )
  })

  it("reject corrupted snapshots", () => {
    const a = new PerkleStore()
    for (let i = 0; i < 100; i++)
      a.put(routingKey("t", hashFromBigInt(BigInt(i) << 100n)), {
        partitionId: `p${i}`,
        epoch: i,
        replicas: [],
        leaderHint: null,
      })
    const snap = a.snapshot(1, 1)
    assert.ok(Either.isLeft(PerkleStore.fromSnapshot(snap.subarray(0, snap.length - 5))))
    assert.ok(Either.isLeft(PerkleStore.fromSnapshot(new Uint8Array([1, 2, 3]))))
  })
})

describe("Perkle Merkle anti-entropy by regions", () => {
  it("drops keys that lie off the peer's common prefix (found by fast-check, seed 1099174672)", () => {
    const entry = (id: string) => ({ partitionId: id, epoch: 0, replicas: [], leaderHint: null })
    const a = new PerkleStore()
    const b = new PerkleStore()
    a.put(Uint8Array.from([117, 115, 101, 114, 115, ...new Array(16).fill(0), 3]), entry("p-a"))
    b.put(Uint8Array.from([117, ...new Array(17).fill(0)]), entry("p-0"))
    b.put(Uint8Array.from([117, ...new Array(16).fill(0), 1]), entry("p-0"))
    const queue: Region[] = [{ rep: new Uint8Array(0), pos: 0 }]
    let changed = 0
    while (queue.length > 0) {
      const r = queue.shift()!
      const step = a.applyRegion(b.regionSummary(r.rep, r.pos, 1))
      changed += step.changed
      queue.push(...step.next)
    }
    assert.equal(a.root, b.root)
    assert.equal(a.size, 2)
    assert.equal(changed, 3)
  })

  it("repairs a replica by descending only differing regions, to the same root", () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 120 }),
        fc.array(opArb, { maxLength: 30 }),
        fc.integer({ min: 1, max: 8 }),
        (base, extra, entriesMax) => {
          const a = new PerkleStore()
          const b = new PerkleStore()
          for (const op of base) {
            apply(a, op)
            apply(b, op)
          }
          for (const op of extra) apply(b, op)
          const want = a.diff(b).keys.length
          const queue: Region[] = [{ rep: new Uint8Array(0), pos: 0 }]
          let changed = 0
          let rounds = 0
          while (queue.length > 0) {
            rounds++
            const r = queue.shift()!
            const step = a.applyRegion(b.regionSummary(r.rep, r.pos, entriesMax))
            changed += step.changed
            queue.push(...step.next)
            assert.ok(rounds < 10_000)
          }
          assert.equal(a.root, b.root)
          assert.equal(changed, want, "exactly the differing entries are rewritten")
        },
      ),
      { numRuns: 200 },
    )
  })
})
