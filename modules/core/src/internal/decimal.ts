/**
 * Exact decimal numbers as DynamoDB keeps them: a sign, up to 38 significant digits and a decimal
 * exponent. Parsing is one pass over the text (no regex, no float), so it is cheap on hot paths.
 */

/** Most significant digits a DynamoDB number may have. */
export const NUMBER_DIGITS_MAX = 38
/** Largest exponent (scientific notation, d.ddd × 10^e) of a non-zero DynamoDB number. */
export const NUMBER_EXPONENT_MAX = 125
/** Smallest exponent of a non-zero DynamoDB number (1E-130). */
export const NUMBER_EXPONENT_MIN = -130

/**
 * A parsed number: value = (negative ? -1 : 1) × 0.d1d2…dn × 10^(exponent + 1), i.e. the first digit of
 * `digits` sits at 10^exponent. `digits` has no leading or trailing zeros; it is "" for zero (then
 * `negative` is false and `exponent` is 0).
 */
export interface Decimal {
  readonly negative: boolean
  readonly digits: string
  readonly exponent: number
}

/** The zero decimal. */
export const ZERO: Decimal = { negative: false, digits: "", exponent: 0 }

const show = (text: string): string => JSON.stringify(text.length > 60 ? text.slice(0, 57) + "..." : text)

// Exponent texts longer than this are out of range whatever the mantissa (avoids float overflow).
const EXPONENT_CHARS_MAX = 9

/**
 * Parses DynamoDB number text: an optional sign, digits with an optional point (at least one digit),
 * and an optional exponent (`e`/`E`, optional sign, digits). Returns the decimal, or a message
 * saying what is wrong (not a number, more than 38 significant digits, overflow, underflow).
 */
export const parseDecimal = (text: string): Decimal | string => {
  const n = text.length
  let i = 0
  let negative = false
  let c = n > 0 ? text.charCodeAt(0) : -1
  if (c === 45 /* - */ || c === 43 /* + */) {
    negative = c === 45
    i = 1
  }
  // Mantissa: [intStart, intEnd) digits, optional '.', [fracStart, fracEnd) digits.
  const intStart = i
  while (i < n && (c = text.charCodeAt(i)) >= 48 && c <= 57) i++
  const intEnd = i
  let fracStart = i
  let fracEnd = i
  if (i < n && text.charCodeAt(i) === 46 /* . */) {
    i++
    fracStart = i
    while (i < n && (c = text.charCodeAt(i)) >= 48 && c <= 57) i++
    fracEnd = i
  }
  if (intEnd === intStart && fracEnd === fracStart)
    return `${show(text)} cannot be converted to a numeric value`
  let exp = 0
  if (i < n) {
    c = text.charCodeAt(i)
    if (c !== 101 && c !== 69) return `${show(text)} cannot be converted to a numeric value`
    i++
    let expNegative = false
    if (i < n && ((c = text.charCodeAt(i)) === 45 || c === 43)) {
      expNegative = c === 45
      i++
    }
    const expStart = i
    while (i < n && (c = text.charCodeAt(i)) >= 48 && c <= 57) i++
    if (i === expStart || i !== n) return `${show(text)} cannot be converted to a numeric value`
    let s = expStart
    while (s < i - 1 && text.charCodeAt(s) === 48) s++
    if (i - s > EXPONENT_CHARS_MAX) exp = expNegative ? -1e10 : 1e10
    else {
      for (let k = s; k < i; k++) exp = exp * 10 + (text.charCodeAt(k) - 48)
      if (expNegative) exp = -exp
    }
  }
  // First and last non-zero digit over the concatenated mantissa (int digits then frac digits),
  // as positions in that concatenation.
  const intLen = intEnd - intStart
  const total = intLen + (fracEnd - fracStart)
  let first = 0
  while (first < intLen && text.charCodeAt(intStart + first) === 48) first++
  if (first === intLen) while (first < total && text.charCodeAt(fracStart + first - intLen) === 48) first++
  if (first === total) return ZERO
  let last = total - 1
  while (last >= intLen && text.charCodeAt(fracStart + last - intLen) === 48) last--
  if (last < intLen) while (text.charCodeAt(intStart + last) === 48) last--
  const count = last - first + 1
  if (count > NUMBER_DIGITS_MAX)
    return `${show(text)} has ${count} significant digits; DynamoDB keeps at most ${NUMBER_DIGITS_MAX}`
  const exponent = intLen - first - 1 + exp
  if (exponent > NUMBER_EXPONENT_MAX)
    return `${show(text)} is out of range (number overflow): a number's magnitude must be at most 9.9999999999999999999999999999999999999E+125`
  if (exponent < NUMBER_EXPONENT_MIN)
    return `${show(text)} is out of range (number underflow): a non-zero number's magnitude must be at least 1E-130`
  let digits: string
  if (last < intLen) digits = text.slice(intStart + first, intStart + last + 1)
  else if (first >= intLen) digits = text.slice(fracStart + first - intLen, fracStart + last + 1 - intLen)
  else digits = text.slice(intStart + first, intEnd) + text.slice(fracStart, fracStart + last + 1 - intLen)
  return { negative, digits, exponent }
}

/** Canonical text of a decimal: plain notation, no exponent, no superfluous zeros, no "+", "0" for zero. */
export const formatDecimal = (d: Decimal): string => {
  const { digits, exponent } = d
  if (digits.length === 0) return "0"
  const n = digits.length
  let body: string
  if (exponent >= n - 1) body = exponent === n - 1 ? digits : digits + "0".repeat(exponent - n + 1)
  else if (exponent < 0) body = "0." + "0".repeat(-exponent - 1) + digits
  else body = digits.slice(0, exponent + 1) + "." + digits.slice(exponent + 1)
  return d.negative ? "-" + body : body
}

/** Numeric comparison of two decimals: negative, zero or positive like `a - b`. */
export const compareDecimals = (a: Decimal, b: Decimal): number => {
  const sa = a.digits.length === 0 ? 0 : a.negative ? -1 : 1
  const sb = b.digits.length === 0 ? 0 : b.negative ? -1 : 1
  if (sa !== sb) return sa - sb
  if (sa === 0) return 0
  let m: number
  if (a.exponent !== b.exponent) m = a.exponent - b.exponent
  else m = a.digits < b.digits ? -1 : a.digits > b.digits ? 1 : 0 // same exponent: digit strings compare as decimals
  return sa < 0 ? -m : m
}

/**
 * Storage size of a number as DynamoDB counts it: one byte of exponent, one byte per pair of digits
 * aligned on the decimal point (base 100), one more byte for a negative number; zero is one byte.
 * This refines the documented "1 byte per two significant digits, plus 1 byte".
 */
export const decimalSizeBytes = (d: Decimal): number => {
  const n = d.digits.length
  if (n === 0) return 1
  // The first digit sits at 10^e; with e even it starts a fresh base-100 pair alone.
  const pairs = (n + 1) >> 1
  const extra = (n & 1) === 0 && (d.exponent & 1) === 0 ? 1 : 0
  return 1 + pairs + extra + (d.negative ? 1 : 0)
}
