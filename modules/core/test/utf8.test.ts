import assert from "node:assert/strict"
import { describe, it } from "node:test"
import fc from "fast-check"
import { isWellFormed, isWellFormedLoop, utf8Length } from "../src/internal/utf8.ts"

const runs = Number(process.env.PARTITA_RUNS ?? 1000)
const encoder = new TextEncoder()
/** Any UTF-16 text, lone surrogates included, short and long (the long ones take the runtime's path). */
const texts = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "binary", minLength: 30, maxLength: 400 }),
  fc.string({ unit: "grapheme-ascii", minLength: 30, maxLength: 2000 }),
  fc
    .tuple(
      fc.string({ unit: "grapheme-ascii", minLength: 40, maxLength: 200 }),
      fc.integer({ min: 0xd800, max: 0xdfff }),
    )
    .map(([s, u]) => s + String.fromCharCode(u) + s),
)

/** Lone surrogates make `encodeURIComponent` throw: an independent check of well-formedness. */
const wellFormedByUri = (s: string): boolean => {
  try {
    encodeURIComponent(s)
    return true
  } catch {
    return false
  }
}

describe("utf8", () => {
  it("utf8Length is the length of the UTF-8 encoding (lone surrogates as U+FFFD) (property)", () => {
    fc.assert(
      fc.property(texts, (s) => {
        assert.equal(utf8Length(s), encoder.encode(s).length)
      }),
      { numRuns: runs },
    )
  })

  it("isWellFormed agrees with the loop and with encodeURIComponent (property)", () => {
    fc.assert(
      fc.property(texts, (s) => {
        const want = wellFormedByUri(s)
        assert.equal(isWellFormed(s), want)
        assert.equal(isWellFormedLoop(s), want)
      }),
      { numRuns: runs },
    )
  })

  it("counts the examples by hand", () => {
    assert.equal(utf8Length("x".repeat(100)), 100)
    assert.equal(utf8Length("é".repeat(100)), 200)
    assert.equal(utf8Length(`${"x".repeat(40)}\ud83d\ude00`), 44)
    assert.equal(utf8Length(`${"x".repeat(40)}\ud83d`), 43)
    assert.equal(isWellFormed(`${"x".repeat(40)}\ude00`), false)
  })
})
