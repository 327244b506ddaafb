import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import {
  casRegisterModel,
  checkHistory,
  checkOperations,
  History,
  type HistoryEvent,
  Illegal,
  kvModel,
  type Model,
  type Operation,
  parseHistory,
  parseJepsenLog,
  parseKvEdn,
  registerModel,
  toJepsenLog,
  toKvEdn,
} from "../src/index.ts"
import { main as cli } from "../bin/check-history.ts"

// The labelled data set: $PARTITA_LINEARIZABILITY_DATA, else the repository's workloads/ copy, else the
// shared folder next to the checkout. Missing data is an error, not a skip.
const DATA_CANDIDATES = [
  process.env.PARTITA_LINEARIZABILITY_DATA,
  join(import.meta.dirname, "../../../workloads/data/linearizability"),
  join(import.meta.dirname, "../../../../shared/data/linearizability"),
  "/work/shared/data/linearizability",
].filter((p): p is string => p !== undefined && p !== "")
const DATA_DIR = DATA_CANDIDATES.find((p) => existsSync(join(p, "etcd/labels.tsv"))) ?? DATA_CANDIDATES[0]!
/** An etcd history by number: the in-repo copy names them *.txt, the shared original *.log. */
const etcdFile = (n: string): string =>
  [".txt", ".log"].map((x) => join(DATA_DIR, `etcd/etcd_${n}${x}`)).find((f) => existsSync(f)) ??
  join(DATA_DIR, `etcd/etcd_${n}.txt`)

/** Build events from a compact script: [process, type, f, value, key?] per line, times = positions. */
const ev = (rows: Array<[number, HistoryEvent["type"], string, unknown, string?]>): HistoryEvent[] =>
  rows.map(([process, type, f, value, key], time) => ({ process, type, f, value, key, time }))

describe("register model (hand-made histories)", () => {
  it("accepts a read that overlaps a write returning either value", () => {
    const h = ev([
      [0, "invoke", "write", 1],
      [1, "invoke", "read", null],
      [1, "ok", "read", 1],
      [0, "ok", "write", 1],
      [1, "invoke", "read", null],
      [1, "ok", "read", 1],
    ])
    assert.equal(checkHistory(registerModel, h).verdict, "linearizable")
  })

  it("rejects a stale read after a completed write", () => {
    const h = ev([
      [0, "invoke", "write", 1],
      [0, "ok", "write", 1],
      [1, "invoke", "read", null],
      [1, "ok", "read", null],
    ])
    const r = checkHistory(registerModel, h)
    assert.equal(r.verdict, "not-linearizable")
    assert.ok(r.longestPrefix !== undefined)
  })

  it("rejects a new-then-old read pair (no going back in time)", () => {
    const h = ev([
      [0, "invoke", "write", 1],
      [1, "invoke", "read", null],
      [1, "ok", "read", 1],
      [2, "invoke", "read", null],
      [2, "ok", "read", null],
      [0, "ok", "write", 1],
    ])
    assert.equal(checkHistory(registerModel, h).verdict, "not-linearizable")
  })

  it("lets an info write take effect late (after later operations)", () => {
    const h = ev([
      [0, "invoke", "write", 1],
      [0, "info", "write", null],
      [1, "invoke", "read", null],
      [1, "ok", "read", null],
      [1, "invoke", "read", null],
      [1, "ok", "read", 1],
    ])
    assert.equal(checkHistory(registerModel, h).verdict, "linearizable")
  })

  it("lets an info write never take effect", () => {
    const h = ev([
      [0, "invoke", "write", 1],
      [0, "info", "write", null],
      [1, "invoke", "read", null],
      [1, "ok", "read", null],
    ])
    assert.equal(checkHistory(registerModel, h).verdict, "linearizable")
  })

  it("does not let an info write take effect before it was invoked", () => {
    const h = ev([
      [1, "invoke", "read", null],
      [1, "ok", "read", 1],
      [0, "invoke", "write", 1],
      [0, "info", "write", null],
    ])
    assert.equal(checkHistory(registerModel, h).verdict, "not-linearizable")
  })

  it("an invoke without completion counts as info", () => {
    const h = ev([
      [0, "invoke", "write", 7],
      [1, "invoke", "read", null],
      [1, "ok", "read", 7],
    ])
    assert.equal(checkHistory(registerModel, h).verdict, "linearizable")
  })
})

