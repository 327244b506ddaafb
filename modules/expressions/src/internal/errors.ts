import type { Item } from "@partita/core"
import { Data } from "effect"

/**
 * DynamoDB's `ValidationException`: the request is malformed (bad expression, undefined or unused
 * placeholder, wrong operand type, number out of range, ...). Nothing was changed.
 */
export class ValidationException extends Data.TaggedError("ValidationException")<{
  readonly message: string
}> {}

/** DynamoDB's `ConditionalCheckFailedException`: a condition expression evaluated to false. */
export class ConditionalCheckFailedException extends Data.TaggedError("ConditionalCheckFailedException")<{
  readonly message: string
  /** The item as it was when the condition failed (DynamoDB's ReturnValuesOnConditionCheckFailure). */
  readonly item?: Item | undefined
}> {}

/**
 * Throws a ValidationException. Internal helpers throw (cheap on the hot path, no Either per
 * step); every public function catches these at its boundary and returns them as values.
 * (Local error classes: switch to core's once they land on main; the `_tag`s are the same.)
 */
export const invalid = (message: string): never => {
  throw new ValidationException({ message })
}

/** Text of an arbitrary request value for an error message (never throws). */
export const textOf = (v: unknown): string => {
  try {
    return typeof v === "string" ? v : (JSON.stringify(v) ?? String(v))
  } catch {
    return `<${typeof v}>`
  }
}
