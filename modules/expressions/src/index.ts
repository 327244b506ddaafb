/**
 * @partita/expressions — DynamoDB's expression language and item operations.
 *
 * - Parse, print and evaluate condition, filter, key condition, update and projection
 *   expressions with `#name` / `:value` placeholders, with DynamoDB's validation rules.
 * - Exact decimal numbers (38 digits, no floating point) and DynamoDB's comparison order.
 * - GetItem, PutItem, DeleteItem, UpdateItem, Query and Scan as pure functions over an
 *   `ItemStore`, each reporting the bytes it consumed; writes can be planned (decided) and applied
 *   separately so a replicated store can decide on its leader and replicate the item image.
 *
 * Every fallible function returns an `Either` whose left side is a typed error
 * (`ValidationException`, `ConditionalCheckFailedException`); none throws for bad input.
 */
import type { AttributeValue, Item } from "@partita/core"
import { Either } from "effect"
import type { ConditionAst, Parsed, ProjectionAst, UpdateAst } from "./internal/ast.ts"
import { Binder, type NameMap, type Path, type ValueMap } from "./internal/bind.ts"
import { defaultExpressionCache, type ExpressionCache } from "./internal/cache.ts"
import { bindCondition } from "./internal/condition.ts"
import * as D from "./internal/decimal.ts"
import { ValidationException } from "./internal/errors.ts"
import { parseConditionText, parseProjectionText, parseUpdateText } from "./internal/parser.ts"
import { printConditionAst, printProjectionAst, printUpdateAst } from "./internal/printer.ts"
import { bindProjection, project } from "./internal/projection.ts"
import { applyUpdate, bindUpdate } from "./internal/update.ts"
import { compareScalars, equalValues, canonicalItem as validItem } from "./internal/values.ts"

/** Syntax trees of parsed expressions (plain data; `printCondition` etc. turn them back into text). */
export type {
  Comparator,
  ConditionAst,
  ConditionFunction,
  OperandAst,
  Parsed,
  PathAst,
  ProjectionAst,
  SetValueAst,
  UpdateActionAst,
  UpdateAst,
  UpdateClauseKind,
} from "./internal/ast.ts"
/** Resolved document paths and the placeholder maps of a request. */
export type { NameMap, Path, ValueMap } from "./internal/bind.ts"
/** Bounded LRU cache of parsed expressions, and the default instance. */
export { defaultExpressionCache, ExpressionCache, expressionCacheEntriesMax } from "./internal/cache.ts"
/** Typed errors with DynamoDB's names. */
export { ConditionalCheckFailedException, ValidationException } from "./internal/errors.ts"
/** Item operations over an ItemStore. */
export {
  applyWrite,
  type DeleteItemInput,
  deleteItem,
  type ExpressionParameters,
  type GetItemInput,
  type GetItemOutput,
  getItem,
  type ItemWrite,
  type OperationError,
  type OperationOptions,
  type PageOutput,
  type PutItemInput,
  pageBytesMax,
  planDeleteItem,
  planPutItem,
  planUpdateItem,
  putItem,
  type QueryInput,
  query,
  type ReturnValues,
  type ScanInput,
  type Select,
  scan,
  segmentOf,
  totalSegmentsMax,
  type UpdateItemInput,
  updateItem,
  type WriteOutput,
} from "./internal/operations.ts"
/** Limits of the expression language. */
export {
  expressionBytesMax,
  expressionNestingMax,
  expressionOperatorsMax,
  inOperandsMax,
  pathDepthMax,
} from "./internal/parser.ts"
/** Reserved words that need `#name` placeholders. */
export { isReservedWord, reservedWords } from "./internal/reserved.ts"
/** The item store interface and a sorted in-memory implementation. */
export {
  InMemoryItemStore,
  type ItemStore,
  keyOf,
  type SortKeyStart,
  type TableKeySchema,
} from "./internal/store.ts"
/** Value helpers: byte-order string comparison, limits. (Item size: `itemSize` in @partita/core.) */
export {
  compareBytes,
  compareStrings,
  itemBytesMax,
  nestingLevelsMax,
  typeOf,
  type TypeTag,
} from "./internal/values.ts"

const catchValidation = <A>(body: () => A): Either.Either<A, ValidationException> => {
  try {
    return Either.right(body())
  } catch (e) {
    if (e instanceof ValidationException) return Either.left(e)
    throw e
  }
}

/** Parses a condition expression (also filter and key condition syntax); `what` names it in errors. */
export const parseCondition = (
  text: string,
  what = "ConditionExpression",
): Either.Either<Parsed<ConditionAst>, ValidationException> =>
  catchValidation(() => parseConditionText(text, what))

/** Parses an update expression. */
export const parseUpdate = (text: string): Either.Either<Parsed<UpdateAst>, ValidationException> =>
  catchValidation(() => parseUpdateText(text))

