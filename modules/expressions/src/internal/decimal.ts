/**
 * Exact decimal numbers as DynamoDB stores them: up to 38 significant digits, magnitude between
 * 1E-130 and 9.99…9E+125 (or zero). No floating point anywhere: a number is a signed integer
 * coefficient times a power of ten, and the text form is canonical plain decimal ("0.3", "-12",
 * "100"), so that equal numbers have equal text.
 */
import { invalid } from "./errors.ts"

/** Most significant digits a DynamoDB number may carry. */
export const numberDigitsMax = 38
/** Largest decimal exponent of the leading digit (9.99…E+125). */
export const numberExponentMax = 125
/** Smallest decimal exponent of the leading digit (1E-130). */
export const numberExponentMin = -130
/** Longest number text accepted before parsing (guards the parser against absurd input). */
export const numberTextCharsMax = 512

/** A parsed number: value = (neg ? -1 : 1) * coef * 10^exp, coef without trailing zeros. */
export interface Decimal {
  readonly neg: boolean
  readonly coef: bigint
  readonly exp: number
}

const ZERO: Decimal = { neg: false, coef: 0n, exp: 0 }
const NUMBER_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/

/** Parses number text (DynamoDB accepts sign, fraction and exponent); throws ValidationException. */
export const parseDecimal = (text: string): Decimal => {
  if (text.length > numberTextCharsMax)
    invalid(`The parameter cannot be converted to a numeric value: ${text}`)
  const m = NUMBER_RE.exec(text)
  const intPart = m?.[2] ?? ""
  const fracPart = m?.[3] ?? ""
  if (m === null || intPart.length + fracPart.length === 0) {
    return invalid(`The parameter cannot be converted to a numeric value: ${text}`)
  }
  let digits = intPart + fracPart
  let exp = -fracPart.length
  const expText = m[4]
  // Strip leading zeros (they carry no value) and trailing zeros (move them into the exponent).
  let lead = 0
  while (lead < digits.length && digits.charCodeAt(lead) === 48) lead++
  if (lead === digits.length) return ZERO
  let end = digits.length
  while (digits.charCodeAt(end - 1) === 48) end--
  exp += digits.length - end
  digits = digits.slice(lead, end)
  if (expText !== undefined) {
    // An exponent with more than 6 digits can only be out of range (the coefficient is ≤ 512 chars).
    const e = expText.replace(/^[+-]?0*/, "")
    const negE = expText.charCodeAt(0) === 45
    if (e.length > 6) return negE ? underflow() : overflow()
    exp += negE ? -Number(e) : Number(e)
  }
  return checked(m[1] === "-", digits, exp)
}

const overflow = (): never =>
  invalid("Number overflow. Attempting to store a number with magnitude larger than supported range")
const underflow = (): never =>
  invalid("Number underflow. Attempting to store a number with magnitude smaller than supported range")

/** Builds a Decimal from normalised digits (no leading/trailing zeros), enforcing DynamoDB's limits. */
const checked = (neg: boolean, digits: string, exp: number): Decimal => {
  // Range before precision: a sum past the largest number reports overflow, as DynamoDB does.
  const adjusted = exp + digits.length - 1
  if (adjusted > numberExponentMax) overflow()
  if (adjusted < numberExponentMin) underflow()
  if (digits.length > numberDigitsMax)
    invalid("Attempting to store more than 38 significant digits in a Number")
  return { neg, coef: BigInt(digits), exp }
}

/** Normalises a signed coefficient and exponent into a checked Decimal. */
const fromParts = (signed: bigint, exp: number): Decimal => {
  if (signed === 0n) return ZERO
  const neg = signed < 0n
  const text = (neg ? -signed : signed).toString()
  let end = text.length
  while (text.charCodeAt(end - 1) === 48) end--
  return checked(neg, text.slice(0, end), exp + (text.length - end))
}

const signedCoef = (d: Decimal): bigint => (d.neg ? -d.coef : d.coef)

/** a + b, exact; throws ValidationException when the result leaves DynamoDB's range or precision. */
export const addDecimal = (a: Decimal, b: Decimal): Decimal => {
  if (a.coef === 0n) return b
  if (b.coef === 0n) return a
  const e = Math.min(a.exp, b.exp)
  const sa = signedCoef(a) * 10n ** BigInt(a.exp - e)
  const sb = signedCoef(b) * 10n ** BigInt(b.exp - e)
  return fromParts(sa + sb, e)
}

/** a − b, exact. */
export const subtractDecimal = (a: Decimal, b: Decimal): Decimal =>
  addDecimal(a, b.coef === 0n ? b : { neg: !b.neg, coef: b.coef, exp: b.exp })

/** Sign of a − b: −1, 0 or 1. */
export const compareDecimal = (a: Decimal, b: Decimal): number => {
  if (a.coef === 0n) return b.coef === 0n ? 0 : b.neg ? 1 : -1
  if (b.coef === 0n) return a.neg ? -1 : 1
  if (a.neg !== b.neg) return a.neg ? -1 : 1
  const mag = compareMagnitude(a, b)
  return a.neg ? -mag : mag
}

const compareMagnitude = (a: Decimal, b: Decimal): number => {
  const da = a.coef.toString()
  const db = b.coef.toString()
  const aa = a.exp + da.length
  const ab = b.exp + db.length
  if (aa !== ab) return aa < ab ? -1 : 1
  // Same leading exponent: compare digit strings left-aligned (no trailing zeros on either).
  return da < db ? -1 : da > db ? 1 : 0
}

