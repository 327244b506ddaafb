/**
 * Effect Schemas for DynamoDB's data model, for decoding outside input. They apply the same checks as
 * `validateItem` (and the 400 KB limit for items), normalize numbers to canonical text on decode, and
 * fail with one clear message naming the path and the problem, e.g.
 * `item.tags: an SS set must not be empty`.
 *
 * `ItemFromDynamoJson` / `fromDynamoJson` read DynamoDB's wire JSON, where binaries are base64 text.
 */
import { Either, ParseResult, Schema } from "effect"
import type { AttributeValue, Item } from "./AttributeValue.ts"
import { ValidationException } from "./Errors.ts"
import { MAX_ITEM_SIZE_BYTES } from "./ItemSize.ts"
import { fromBase64, toBase64 } from "./internal/utf8.ts"
import { checkItem, checkValue, NESTING_LEVELS_MAX, Problem, renderPath } from "./internal/validate.ts"
import { type KeySchema, keyOf } from "./KeySchema.ts"
import { normalizeAttributeValue, normalizeItem } from "./Validation.ts"

/** An attribute value in DynamoDB's wire JSON: like {@link AttributeValue} with binaries as base64 text. */
export type DynamoJsonAttributeValue =
  | { readonly S: string }
  | { readonly N: string }
  | { readonly B: string }
  | { readonly BOOL: boolean }
  | { readonly NULL: true }
  | { readonly M: { readonly [name: string]: DynamoJsonAttributeValue } }
  | { readonly L: ReadonlyArray<DynamoJsonAttributeValue> }
  | { readonly SS: ReadonlyArray<string> }
  | { readonly NS: ReadonlyArray<string> }
  | { readonly BS: ReadonlyArray<string> }

/** An item in DynamoDB's wire JSON. */
export type DynamoJsonItem = { readonly [name: string]: DynamoJsonAttributeValue }

const message = (root: string, p: Problem): string => `${renderPath(root, p.path)}: ${p.message}`

const checkedValue = (u: unknown): string | undefined => {
  const r = checkValue(u, 1)
  return typeof r === "number" ? undefined : message("value", r)
}

const checkedItem = (u: unknown): string | undefined => {
  const r = checkItem(u)
  if (typeof r !== "number") return message("item", r)
  return r > MAX_ITEM_SIZE_BYTES
    ? `item: size ${r} bytes exceeds the maximum allowed item size of ${MAX_ITEM_SIZE_BYTES} bytes (400 KB)`
    : undefined
}

/**
 * Schema of one attribute value (binaries as `Uint8Array`). Decoding validates and normalizes numbers;
 * encoding validates.
 */
export const AttributeValueSchema: Schema.Schema<AttributeValue> = Schema.declare(
  [],
  {
    decode: () => (input, _options, ast) => {
      const m = checkedValue(input)
      return m === undefined
        ? ParseResult.succeed(normalizeAttributeValue(input as AttributeValue))
        : ParseResult.fail(new ParseResult.Type(ast, input, m))
    },
    encode: () => (input, _options, ast) => {
      const m = checkedValue(input)
      return m === undefined
        ? ParseResult.succeed(input as AttributeValue)
        : ParseResult.fail(new ParseResult.Type(ast, input, m))
    },
  },
  { identifier: "AttributeValue", description: "a DynamoDB attribute value" },
)

/** Schema of an item (binaries as `Uint8Array`), including the 400 KB size limit. Decoding normalizes numbers. */
export const ItemSchema: Schema.Schema<Item> = Schema.declare(
  [],
  {
    decode: () => (input, _options, ast) => {
      const m = checkedItem(input)
      return m === undefined
        ? ParseResult.succeed(normalizeItem(input as Item))
        : ParseResult.fail(new ParseResult.Type(ast, input, m))
    },
    encode: () => (input, _options, ast) => {
      const m = checkedItem(input)
      return m === undefined
        ? ParseResult.succeed(input as Item)
        : ParseResult.fail(new ParseResult.Type(ast, input, m))
    },
  },
  { identifier: "Item", description: "a DynamoDB item" },
)

/**
 * Schema of an item stored in a table with key schema `keySchema`: {@link ItemSchema}'s checks plus the
 * key attributes (present, of the declared type, not empty, within 2048 / 1024 bytes).
 */
export const itemSchemaFor = (keySchema: KeySchema): Schema.Schema<Item> =>
  Schema.declare(
    [],
    {
      decode: () => (input, _options, ast) => {
        const m = checkedItem(input)
        if (m !== undefined) return ParseResult.fail(new ParseResult.Type(ast, input, m))
        const key = keyOf(input as Item, keySchema)
        return Either.isLeft(key)
          ? ParseResult.fail(new ParseResult.Type(ast, input, key.left.message))
          : ParseResult.succeed(normalizeItem(input as Item))
      },
      encode: () => (input, _options, ast) => {
        const m =
          checkedItem(input) ??
          Either.match(keyOf(input as Item, keySchema), {
            onLeft: (e) => e.message,
            onRight: () => undefined,
          })
        return m === undefined
          ? ParseResult.succeed(input as Item)
          : ParseResult.fail(new ParseResult.Type(ast, input, m))
      },
    },
    { identifier: "TableItem", description: "a DynamoDB item with the table's key attributes" },
  )

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u) && !(u instanceof Uint8Array)

