/**
 * A table's primary key: a partition key and an optional sort key, each of type S, N or B; the
 * extraction and validation of an item's key as DynamoDB does it.
 */
import { Either } from "effect"
import type { AttributeValue, EncodedKey, Item, KeyType } from "./AttributeValue.ts"
import { ValidationException } from "./Errors.ts"
import { parseDecimal } from "./internal/decimal.ts"
import { encodeScalar } from "./internal/keycodec.ts"
import { isWellFormed, utf8Length } from "./internal/utf8.ts"

/** Largest partition key value: 2048 bytes. */
export const MAX_PARTITION_KEY_BYTES = 2048
/** Largest sort key value: 1024 bytes. */
export const MAX_SORT_KEY_BYTES = 1024

/** One key attribute: its name and scalar type. */
export interface KeyAttribute {
  readonly name: string
  readonly type: KeyType
}

/** A table's primary key: the partition (HASH) key and the optional sort (RANGE) key. */
export interface KeySchema {
  readonly partitionKey: KeyAttribute
  readonly sortKey?: KeyAttribute | undefined
}

/** Builds a key schema: `makeKeySchema("pk", "S")` or `makeKeySchema("pk", "S", "sk", "N")`. */
export const makeKeySchema = (
  partitionName: string,
  partitionType: KeyType,
  sortName?: string,
  sortType?: KeyType,
): KeySchema =>
  sortName === undefined
    ? { partitionKey: { name: partitionName, type: partitionType } }
    : {
        partitionKey: { name: partitionName, type: partitionType },
        sortKey: { name: sortName, type: sortType ?? "S" },
      }

const invalid = (message: string): ValidationException =>
  new ValidationException({ message: `One or more parameter values were invalid: ${message}` })

const tagOf = (v: unknown): string =>
  typeof v === "object" && v !== null ? Object.keys(v).join(",") || "nothing" : typeof v

/** True when the object has exactly one own enumerable key (no array allocated). */
const hasOneKey = (v: object): boolean => {
  let n = 0
  for (const _ in v) if (++n > 1) return false
  return n === 1
}

/**
 * Checks one key attribute of `item`: present, of the declared type, non-empty, within the size
 * limit. Returns the value, or the error.
 */
const checkKeyAttribute = (
  item: Item,
  attr: KeyAttribute,
  maxBytes: number,
  role: "partition" | "sort",
): AttributeValue | ValidationException => {
  const v = item[attr.name] as unknown
  if (v === undefined) return invalid(`Missing the key ${attr.name} in the item`)
  if (typeof v !== "object" || v === null)
    return invalid(`Type mismatch for key ${attr.name}: expected ${attr.type}, got ${tagOf(v)}`)
  let size: number
  switch (attr.type) {
    case "S": {
      const s = (v as { S?: unknown }).S
      if (typeof s !== "string" || !hasOneKey(v))
        return invalid(`Type mismatch for key ${attr.name}: expected S, got ${tagOf(v)}`)
      if (s.length === 0)
        return invalid(
          `The AttributeValue for a key attribute cannot contain an empty string value. Key: ${attr.name}`,
        )
      if (!isWellFormed(s)) return invalid(`Key ${attr.name} holds a string with a lone surrogate`)
      size = utf8Length(s)
      break
    }
    case "B": {
      const b = (v as { B?: unknown }).B
      if (!(b instanceof Uint8Array) || !hasOneKey(v))
        return invalid(`Type mismatch for key ${attr.name}: expected B, got ${tagOf(v)}`)
      if (b.length === 0)
        return invalid(
          `The AttributeValue for a key attribute cannot contain an empty binary value. Key: ${attr.name}`,
        )
      size = b.length
      break
    }
    case "N": {
      const n = (v as { N?: unknown }).N
      if (typeof n !== "string" || !hasOneKey(v))
        return invalid(`Type mismatch for key ${attr.name}: expected N, got ${tagOf(v)}`)
      const d = parseDecimal(n)
      if (typeof d === "string") return invalid(`Key ${attr.name}: ${d}`)
      size = 0 // at most 21 bytes: always within both limits
      break
    }
  }
  if (size > maxBytes)
    return invalid(
      `Size of the ${role} key ${attr.name} is ${size} bytes; it must be at most ${maxBytes} bytes`,
    )
  return v as AttributeValue
}

/**
 * The key of `item` under `schema` (a map holding only the key attributes), or a ValidationException
 * naming the key attribute that is missing, of the wrong type, empty, or too large.
 */
export const keyOf = (item: Item, schema: KeySchema): Either.Either<Item, ValidationException> => {
  const pk = checkKeyAttribute(item, schema.partitionKey, MAX_PARTITION_KEY_BYTES, "partition")
  if (pk instanceof ValidationException) return Either.left(pk)
  const sa = schema.sortKey
  if (sa === undefined) return Either.right({ [schema.partitionKey.name]: pk })
  const sk = checkKeyAttribute(item, sa, MAX_SORT_KEY_BYTES, "sort")
  if (sk instanceof ValidationException) return Either.left(sk)
  return Either.right({ [schema.partitionKey.name]: pk, [sa.name]: sk })
}

/**
 * Like {@link keyOf} for a `Key` request parameter: it must hold exactly the key attributes
 * ("The provided key element does not match the schema" otherwise).
 */
export const validateKey = (key: Item, schema: KeySchema): Either.Either<Item, ValidationException> => {
  const expected = schema.sortKey === undefined ? 1 : 2
  let count = 0
  for (const name in key) {
    if (name !== schema.partitionKey.name && name !== schema.sortKey?.name)
      return Either.left(
        invalid(`The provided key element does not match the schema: ${name} is not a key attribute`),
      )
    count++
  }
  if (count !== expected) {
    const missing =
      key[schema.partitionKey.name] === undefined ? schema.partitionKey.name : schema.sortKey?.name
    return Either.left(invalid(`The provided key element does not match the schema: missing ${missing}`))
  }
  return keyOf(key, schema)
}

/**
 * The order-preserving encoding of `item`'s primary key (see `encodeKey`), validated like
 * {@link keyOf} but without building the key map.
 */
export const encodedKeyOf = (
  item: Item,
  schema: KeySchema,
): Either.Either<EncodedKey, ValidationException> => {
  const pk = checkKeyAttribute(item, schema.partitionKey, MAX_PARTITION_KEY_BYTES, "partition")
  if (pk instanceof ValidationException) return Either.left(pk)
  const sa = schema.sortKey
  if (sa === undefined) return Either.right(encodeScalar(pk, true))
  const sk = checkKeyAttribute(item, sa, MAX_SORT_KEY_BYTES, "sort")
  if (sk instanceof ValidationException) return Either.left(sk)
  return Either.right(encodeScalar(pk, true) + encodeScalar(sk, false))
}
