import assert from "node:assert/strict"
import { describe, it } from "node:test"
import fc from "fast-check"
import { BTree, type BTreeView, ChecksumAccumulator, type RangeOptions, type Scalar } from "../src/index.ts"

/** Runs per CI execution; PARTITA_SEEDS raises it for longer soaks. */
const MODEL_RUNS = Math.max(1000, Number(process.env["PARTITA_SEEDS"] ?? 0))

type Model = {
  map: Map<string, Scalar>
  snaps: Array<{ content: Array<[string, Scalar]>; view: BTreeView<Scalar> }>
}
type Real = { tree: BTree<Scalar> }

const sortedEntries = (m: Map<string, Scalar>): Array<[string, Scalar]> =>
  [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))

const modelChecksum = (entries: Iterable<[string, Scalar]>): string => {
  const acc = new ChecksumAccumulator<Scalar>()
  for (const [k, v] of entries) acc.add(k, v)
  return acc.checksum()
}

const inRange = (k: string, o: RangeOptions): boolean =>
  (o.gt === undefined || k > o.gt) &&
  (o.gte === undefined || k >= o.gte) &&
  (o.lt === undefined || k < o.lt) &&
  (o.lte === undefined || k <= o.lte)

const modelRange = (m: Map<string, Scalar>, o: RangeOptions): Array<[string, Scalar]> => {
  let out = sortedEntries(m).filter(([k]) => inRange(k, o))
  if (o.reverse) out = out.reverse()
  if (o.after !== undefined) {
    const a = o.after
    out = out.filter(([k]) => (o.reverse ? k < a : k > a))
  }
  return o.limit === undefined ? out : out.slice(0, o.limit)
}

// A small alphabet makes hits, misses, neighbours and shared prefixes all common.
const keyArb = fc.string({ unit: fc.constantFrom("a", "b", "c", "d", "e", "\u00e9", "\u4e2d"), maxLength: 4 })
const valueArb: fc.Arbitrary<Scalar> = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.string({ maxLength: 3 }),
  fc.uint8Array({ maxLength: 3 }),
)
const rangeArb: fc.Arbitrary<RangeOptions> = fc
  .record(
    {
      lower: fc.option(fc.tuple(fc.boolean(), keyArb), { nil: undefined }),
      upper: fc.option(fc.tuple(fc.boolean(), keyArb), { nil: undefined }),
      reverse: fc.boolean(),
      limit: fc.option(fc.nat(20), { nil: undefined }),
      after: fc.option(keyArb, { nil: undefined }),
    },
    { requiredKeys: [] },
  )
  .map((r) => {
    const o: { -readonly [K in keyof RangeOptions]: RangeOptions[K] } = {}
    if (r.lower) o[r.lower[0] ? "gt" : "gte"] = r.lower[1]
    if (r.upper) o[r.upper[0] ? "lt" : "lte"] = r.upper[1]
    if (r.reverse) o.reverse = true
    if (r.limit !== undefined) o.limit = r.limit
    if (r.after !== undefined) o.after = r.after
    return o
  })

const sameValue = (a: Scalar | undefined, b: Scalar | undefined): void => assert.deepStrictEqual(a, b)

class SetCmd implements fc.Command<Model, Real> {
  constructor(
    readonly k: string,
    readonly v: Scalar,
  ) {}
  check = () => true
  run(m: Model, r: Real): void {
    sameValue(r.tree.set(this.k, this.v), m.map.get(this.k))
    m.map.set(this.k, this.v)
  }
  toString = () => `set(${JSON.stringify(this.k)}, ${String(this.v)})`
}

class SetManyCmd implements fc.Command<Model, Real> {
  constructor(
    readonly base: string,
    readonly n: number,
  ) {}
  check = () => true
  run(m: Model, r: Real): void {
    for (let i = 0; i < this.n; i++) {
      const k = this.base + String(i).padStart(2, "0")
      sameValue(r.tree.set(k, i), m.map.get(k))
      m.map.set(k, i)
    }
  }
  toString = () => `setMany(${JSON.stringify(this.base)}, ${this.n})`
}

