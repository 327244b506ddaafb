/**
 * Fuzz: at least 100,000 random and mutated expression strings (PARTITA_FUZZ to change). Every
 * one must come back as a result or a typed ValidationException — never an exception, never a
 * hang — and parsing is linear, so even 4 KB inputs stay far below a few milliseconds each.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { runFuzz } from "../bench/fuzz.ts"

const cases = Number(process.env.PARTITA_FUZZ ?? "100000")

describe("fuzz", () => {
  it(`${cases} random and mutated expressions return a result or a ValidationException`, () => {
    const r = runFuzz(cases)
    assert.equal(r.cases, cases)
    assert.deepEqual(r.untyped.slice(0, 5), [], `${r.untyped.length} inputs escaped as untyped errors`)
    // Some inputs must get through the whole path, or the fuzz would only exercise the tokenizer.
    assert.ok(r.evaluated > cases / 20, `only ${r.evaluated} inputs evaluated`)
    // The slowest inputs, re-timed to strip scheduler noise on a shared machine, take < 5 ms.
    assert.ok(
      r.slowestRetimedMs < 5,
      `slowest input takes ${r.slowestRetimedMs.toFixed(2)} ms: ${r.slowestRetimedText.slice(0, 80)}`,
    )
    console.log(
      `fuzz: ${r.cases} inputs, ${r.evaluated} evaluated, ${r.totalMs.toFixed(0)} ms; slowest ${r.slowestMs.toFixed(2)} ms once, ${r.slowestRetimedMs.toFixed(3)} ms re-timed`,
    )
  })
})
