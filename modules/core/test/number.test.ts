import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { compareNumbers, isValidNumber, MAX_NUMBER_TEXT, normalizeNumber, numberProblem } from "@partita/core"
import { Either } from "effect"
import fc from "fast-check"
import { compareNumberText, keyNumber, numberValue, sign } from "./reference.ts"

const norm = (t: string): string => Either.getOrThrow(normalizeNumber(t))

describe("normalizeNumber", () => {
  it("gives the canonical plain text", () => {
    const cases: Array<[string, string]> = [
      ["0", "0"],
      ["-0", "0"],
      ["+0.000e7", "0"],
      ["007", "7"],
      ["-12.3400", "-12.34"],
      ["1.50E2", "150"],
      ["1e-3", "0.001"],
      [".5", "0.5"],
      ["5.", "5"],
      ["+7", "7"],
      ["123.456e1", "1234.56"],
      ["1E-130", `0.${"0".repeat(129)}1`],
      [MAX_NUMBER_TEXT, `${"9".repeat(38)}${"0".repeat(88)}`],
    ]
    for (const [input, expected] of cases) assert.equal(norm(input), expected, input)
  })

  it("keeps the exact value (no float rounding) for every valid number", () => {
    fc.assert(
      fc.property(keyNumber, (t) => {
        const c = norm(t)
        assert.equal(numberValue(c), numberValue(t))
        assert.equal(norm(c), c, "canonical text is a fixed point")
      }),
      { numRuns: 2000 },
    )
    assert.equal(norm("12345678901234567890123456789012345678"), "12345678901234567890123456789012345678")
  })

  it("accepts the range limits and rejects just beyond them", () => {
    assert.ok(isValidNumber("1E-130"))
    assert.ok(isValidNumber("-1E-130"))
    assert.ok(isValidNumber(MAX_NUMBER_TEXT))
    assert.ok(isValidNumber("-" + MAX_NUMBER_TEXT))
    assert.ok(isValidNumber("0.00000e-999")) // zero has no magnitude limit
    assert.match(numberProblem("1E126") ?? "", /overflow/)
    assert.match(numberProblem("-1E126") ?? "", /overflow/)
    assert.match(numberProblem("9.9E-131") ?? "", /underflow/)
    assert.match(numberProblem("1e99999999999999") ?? "", /overflow/)
  })

  it("counts significant digits without leading or trailing zeros (38 ok, 39 rejected)", () => {
    assert.ok(isValidNumber("0.000" + "1".repeat(38) + "000"))
    assert.match(numberProblem("1".repeat(39)) ?? "", /has 39 significant digits; DynamoDB keeps at most 38/)
    assert.match(numberProblem("1." + "0".repeat(37) + "1") ?? "", /39 significant digits/)
  })

  it("rejects text that is not a number, with a message naming it", () => {
    for (const bad of [
      "",
      "abc",
      "1.2.3",
      "1e",
      "e5",
      "--1",
      " 1",
      "1 ",
      "0x10",
      "Infinity",
      "NaN",
      ".",
      "-",
      "1e+",
    ]) {
      const r = normalizeNumber(bad)
      assert.ok(Either.isLeft(r), bad)
      assert.match(r.left.message, /cannot be converted to a numeric value/)
      assert.equal(r.left._tag, "ValidationException")
    }
  })
})

describe("compareNumbers", () => {
  it("agrees with exact BigInt arithmetic", () => {
    fc.assert(
      fc.property(keyNumber, keyNumber, (a, b) => {
        assert.equal(sign(compareNumbers(a, b)), compareNumberText(a, b))
      }),
      { numRuns: 2000 },
    )
  })
})
