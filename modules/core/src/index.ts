/**
 * @partita/core — DynamoDB's data model shared by every Partita module: attribute values and items
 * (types, Effect Schemas, a fast validator), item size, key schemas, the order-preserving key
 * encoding, and DynamoDB's typed errors; and `IdRing`, `ChurnMap` and `FifoCache`, the tables of in-flight
 * requests that the request path uses instead of a plain `Map`.
 *
 * This file is the public face; the machinery lives in `src/internal/`.
 */
export * from "./AttributeValue.ts"
export * from "./Capacity.ts"
export * from "./ChurnMap.ts"
export * from "./Errors.ts"
export * from "./FifoCache.ts"
export * from "./IdRing.ts"
export * from "./ItemSize.ts"
export * from "./KeyEncoding.ts"
export * from "./KeySchema.ts"
export * from "./Number.ts"
export * from "./Schema.ts"
export * from "./Validation.ts"
