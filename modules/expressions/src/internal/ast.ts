/**
 * Syntax trees of DynamoDB expressions, before placeholder substitution. Plain data (no
 * positions), so two parses of equivalent text are deeply equal.
 */

/**
 * A document path: attribute names (plain, or `#placeholder` text starting with "#") and list
 * indexes (numbers). `a.#b[2]` is `["a", "#b", 2]`.
 */
export type PathAst = ReadonlyArray<string | number>

/** An operand: a document path, a `:value` placeholder, or a function call. */
export type OperandAst =
  | { readonly k: "path"; readonly path: PathAst }
  | { readonly k: "value"; readonly name: string }
  | {
      readonly k: "call"
      readonly fn: "size" | "if_not_exists" | "list_append"
      readonly args: ReadonlyArray<OperandAst>
    }

/** Comparators of condition expressions. */
export type Comparator = "=" | "<>" | "<" | "<=" | ">" | ">="

/** Boolean functions of condition expressions. */
export type ConditionFunction =
  | "attribute_exists"
  | "attribute_not_exists"
  | "attribute_type"
  | "begins_with"
  | "contains"

/** A condition (ConditionExpression, FilterExpression, KeyConditionExpression). */
export type ConditionAst =
  | { readonly k: "cmp"; readonly op: Comparator; readonly l: OperandAst; readonly r: OperandAst }
  | { readonly k: "between"; readonly v: OperandAst; readonly lo: OperandAst; readonly hi: OperandAst }
  | { readonly k: "in"; readonly v: OperandAst; readonly list: ReadonlyArray<OperandAst> }
  | { readonly k: "fn"; readonly fn: ConditionFunction; readonly args: ReadonlyArray<OperandAst> }
  | { readonly k: "and" | "or"; readonly l: ConditionAst; readonly r: ConditionAst }
  | { readonly k: "not"; readonly c: ConditionAst }

/** The right-hand side of a SET action: an operand, or two operands joined by + or −. */
export type SetValueAst =
  | OperandAst
  | { readonly k: "arith"; readonly op: "+" | "-"; readonly l: OperandAst; readonly r: OperandAst }

/** One update action. */
export type UpdateActionAst =
  | { readonly k: "SET"; readonly path: PathAst; readonly value: SetValueAst }
  | { readonly k: "REMOVE"; readonly path: PathAst }
  | { readonly k: "ADD" | "DELETE"; readonly path: PathAst; readonly value: string }

/** Clause keywords of an update expression. */
export type UpdateClauseKind = "SET" | "REMOVE" | "ADD" | "DELETE"

/** An update expression: its clauses in written order, each with its actions. */
export interface UpdateAst {
  readonly clauses: ReadonlyArray<{
    readonly kind: UpdateClauseKind
    readonly actions: ReadonlyArray<UpdateActionAst>
  }>
}

/** A projection expression: the listed paths. */
export type ProjectionAst = ReadonlyArray<PathAst>

/** A parsed expression with the placeholders it uses. */
export interface Parsed<A> {
  readonly ast: A
  /** `#name` placeholders used, in first-use order. */
  readonly names: ReadonlyArray<string>
  /** `:value` placeholders used, in first-use order. */
  readonly values: ReadonlyArray<string>
}
