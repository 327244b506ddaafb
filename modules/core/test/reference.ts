/**
 * Reference implementations of DynamoDB's key order, written independently of the module (regex
 * parsing, BigInt arithmetic, TextEncoder), used as oracles by the property tests.
 */
import type { AttributeValue } from "@partita/core"
import fc from "fast-check"

const utf8 = new TextEncoder()

/** Unsigned lexicographic byte order. */
export const compareBytes = (a: Uint8Array, b: Uint8Array): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

/** DynamoDB's string order: UTF-8 bytes, unsigned. */
export const compareUtf8 = (a: string, b: string): number => compareBytes(utf8.encode(a), utf8.encode(b))

const SCALE = 300n
const NUM = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/

/** A number's exact value × 10^300 as a BigInt (every DynamoDB number becomes an integer). */
export const numberValue = (text: string): bigint => {
  const m = NUM.exec(text)
  if (m === null) throw new Error(`not a number: ${text}`)
  const int = m[2] ?? ""
  const frac = m[3] ?? ""
  const mantissa = BigInt((int + frac).replace(/^0+/, "") || "0")
  const shift = SCALE + BigInt(m[4] ?? "0") - BigInt(frac.length)
  const v = shift >= 0n ? mantissa * 10n ** shift : mantissa / 10n ** -shift
  return m[1] === "-" ? -v : v
}

/** DynamoDB's number order. */
export const compareNumberText = (a: string, b: string): number => {
  const x = numberValue(a)
  const y = numberValue(b)
  return x < y ? -1 : x > y ? 1 : 0
}

/** DynamoDB's order of two key scalars of one type. */
export const referenceCompare = (a: AttributeValue, b: AttributeValue): number => {
  if ("S" in a && "S" in b) return compareUtf8(a.S, b.S)
  if ("N" in a && "N" in b) return compareNumberText(a.N, b.N)
  if ("B" in a && "B" in b) return compareBytes(a.B, b.B)
  throw new Error("type mismatch")
}

export const sign = (x: number): number => (x < 0 ? -1 : x > 0 ? 1 : 0)

// Strings weighted toward the code points where UTF-16 and UTF-8 orders differ, and U+0000.
const tricky = fc.constantFrom(
  "\u0000",
  "\u0001",
  "a",
  "z",
  "\u007f",
  "\u0080",
  "\u07ff",
  "\u0800",
  "\ud7ff",
  "\ue000",
  "\uf8ff",
  "\uffff",
  "\u{10000}",
  "\u{1f600}",
  "\u{10ffff}",
)
/** Well-formed strings (no lone surrogates), biased toward boundary code points. */
export const keyString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.array(tricky, { maxLength: 6 }).map((a) => a.join("")),
  fc.string({ unit: "binary-ascii", maxLength: 8 }),
)

/** Binaries biased toward 0x00 and 0xFF. */
export const keyBinary = fc.oneof(
  fc.uint8Array({ maxLength: 12 }),
  fc.array(fc.constantFrom(0, 1, 0x7f, 0x80, 0xfe, 0xff), { maxLength: 6 }).map((a) => Uint8Array.from(a)),
)

/** Number texts in many notations across DynamoDB's whole range (1–38 digits, exponent −130…125). */
export const keyNumber: fc.Arbitrary<string> = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom("0", "-0", "0.000", "0e5", "+0") },
  {
    weight: 6,
    arbitrary: fc
      .record({
        negative: fc.boolean(),
        digits: fc.oneof(
          fc.stringMatching(/^[1-9][0-9]{0,37}$/),
          fc.constantFrom("1", "9", "10000001", "99999999999999999999999999999999999999"),
        ),
        exponent: fc.oneof(fc.integer({ min: -130, max: 125 }), fc.integer({ min: -3, max: 3 })),
        style: fc.constantFrom("sci", "plain", "padded"),
      })
      .map(({ negative, digits, exponent, style }) => {
        const d = digits.replace(/0+$/, "") || "1"
        const sign = negative ? "-" : ""
        if (style === "sci") return `${sign}${d[0]}${d.length > 1 ? "." + d.slice(1) : ""}E${exponent}`
        // plain: place the point so the first digit sits at 10^exponent
        const text = plain(d, exponent)
        return style === "padded" ? `${sign}00${text}${text.includes(".") ? "00" : ""}` : `${sign}${text}`
      }),
  },
)

const plain = (d: string, e: number): string => {
  if (e >= d.length - 1) return d + "0".repeat(e - d.length + 1)
  if (e < 0) return "0." + "0".repeat(-e - 1) + d
  return d.slice(0, e + 1) + "." + d.slice(e + 1)
}

/** A key scalar of the given type. */
export const keyValueOf = (type: "S" | "N" | "B"): fc.Arbitrary<AttributeValue> =>
  type === "S"
    ? keyString.map((S) => ({ S }))
    : type === "N"
      ? keyNumber.map((N) => ({ N }))
      : keyBinary.map((B) => ({ B }))