/** Turns base64 text into bytes for every B and BS in a wire-JSON value; other problems are left to validation. */
const fromJsonValue = (u: unknown, level: number): unknown => {
  if (!isRecord(u) || level > NESTING_LEVELS_MAX) return u
  if ("B" in u) {
    const b = u.B
    if (typeof b !== "string") return u
    const bytes = fromBase64(b)
    if (bytes === undefined) throw new Problem("B must hold base64 text (standard alphabet, padded)")
    return { B: bytes }
  }
  if ("BS" in u) {
    const bs = u.BS
    if (!Array.isArray(bs)) return u
    return {
      BS: bs.map((e, i) => {
        if (typeof e !== "string") return e
        const bytes = fromBase64(e)
        if (bytes === undefined) {
          const p = new Problem("BS elements must be base64 text (standard alphabet, padded)")
          p.path.push(i)
          throw p
        }
        return bytes
      }),
    }
  }
  if ("M" in u && isRecord(u.M)) return { ...u, M: fromJsonMap(u.M, level + 1) }
  if ("L" in u && Array.isArray(u.L))
    return {
      ...u,
      L: u.L.map((e, i) => {
        try {
          return fromJsonValue(e, level + 1)
        } catch (p) {
          if (p instanceof Problem) p.path.push(i)
          throw p
        }
      }),
    }
  return u
}

/** Sets an own property, even for the name "__proto__" (which plain assignment would not). */
const setOwn = <V>(o: Record<string, V>, name: string, v: V): void => {
  if (name === "__proto__")
    Object.defineProperty(o, name, { value: v, enumerable: true, writable: true, configurable: true })
  else o[name] = v
}

const fromJsonMap = (m: Record<string, unknown>, level: number): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const name in m) {
    try {
      setOwn(out, name, fromJsonValue(m[name], level))
    } catch (p) {
      if (p instanceof Problem) p.path.push(name)
      throw p
    }
  }
  return out
}

const toJsonValue = (v: AttributeValue): DynamoJsonAttributeValue => {
  if ("B" in v) return { B: toBase64(v.B) }
  if ("BS" in v) return { BS: v.BS.map(toBase64) }
  if ("M" in v) return { M: toDynamoJson(v.M) }
  if ("L" in v) return { L: v.L.map(toJsonValue) }
  return v as DynamoJsonAttributeValue
}

/** Converts an item to DynamoDB's wire JSON (binaries as base64). */
export const toDynamoJson = (item: Item): DynamoJsonItem => {
  const out: Record<string, DynamoJsonAttributeValue> = {}
  for (const name in item) setOwn(out, name, toJsonValue(item[name]!))
  return out
}

/**
 * Decodes an item from DynamoDB's wire JSON (e.g. the `Item` of a PutItem request): base64 binaries
 * become bytes, everything is validated as {@link ItemSchema} does, numbers are normalized.
 */
export const fromDynamoJson = (json: unknown): Either.Either<Item, ValidationException> => {
  let converted: unknown
  try {
    converted = isRecord(json) ? fromJsonMap(json, 1) : json
  } catch (p) {
    if (p instanceof Problem)
      return Either.left(new ValidationException({ message: `Invalid item: ${message("item", p)}` }))
    throw p
  }
  const m = checkedItem(converted)
  return m === undefined
    ? Either.right(normalizeItem(converted as Item))
    : Either.left(new ValidationException({ message: `Invalid item: ${m}` }))
}

/** Decodes one attribute value from DynamoDB's wire JSON. */
export const attributeValueFromDynamoJson = (
  json: unknown,
): Either.Either<AttributeValue, ValidationException> => {
  let converted: unknown
  try {
    converted = fromJsonValue(json, 1)
  } catch (p) {
    if (p instanceof Problem)
      return Either.left(
        new ValidationException({ message: `Invalid attribute value: ${message("value", p)}` }),
      )
    throw p
  }
  const m = checkedValue(converted)
  return m === undefined
    ? Either.right(normalizeAttributeValue(converted as AttributeValue))
    : Either.left(new ValidationException({ message: `Invalid attribute value: ${m}` }))
}

/** Schema from DynamoDB's wire JSON item (binaries as base64 text) to an {@link Item}. */
export const ItemFromDynamoJson: Schema.Schema<Item, DynamoJsonItem> = Schema.declare(
  [],
  {
    decode: () => (input, _options, ast) =>
      Either.match(fromDynamoJson(input), {
        onLeft: (e) =>
          ParseResult.fail(new ParseResult.Type(ast, input, e.message.replace(/^Invalid item: /, ""))),
        onRight: (item) => ParseResult.succeed(item),
      }),
    encode: () => (input, _options, ast) => {
      const m = checkedItem(input)
      return m === undefined
        ? ParseResult.succeed(toDynamoJson(input as Item))
        : ParseResult.fail(new ParseResult.Type(ast, input, m))
    },
  },
  { identifier: "ItemFromDynamoJson", description: "a DynamoDB item in wire JSON" },
)

/** Schema of a key schema: attribute names 1–255 characters, types S/N/B, distinct names. */
export const KeySchemaSchema = Schema.Struct({
  partitionKey: Schema.Struct({
    name: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(255)),
    type: Schema.Literal("S", "N", "B"),
  }),
  sortKey: Schema.optional(
    Schema.Struct({
      name: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(255)),
      type: Schema.Literal("S", "N", "B"),
    }),
  ),
}).pipe(
  Schema.filter((k) =>
    k.sortKey !== undefined && k.sortKey.name === k.partitionKey.name
      ? "the sort key must have a different name from the partition key"
      : undefined,
  ),
)

/** Formats a Schema decoding failure as a ValidationException (for `Schema.decodeUnknownEither` users). */
export const parseErrorToValidation = (e: ParseResult.ParseError): ValidationException =>
  new ValidationException({ message: ParseResult.TreeFormatter.formatErrorSync(e) })