class DeleteCmd implements fc.Command<Model, Real> {
  constructor(readonly k: string) {}
  check = () => true
  run(m: Model, r: Real): void {
    sameValue(r.tree.delete(this.k), m.map.get(this.k))
    m.map.delete(this.k)
  }
  toString = () => `delete(${JSON.stringify(this.k)})`
}

class DeleteRangeCmd implements fc.Command<Model, Real> {
  constructor(readonly o: RangeOptions) {}
  check = () => true
  run(m: Model, r: Real): void {
    for (const [k, v] of modelRange(m.map, this.o)) {
      sameValue(r.tree.delete(k), v)
      m.map.delete(k)
    }
  }
  toString = () => `deleteRange(${JSON.stringify(this.o)})`
}

class DeleteManyCmd implements fc.Command<Model, Real> {
  constructor(
    readonly base: string,
    readonly from: number,
    readonly to: number,
  ) {}
  check = () => true
  run(m: Model, r: Real): void {
    for (let i = this.from; i < this.to; i++) {
      const k = this.base + String(i).padStart(2, "0")
      sameValue(r.tree.delete(k), m.map.get(k))
      m.map.delete(k)
    }
  }
  toString = () => `deleteMany(${JSON.stringify(this.base)}, ${this.from}, ${this.to})`
}

class GetCmd implements fc.Command<Model, Real> {
  constructor(readonly k: string) {}
  check = () => true
  run(m: Model, r: Real): void {
    sameValue(r.tree.get(this.k), m.map.get(this.k))
    assert.equal(r.tree.has(this.k), m.map.has(this.k))
  }
  toString = () => `get(${JSON.stringify(this.k)})`
}

class RangeCmd implements fc.Command<Model, Real> {
  constructor(readonly o: RangeOptions) {}
  check = () => true
  run(m: Model, r: Real): void {
    const want = modelRange(m.map, this.o)
    assert.deepStrictEqual([...r.tree.range(this.o)], want)
    const viaCallback: Array<[string, Scalar]> = []
    r.tree.forRange(this.o, (k, v) => {
      viaCallback.push([k, v])
    })
    assert.deepStrictEqual(viaCallback, want)
  }
  toString = () => `range(${JSON.stringify(this.o)})`
}

class PagesCmd implements fc.Command<Model, Real> {
  constructor(
    readonly o: RangeOptions,
    readonly pageSize: number,
  ) {}
  check = () => true
  run(m: Model, r: Real): void {
    const { limit: _, after: __, ...bounds } = this.o
    const want = modelRange(m.map, bounds)
    const got: Array<[string, Scalar]> = []
    let after: string | undefined
    for (let pages = 0; pages <= want.length + 1; pages++) {
      const p = r.tree.page({ ...bounds, limit: this.pageSize, ...(after !== undefined ? { after } : {}) })
      got.push(...p.items)
      assert.ok(p.items.length <= this.pageSize)
      if (p.lastEvaluatedKey === undefined) break
      after = p.lastEvaluatedKey
    }
    assert.deepStrictEqual(got, want)
  }
  toString = () => `pages(${JSON.stringify(this.o)}, ${this.pageSize})`
}

class SnapshotCmd implements fc.Command<Model, Real> {
  check = () => true
  run(m: Model, r: Real): void {
    m.snaps.push({ content: sortedEntries(m.map), view: r.tree.snapshot() })
  }
  toString = () => "snapshot()"
}

class CheckSnapshotsCmd implements fc.Command<Model, Real> {
  check = () => true
  run(m: Model): void {
    for (const s of m.snaps) {
      assert.equal(s.view.size, s.content.length)
      assert.deepStrictEqual([...s.view.range()], s.content)
      assert.equal(s.view.checksum(), modelChecksum(s.content))
      for (const [k, v] of s.content) sameValue(s.view.get(k), v)
    }
  }
  toString = () => "checkSnapshots()"
}

