// The Porcupine search against an exhaustive one on thousands of random small concurrent histories
// (register with read / write / cas, including fail and info outcomes).
import { describe, it } from "node:test"
import assert from "node:assert/strict"
import {
  casRegisterModel,
  checkOperations,
  Illegal,
  type OpInput,
  type OpOutput,
  type Operation,
  Prng,
  type RegisterValue,
} from "../src/index.ts"

type Op = Operation<OpInput, OpOutput>

/** Exhaustive: is there an order of all ops, respecting real time, that the model accepts? */
const bruteForce = (ops: Op[]): boolean => {
  const n = ops.length
  const used = new Array<boolean>(n).fill(false)
  const go = (state: RegisterValue, done: number): boolean => {
    if (done === n) return true
    for (let i = 0; i < n; i++) {
      if (used[i]) continue
      // i can go next only if no unused op returned before i was called
      let ok = true
      for (let j = 0; j < n; j++) if (!used[j] && j !== i && ops[j]!.return < ops[i]!.call) ok = false
      if (!ok) continue
      const ns = casRegisterModel.step(state, ops[i]!.input, ops[i]!.output)
      if (ns === Illegal) continue
      used[i] = true
      if (go(ns, done + 1)) return true
      used[i] = false
    }
    return false
  }
  return go(null, 0)
}

/** A random history: up to 3 clients, values 0..2, random overlapping intervals and outcomes. */
const randomHistory = (p: Prng): Op[] => {
  const ops: Op[] = []
  const count = 1 + p.int(7)
  let t = 0
  for (let i = 0; i < count; i++) {
    t += p.int(3)
    const call = t
    const ret = call + 1 + p.int(6)
    const kind = p.int(3)
    const v = p.int(3)
    const roll = p.next()
    const status: OpOutput["status"] = roll < 0.15 ? "info" : roll < 0.3 && kind === 2 ? "fail" : "ok"
    const input: OpInput =
      kind === 0
        ? { f: "read", value: null }
        : kind === 1
          ? { f: "write", value: v }
          : { f: "cas", value: [p.int(3), v] }
    if (kind === 0 && status === "info") continue // unknown reads carry no information
    const output: OpOutput = { status, value: kind === 0 ? (p.bool(0.2) ? null : p.int(3)) : null }
    ops.push({ client: i, input, output, call, return: status === "info" ? Number.POSITIVE_INFINITY : ret })
  }
  return ops
}

describe("checker vs exhaustive search", () => {
  it("agrees on 20,000 random small register histories", () => {
    const p = new Prng("bruteforce")
    let yes = 0
    let no = 0
    for (let i = 0; i < 20_000; i++) {
      const ops = randomHistory(p)
      const expected = bruteForce(ops)
      const got = checkOperations(casRegisterModel, ops).verdict
      assert.equal(got, expected ? "linearizable" : "not-linearizable", JSON.stringify(ops))
      if (expected) yes++
      else no++
    }
    assert.ok(yes > 2000 && no > 2000, `both verdicts exercised (${yes} / ${no})`)
  })
})