describe("CAS register model", () => {
  it("accepts a successful cas from the current value and rejects one from another", () => {
    const ok = ev([
      [0, "invoke", "write", 1],
      [0, "ok", "write", 1],
      [1, "invoke", "cas", [1, 2]],
      [1, "ok", "cas", [1, 2]],
      [2, "invoke", "read", null],
      [2, "ok", "read", 2],
    ])
    assert.equal(checkHistory(casRegisterModel, ok).verdict, "linearizable")
    const bad = ev([
      [0, "invoke", "write", 1],
      [0, "ok", "write", 1],
      [1, "invoke", "cas", [3, 2]],
      [1, "ok", "cas", [3, 2]],
    ])
    assert.equal(checkHistory(casRegisterModel, bad).verdict, "not-linearizable")
  })

  it("a failed cas asserts the value differed", () => {
    const bad = ev([
      [0, "invoke", "write", 1],
      [0, "ok", "write", 1],
      [1, "invoke", "cas", [1, 2]],
      [1, "fail", "cas", [1, 2]],
    ])
    assert.equal(checkHistory(casRegisterModel, bad).verdict, "not-linearizable")
    const good = ev([
      [0, "invoke", "write", 1],
      [0, "ok", "write", 1],
      [1, "invoke", "cas", [5, 2]],
      [1, "fail", "cas", [5, 2]],
    ])
    assert.equal(checkHistory(casRegisterModel, good).verdict, "linearizable")
  })

  it("an info cas may or may not have swapped", () => {
    const base: Array<[number, HistoryEvent["type"], string, unknown]> = [
      [0, "invoke", "write", 1],
      [0, "ok", "write", 1],
      [1, "invoke", "cas", [1, 2]],
      [1, "info", "cas", null],
    ]
    const swapped = ev([...base, [2, "invoke", "read", null], [2, "ok", "read", 2]])
    const notSwapped = ev([...base, [2, "invoke", "read", null], [2, "ok", "read", 1]])
    const neither = ev([...base, [2, "invoke", "read", null], [2, "ok", "read", 3]])
    assert.equal(checkHistory(casRegisterModel, swapped).verdict, "linearizable")
    assert.equal(checkHistory(casRegisterModel, notSwapped).verdict, "linearizable")
    assert.equal(checkHistory(casRegisterModel, neither).verdict, "not-linearizable")
  })
})

describe("kv model", () => {
  it("checks appends per key and catches a lost append", () => {
    const ok = ev([
      [0, "invoke", "append", "a", "k"],
      [1, "invoke", "append", "b", "k"],
      [0, "ok", "append", "a", "k"],
      [1, "ok", "append", "b", "k"],
      [2, "invoke", "get", null, "k"],
      [2, "ok", "get", "ba", "k"],
      [2, "invoke", "get", null, "other"],
      [2, "ok", "get", "", "other"],
    ])
    assert.equal(checkHistory(kvModel, ok).verdict, "linearizable")
    const lost = ev([
      [0, "invoke", "append", "a", "k"],
      [0, "ok", "append", "a", "k"],
      [1, "invoke", "append", "b", "k"],
      [1, "ok", "append", "b", "k"],
      [2, "invoke", "get", null, "k"],
      [2, "ok", "get", "b", "k"],
    ])
    const r = checkHistory(kvModel, lost)
    assert.equal(r.verdict, "not-linearizable")
    assert.equal(r.partitions, 1)
  })

  it("handles put and info appends", () => {
    const h = ev([
      [0, "invoke", "put", "x", "k"],
      [0, "ok", "put", "x", "k"],
      [1, "invoke", "append", "y", "k"],
      [1, "info", "append", null, "k"],
      [2, "invoke", "get", null, "k"],
      [2, "ok", "get", "x", "k"],
      [2, "invoke", "get", null, "k"],
      [2, "ok", "get", "xy", "k"],
    ])
    assert.equal(checkHistory(kvModel, h).verdict, "linearizable")
    const h2 = ev([
      [0, "invoke", "put", "x", "k"],
      [0, "ok", "put", "x", "k"],
      [1, "invoke", "append", "y", "k"],
      [1, "info", "append", null, "k"],
      [2, "invoke", "get", null, "k"],
      [2, "ok", "get", "xy", "k"],
      [2, "invoke", "get", null, "k"],
      [2, "ok", "get", "x", "k"],
    ])
    assert.equal(checkHistory(kvModel, h2).verdict, "not-linearizable")
  })
})

describe("user models and budgets", () => {
  // A counter with increments and reads, written against the Model interface.
  type CIn = { op: "inc" | "read" }
  type COut = number
  const counter: Model<number, CIn, COut> = {
    name: "counter",
    init: () => 0,
    step: (s, i, o) => (i.op === "inc" ? s + 1 : o === s ? s : Illegal),
    equal: (a, b) => a === b,
    hash: (s) => s,
  }
  const op = (client: number, i: CIn, o: COut, call: number, ret: number): Operation<CIn, COut> => ({
    client,
    input: i,
    output: o,
    call,
    return: ret,
  })

  it("checks a custom model", () => {
    const good = [
      op(0, { op: "inc" }, 0, 0, 3),
      op(1, { op: "inc" }, 0, 1, 4),
      op(2, { op: "read" }, 1, 2, 5),
    ]
    assert.equal(checkOperations(counter, good).verdict, "linearizable")
    const bad = [op(0, { op: "inc" }, 0, 0, 1), op(2, { op: "read" }, 0, 2, 3)]
    assert.equal(checkOperations(counter, bad).verdict, "not-linearizable")
  })

  it("returns unknown, never a wrong verdict, when the budget runs out", () => {
    // Many concurrent increments and a final read of an impossible value: the search must explore a lot.
    const ops: Operation<CIn, COut>[] = []
    for (let i = 0; i < 14; i++) ops.push(op(i, { op: "inc" }, 0, i, 1000 + i))
    ops.push(op(99, { op: "read" }, 15, 2000, 2001))
    const r = checkOperations(counter, ops, { stepsMax: 50 })
    assert.equal(r.verdict, "unknown")
    const full = checkOperations(counter, ops)
    assert.equal(full.verdict, "not-linearizable")
    assert.ok(full.steps > 50)
    ops[ops.length - 1] = op(99, { op: "read" }, 14, 2000, 2001)
    assert.equal(checkOperations(counter, ops, { stepsMax: 5 }).verdict, "unknown")
    assert.equal(checkOperations(counter, ops).verdict, "linearizable")
  })
})