class ChecksumCmd implements fc.Command<Model, Real> {
  constructor(
    readonly lo: string | undefined,
    readonly hi: string | undefined,
  ) {}
  check = () => true
  run(m: Model, r: Real): void {
    const all = sortedEntries(m.map)
    assert.equal(r.tree.checksum(), modelChecksum(all))
    assert.equal(r.tree.size, all.length)
    const part = all.filter(
      ([k]) => (this.lo === undefined || k >= this.lo) && (this.hi === undefined || k < this.hi),
    )
    const s = r.tree.rangeSummary(this.lo, this.hi)
    assert.equal(s.checksum, modelChecksum(part))
    assert.equal(s.count, part.length)
    const acc = new ChecksumAccumulator<Scalar>()
    for (const [k, v] of part) acc.add(k, v)
    assert.equal(s.bytes, acc.summary().bytes)
  }
  toString = () => `checksum(${JSON.stringify(this.lo)}, ${JSON.stringify(this.hi)})`
}

class InvariantsCmd implements fc.Command<Model, Real> {
  check = () => true
  run(m: Model, r: Real): void {
    r.tree.checkInvariants()
    assert.equal(r.tree.size, m.map.size)
    const all = sortedEntries(m.map)
    for (let i = -1; i <= all.length; i++) assert.deepStrictEqual(r.tree.at(i), all[i])
    for (const [k] of all)
      assert.equal(
        r.tree.rank(k),
        all.findIndex(([x]) => x === k),
      )
    assert.equal(r.tree.rank("\uffff\uffff\uffff\uffff\uffff"), all.length)
    assert.equal(r.tree.minKey(), all[0]?.[0])
    assert.equal(r.tree.maxKey(), all[all.length - 1]?.[0])
  }
  toString = () => "checkInvariants()"
}

const commandArbs = [
  fc.tuple(keyArb, valueArb).map(([k, v]) => new SetCmd(k, v)),
  fc
    .tuple(fc.constantFrom("", "a", "b"), fc.integer({ min: 1, max: 80 }))
    .map(([b, n]) => new SetManyCmd(b, n)),
  keyArb.map((k) => new DeleteCmd(k)),
  fc
    .tuple(fc.constantFrom("", "a", "b"), fc.nat(80), fc.nat(80))
    .map(([b, x, y]) => new DeleteManyCmd(b, x, y)),
  rangeArb.map((o) => new DeleteRangeCmd(o)),
  keyArb.map((k) => new GetCmd(k)),
  rangeArb.map((o) => new RangeCmd(o)),
  fc.tuple(rangeArb, fc.integer({ min: 1, max: 7 })).map(([o, n]) => new PagesCmd(o, n)),
  fc.constant(new SnapshotCmd()),
  fc.constant(new CheckSnapshotsCmd()),
  fc
    .tuple(fc.option(keyArb, { nil: undefined }), fc.option(keyArb, { nil: undefined }))
    .map(([lo, hi]) => new ChecksumCmd(lo, hi)),
  fc.constant(new InvariantsCmd()),
]

describe("BTree against a sorted Map model", () => {
  it(`agrees on every read, keeps snapshots frozen and checksums exact (${MODEL_RUNS} runs)`, () => {
    fc.assert(
      fc.property(
        fc.commands(commandArbs, { maxCommands: 50, size: "max" }),
        fc.constantFrom(8, 9, 16),
        fc.boolean(),
        (cmds, max, storeItemHashes) => {
          const model: Model = { map: new Map(), snaps: [] }
          // Half the runs keep item hashes in the leaves: the same reads and checksums, and
          // checkInvariants compares every stored hash with the value's.
          const real: Real = { tree: new BTree<Scalar>({ nodeEntriesMax: max, storeItemHashes }) }
          fc.modelRun(() => ({ model, real }), [...cmds, new InvariantsCmd(), new CheckSnapshotsCmd()])
        },
      ),
      { numRuns: MODEL_RUNS },
    )
  })
})