/** Canonical plain-decimal text of a Decimal ("-0.05", "1200", "0"). */
export const formatDecimal = (d: Decimal): string => {
  if (d.coef === 0n) return "0"
  const digits = d.coef.toString()
  let body: string
  if (d.exp >= 0) body = digits + "0".repeat(d.exp)
  else {
    const point = digits.length + d.exp
    body = point > 0 ? `${digits.slice(0, point)}.${digits.slice(point)}` : `0.${"0".repeat(-point)}${digits}`
  }
  return d.neg ? `-${body}` : body
}

/** Canonical text for any DynamoDB number text; throws ValidationException when invalid. */
export const canonicalNumber = (text: string): string =>
  isCanonicalNumber(text) ? text : formatDecimal(parseDecimal(text))

/**
 * True when `text` is already in canonical form: optional "-", integer part without leading zeros
 * ("0" when below one), optional fraction without trailing zeros, within DynamoDB's limits.
 * Allocation-free, so comparisons of stored numbers stay cheap.
 */
export const isCanonicalNumber = (text: string): boolean => {
  const n = text.length
  let i = 0
  if (n === 0) return false
  if (text.charCodeAt(0) === 45) i = 1
  const intStart = i
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c < 48 || c > 57) break
    i++
  }
  const intLen = i - intStart
  if (intLen === 0) return false
  const zeroInt = intLen === 1 && text.charCodeAt(intStart) === 48
  if (intLen > 1 && text.charCodeAt(intStart) === 48) return false
  let sig = zeroInt ? 0 : intLen
  let fracLeadZeros = 0
  if (i < n) {
    if (text.charCodeAt(i) !== 46) return false
    i++
    const fracStart = i
    while (i < n) {
      const c = text.charCodeAt(i)
      if (c < 48 || c > 57) return false
      i++
    }
    if (i === fracStart || text.charCodeAt(n - 1) === 48) return false
    if (zeroInt) {
      let j = fracStart
      while (text.charCodeAt(j) === 48) j++
      fracLeadZeros = j - fracStart
      sig = n - j
    } else sig += n - fracStart
  } else if (zeroInt) return intStart === 0 // "0" is canonical, "-0" is not
  // Trailing zeros of the integer part are not significant digits.
  if (!zeroInt && i === n && text.indexOf(".") < 0) {
    let j = n
    while (text.charCodeAt(j - 1) === 48) j--
    sig = j - intStart
  }
  if (sig > numberDigitsMax) return false
  const adjusted = zeroInt ? -(fracLeadZeros + 1) : intLen - 1
  return adjusted <= numberExponentMax && adjusted >= numberExponentMin
}

/**
 * Compares two canonical number texts without allocating: sign, then integer-part length, then
 * the text itself (left-aligned digits with no trailing fraction zeros compare like the values).
 */
export const compareCanonical = (a: string, b: string): number => {
  if (a === b) return 0
  const na = a.charCodeAt(0) === 45
  const nb = b.charCodeAt(0) === 45
  const za = a === "0"
  const zb = b === "0"
  if (za) return nb ? 1 : -1
  if (zb) return na ? -1 : 1
  if (na !== nb) return na ? -1 : 1
  const ia = intLength(a, na ? 1 : 0)
  const ib = intLength(b, nb ? 1 : 0)
  // "0.x" has integer length 1 but is below every number with a nonzero integer part.
  const la = ia === 1 && a.charCodeAt(na ? 1 : 0) === 48 ? 0 : ia
  const lb = ib === 1 && b.charCodeAt(nb ? 1 : 0) === 48 ? 0 : ib
  let mag: number
  if (la !== lb) mag = la < lb ? -1 : 1
  else mag = a < b ? -1 : 1 // signs equal and prefixes aligned: plain text order is value order
  return na ? -mag : mag
}

const intLength = (s: string, start: number): number => {
  const dot = s.indexOf(".", start)
  return (dot < 0 ? s.length : dot) - start
}

/** Compares two DynamoDB number texts by value (canonical fast path, exact slow path). */
export const compareNumberText = (a: string, b: string): number => {
  if (isCanonicalNumber(a) && isCanonicalNumber(b)) return compareCanonical(a, b)
  return compareDecimal(parseDecimal(a), parseDecimal(b))
}

/** Longest canonical integer text (digits) whose sums stay exact as JS safe integers. */
const smallIntegerDigitsMax = 15

/**
 * True for a canonical integer of at most 15 digits ("0", "-42"). Sums and differences of two such
 * integers are below 2^53 in magnitude, so integer arithmetic on them is exact (no rounding ever
 * happens: this is a fast path for counters, not floating point).
 */
const isSmallInteger = (s: string): boolean => {
  const n = s.length
  const start = s.charCodeAt(0) === 45 ? 1 : 0
  if (n === start || n - start > smallIntegerDigitsMax) return false
  if (s.charCodeAt(start) === 48) return n === 1 // "0" only; "-0" and "007" are not canonical
  for (let i = start; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c < 48 || c > 57) return false
  }
  return true
}

/** Adds two DynamoDB number texts exactly, returning canonical text. */
export const addNumberText = (a: string, b: string): string =>
  isSmallInteger(a) && isSmallInteger(b)
    ? String(Number(a) + Number(b))
    : formatDecimal(addDecimal(parseDecimal(a), parseDecimal(b)))

/** Subtracts two DynamoDB number texts exactly, returning canonical text. */
export const subtractNumberText = (a: string, b: string): string =>
  isSmallInteger(a) && isSmallInteger(b)
    ? String(Number(a) - Number(b))
    : formatDecimal(subtractDecimal(parseDecimal(a), parseDecimal(b)))