describe("history recorder and formats", () => {
  it("records at virtual times and round-trips through both text formats", () => {
    let t = 0
    const h = new History(() => t)
    const a = h.invoke(0, "write", 3)
    t = 1
    const b = h.invoke(1, "read")
    t = 2
    h.ok(a)
    h.ok(b, 3)
    const c = h.invoke(0, "cas", [3, 4])
    t = 5
    h.info(c)
    assert.throws(() => h.ok(c))
    const back = parseJepsenLog(toJepsenLog(h.events))
    assert.deepEqual(
      back.map((e) => [e.type, e.process, e.f, e.value]),
      h.events.map((e) => [e.type, e.process, e.f, e.value]),
    )
    assert.equal(checkHistory(casRegisterModel, back).verdict, "linearizable")

    const k = new History(() => t)
    const p = k.invoke(0, "append", "x", "key1")
    k.ok(p)
    const g = k.invoke(1, "get", null, "key1")
    k.ok(g, "x")
    const kb = parseKvEdn(toKvEdn(k.events))
    assert.deepEqual(
      kb.map((e) => [e.type, e.process, e.f, e.key, e.value]),
      k.events.map((e) => [e.type, e.process, e.f, e.key, e.value]),
    )
  })

  it("rejects malformed input with a clear error", () => {
    assert.throws(() => parseHistory("hello\n"), /unrecognised/)
    assert.throws(
      () => parseKvEdn('{:process 0, :type :invoke, :f :get, :key "k", :value nil\n'),
      /unterminated/,
    )
    assert.throws(() => parseKvEdn('{:process x, :type :invoke, :f :get, :key "k", :value nil}\n'))
  })
})

describe("labelled data set (../shared/data/linearizability)", () => {
  it("every etcd history gets its label", () => {
    const labels = readFileSync(join(DATA_DIR, "etcd/labels.tsv"), "utf8").trim().split("\n")
    assert.equal(labels.length, 102)
    for (const line of labels) {
      const [file, label] = line.split("\t") as [string, string]
      const events = parseHistory(readFileSync(join(DATA_DIR, "etcd", file), "utf8"))
      const r = checkHistory(casRegisterModel, events, { timeoutMs: 30_000 })
      assert.equal(r.verdict, label, `${file}: expected ${label}, got ${r.verdict}`)
    }
  })

  it("every kv history gets its label (cNN-ok linearizable, cNN-bad not)", () => {
    const files = readdirSync(join(DATA_DIR, "kv")).filter((f) => f.endsWith(".txt"))
    assert.equal(files.length, 6)
    for (const f of files) {
      const events = parseHistory(readFileSync(join(DATA_DIR, "kv", f), "utf8"))
      const r = checkHistory(kvModel, events, { timeoutMs: 30_000 })
      assert.equal(r.verdict, f.includes("-ok") ? "linearizable" : "not-linearizable", f)
    }
  })

  it("the CLI prints the verdict and exits 0 / 1 / 2", () => {
    const out: string[] = []
    const say = (s: string) => out.push(s)
    assert.equal(cli(["--model", "kv", join(DATA_DIR, "kv/c50-ok.txt")], say), 0)
    assert.equal(cli(["--model", "kv", join(DATA_DIR, "kv/c50-bad.txt")], say), 1)
    assert.equal(cli(["--model", "register", etcdFile("002")], say), 0)
    assert.equal(cli(["--model", "register", etcdFile("000")], say), 1)
    assert.equal(cli(["--model", "register", join(DATA_DIR, "etcd/labels.tsv")], say), 2)
    assert.equal(cli(["--model", "nope", etcdFile("000")], say), 2)
    assert.equal(cli(["--model", "kv", "--steps-max", "10", join(DATA_DIR, "kv/c50-ok.txt")], say), 2)
    assert.deepEqual(out.slice(0, 4), [
      "linearizable",
      "not linearizable",
      "linearizable",
      "not linearizable",
    ])
    assert.equal(out[6], "unknown")
  })
})
