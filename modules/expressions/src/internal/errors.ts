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
  readonly item?: import("@partita/core").Item | undefined
}> {}

/** Throws a ValidationException; internal helpers throw and the public face converts to values. */
export const invalid = (message: string): never => {
  throw new ValidationException({ message })
}
