/**
 * @partita/core — DynamoDB's data model shared by every Partita module.
 *
 * This file is the public face; the machinery lives in `src/internal/`.
 */
export * from "./AttributeValue.ts"