/** Parses a projection expression. */
export const parseProjection = (text: string): Either.Either<Parsed<ProjectionAst>, ValidationException> =>
  catchValidation(() => parseProjectionText(text))

/** Prints a condition tree; parsing the text gives the same tree. */
export const printCondition = (ast: ConditionAst): string => printConditionAst(ast)
/** Prints an update tree; parsing the text gives the same tree. */
export const printUpdate = (ast: UpdateAst): string => printUpdateAst(ast)
/** Prints a projection; parsing the text gives the same list. */
export const printProjection = (ast: ProjectionAst): string => printProjectionAst(ast)

/** Placeholders for a standalone expression. */
export interface Placeholders {
  readonly names?: NameMap | undefined
  readonly values?: ValueMap | undefined
}

/** A condition bound to its placeholders: a fast predicate over items. */
export type CompiledCondition = (item: Item) => boolean

/**
 * Parses (through the cache) and binds a condition, checking that every name and value is defined
 * and used. The returned predicate allocates nothing on common paths; bind once, evaluate often.
 */
export const compileCondition = (
  text: string,
  placeholders: Placeholders = {},
  cache: ExpressionCache = defaultExpressionCache,
): Either.Either<CompiledCondition, ValidationException> =>
  catchValidation(() => {
    const b = new Binder(placeholders.names, placeholders.values)
    const p = bindCondition(cache.condition(text).ast, b, "ConditionExpression")
    b.checkUnused()
    return p
  })

/** Evaluates a condition against an item (a missing item is `{}`). */
export const evaluateCondition = (
  text: string,
  item: Item,
  placeholders: Placeholders = {},
  cache: ExpressionCache = defaultExpressionCache,
): Either.Either<boolean, ValidationException> =>
  Either.map(compileCondition(text, placeholders, cache), (p) => p(item))

/** An update expression bound to its placeholders. */
export interface CompiledUpdate {
  /** Paths the update writes. */
  readonly paths: ReadonlyArray<Path>
  /** Applies the update to an item (never mutates it); fails with run-time validation errors. */
  readonly apply: (item: Item) => Either.Either<Item, ValidationException>
}

/** Parses (through the cache) and binds an update expression. */
export const compileUpdate = (
  text: string,
  placeholders: Placeholders = {},
  cache: ExpressionCache = defaultExpressionCache,
): Either.Either<CompiledUpdate, ValidationException> =>
  catchValidation(() => {
    const b = new Binder(placeholders.names, placeholders.values)
    const u = bindUpdate(cache.update(text).ast, b)
    b.checkUnused()
    return { paths: u.paths, apply: (item: Item) => catchValidation(() => applyUpdate(u, item)) }
  })

/** Applies an update expression to an item, returning the new item. */
export const applyUpdateExpression = (
  text: string,
  item: Item,
  placeholders: Placeholders = {},
  cache: ExpressionCache = defaultExpressionCache,
): Either.Either<Item, ValidationException> =>
  Either.flatMap(compileUpdate(text, placeholders, cache), (u) => u.apply(item))

/** The parts of an item named by a projection expression. */
export const projectItem = (
  text: string,
  item: Item,
  names?: NameMap,
  cache: ExpressionCache = defaultExpressionCache,
): Either.Either<Item, ValidationException> =>
  catchValidation(() => {
    const b = new Binder(names, undefined)
    const paths = bindProjection(cache.projection(text).ast, b)
    b.checkUnused()
    return project(item, paths)
  })

/** Validates a client item (types, numbers, sets) and returns it with canonical number text. */
export const validateItem = (item: Item): Either.Either<Item, ValidationException> =>
  catchValidation(() => validItem(item))

/** Canonical text of a DynamoDB number ("1.50" → "1.5", "1e2" → "100"), or a ValidationException. */
export const canonicalNumber = (text: string): Either.Either<string, ValidationException> =>
  catchValidation(() => D.canonicalNumber(text))

/** Exact a + b of two DynamoDB numbers; ValidationException on overflow, underflow or > 38 digits. */
export const addNumbers = (a: string, b: string): Either.Either<string, ValidationException> =>
  catchValidation(() => D.addNumberText(a, b))

/** Exact a − b of two DynamoDB numbers. */
export const subtractNumbers = (a: string, b: string): Either.Either<string, ValidationException> =>
  catchValidation(() => D.subtractNumberText(a, b))

/** Sign of a − b for two DynamoDB numbers. */
export const compareNumbers = (a: string, b: string): Either.Either<number, ValidationException> =>
  catchValidation(() => D.compareNumberText(a, b))

/** DynamoDB equality of two values (sets unordered, numbers by value). */
export const valuesEqual = (a: AttributeValue, b: AttributeValue): boolean => equalValues(a, b)

/**
 * DynamoDB ordering of two scalars of one type (N by value, S and B by unsigned bytes); NaN when
 * the types differ or are not ordered (such comparisons are false in expressions).
 */
export const compareValues = (a: AttributeValue, b: AttributeValue): number => compareScalars(a, b)
