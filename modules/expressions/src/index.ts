/** @partita/expressions — DynamoDB's expression language and item operations. */
export {}
