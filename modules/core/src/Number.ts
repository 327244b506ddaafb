/**
 * DynamoDB numbers: exact decimal text with up to 38 significant digits, magnitude between 1E-130
 * and 9.9999999999999999999999999999999999999E+125 (or zero). Never converted to a JS float.
 */
import { Either } from "effect"
import { ValidationException } from "./Errors.ts"
import {
  compareDecimals,
  formatDecimal,
  NUMBER_DIGITS_MAX,
  NUMBER_EXPONENT_MAX,
  NUMBER_EXPONENT_MIN,
  parseDecimal,
} from "./internal/decimal.ts"

/** Most significant digits a DynamoDB number may have (38). */
export const MAX_NUMBER_DIGITS = NUMBER_DIGITS_MAX
/** Largest decimal exponent of a DynamoDB number in scientific notation (125). */
export const MAX_NUMBER_EXPONENT = NUMBER_EXPONENT_MAX
/** Smallest decimal exponent of a non-zero DynamoDB number in scientific notation (-130). */
export const MIN_NUMBER_EXPONENT = NUMBER_EXPONENT_MIN
/** The largest DynamoDB number, as text. */
export const MAX_NUMBER_TEXT = "9.9999999999999999999999999999999999999E+125"
/** The smallest positive DynamoDB number, as text. */
export const MIN_POSITIVE_NUMBER_TEXT = "1E-130"

/** Why `text` is not a valid DynamoDB number, or undefined when it is one. */
export const numberProblem = (text: string): string | undefined => {
  const d = parseDecimal(text)
  return typeof d === "string" ? d : undefined
}

/** True when `text` is a valid DynamoDB number. */
export const isValidNumber = (text: string): boolean => typeof parseDecimal(text) !== "string"

/**
 * The canonical text of a DynamoDB number: plain notation without exponent, no leading zeros, no
 * trailing fractional zeros, no "+", and "0" for every zero ("-0.00" → "0", "1.50E2" → "150").
 * Fails with a ValidationException saying what is wrong when `text` is not a valid DynamoDB number.
 */
export const normalizeNumber = (text: string): Either.Either<string, ValidationException> => {
  const d = parseDecimal(text)
  return typeof d === "string"
    ? Either.left(new ValidationException({ message: `Invalid number: ${d}` }))
    : Either.right(formatDecimal(d))
}

/**
 * Numeric comparison of two valid DynamoDB numbers given as text (any notation): negative when
 * `a < b`, zero when equal, positive when `a > b`. Throws on invalid text (check inputs first).
 */
export const compareNumbers = (a: string, b: string): number => {
  const da = parseDecimal(a)
  const db = parseDecimal(b)
  if (typeof da === "string") throw new ValidationException({ message: `Invalid number: ${da}` })
  if (typeof db === "string") throw new ValidationException({ message: `Invalid number: ${db}` })
  return compareDecimals(da, db)
}
