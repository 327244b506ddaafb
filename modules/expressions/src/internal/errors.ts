import { ValidationException } from "@partita/core"

/** DynamoDB's typed errors come from @partita/core (same classes everywhere in Partita). */
export { ConditionalCheckFailedException, ValidationException } from "@partita/core"

/**
 * Throws a ValidationException. Internal helpers throw (cheap on the hot path, no Either per
 * step); every public function catches these at its boundary and returns them as values.
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
