/**
 * Hand-written tokenizer and recursive-descent parser for DynamoDB's expression language.
 * Linear in the input: one pass to tokenize, one pass over tokens, bounded recursion. Errors are
 * ValidationExceptions naming the expression, the offending token, its position and what was
 * expected, in the style of DynamoDB's messages.
 */
import type {
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
} from "./ast.ts"
import { invalid } from "./errors.ts"
import { reservedWords } from "./reserved.ts"

/** Longest expression DynamoDB accepts, in bytes (4 KB). */
export const expressionBytesMax = 4096
/** Most operators and functions in one expression. */
export const expressionOperatorsMax = 300
/** Most operands of one IN. */
export const inOperandsMax = 100
/** Deepest document path (nesting levels). */
export const pathDepthMax = 32
/** Deepest nesting of parentheses and NOT (bounds the recursion). */
export const expressionNestingMax = 256

const enum T {
  Name,
  Hash,
  Colon,
  Int,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Dot,
  Op, // = <> < <= > >=
  Plus,
  Minus,
  Eof,
}

interface Token {
  readonly t: T
  readonly text: string
  /** Upper-cased text of a name (keywords and reserved words are case-insensitive). */
  readonly upper: string
  readonly pos: number
}

const isNameStart = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95
const isNameChar = (c: number): boolean => isNameStart(c) || (c >= 48 && c <= 57)

/** Splits an expression into tokens; throws a ValidationException on a character outside the language. */
const tokenize = (src: string, what: string): Token[] => {
  const out: Token[] = []
  const n = src.length
  let i = 0
  while (i < n) {
    const c = src.charCodeAt(i)
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      i++
      continue
    }
    const start = i
    if (isNameStart(c)) {
      i++
      while (i < n && isNameChar(src.charCodeAt(i))) i++
      const text = src.slice(start, i)
      out.push({ t: T.Name, text, upper: text.toUpperCase(), pos: start })
      continue
    }
    if (c === 35 || c === 58) {
      i++
      while (i < n && isNameChar(src.charCodeAt(i))) i++
      if (i === start + 1) syntaxAt(what, src, src[start]!, start, "a placeholder name after it")
      const text = src.slice(start, i)
      out.push({ t: c === 35 ? T.Hash : T.Colon, text, upper: text, pos: start })
      continue
    }
    if (c >= 48 && c <= 57) {
      while (i < n && src.charCodeAt(i) >= 48 && src.charCodeAt(i) <= 57) i++
      const text = src.slice(start, i)
      out.push({ t: T.Int, text, upper: text, pos: start })
      continue
    }
    i++
    let t: T
    let text = src[start]!
    switch (c) {
      case 40:
        t = T.LParen
        break
      case 41:
        t = T.RParen
        break
      case 91:
        t = T.LBracket
        break
      case 93:
        t = T.RBracket
        break
      case 44:
        t = T.Comma
        break
      case 46:
        t = T.Dot
        break
      case 43:
        t = T.Plus
        break
      case 45:
        t = T.Minus
        break
      case 61:
        t = T.Op
        break
      case 60: {
        t = T.Op
        const d = src.charCodeAt(i)
        if (d === 62 || d === 61) {
          i++
          text = src.slice(start, i)
        }
        break
      }
      case 62: {
        t = T.Op
        if (src.charCodeAt(i) === 61) {
          i++
          text = ">="
        }
        break
      }
      default:
        return syntaxAt(what, src, String.fromCodePoint(src.codePointAt(start)!), start, "a valid character")
    }
    out.push({ t, text, upper: text, pos: start })
  }
  out.push({ t: T.Eof, text: "<EOF>", upper: "<EOF>", pos: n })
  return out
}

const syntaxAt = (what: string, src: string, token: string, pos: number, expected: string): never => {
  const near = src.slice(Math.max(0, pos - 12), Math.min(src.length, pos + token.length + 12))
  return invalid(
    `Invalid ${what}: Syntax error; token: "${token}", near: "${near}", position: ${pos}, expected: ${expected}`,
  )
}

const GRAMMAR_KEYWORDS = new Set(["AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE"])
const CONDITION_FUNCTIONS = new Set<string>([
  "attribute_exists",
  "attribute_not_exists",
  "attribute_type",
  "begins_with",
  "contains",
])
const UPDATE_FUNCTIONS = new Set<string>(["if_not_exists", "list_append"])
const ARITY: Record<string, number> = {
  attribute_exists: 1,
  attribute_not_exists: 1,
  attribute_type: 2,
  begins_with: 2,
  contains: 2,
  size: 1,
  if_not_exists: 2,
  list_append: 2,
}

type Mode = "condition" | "update" | "projection"

/** Rejects an expression parameter that is not text (requests come from outside). */
export const requireText = (src: unknown, what: string): string =>
  typeof src === "string" ? src : invalid(`Invalid ${what}: the expression must be a string`)

class Parser {
  private i = 0
  private operators = 0
  private nesting = 0
  private readonly names: string[] = []
  private readonly values: string[] = []
  /** Placeholders seen so far (a Set keeps first-use bookkeeping linear). */
  private readonly seen = new Set<string>()
  /** The last condition parsed inside parentheses (identity tells `((x))` apart from `(x) AND y`). */
  private lastParenthesized: ConditionAst | undefined = undefined
  private readonly toks: Token[]

  constructor(
    private readonly src: string,
    private readonly what: string,
    private readonly mode: Mode,
  ) {
    requireText(src, what)
    if (src.length > expressionBytesMax) {
      invalid(
        `Invalid ${what}: Expression size has exceeded the maximum allowed size; expression size: ${src.length}`,
      )
    }
    this.toks = tokenize(src, what)
    if (this.toks.length === 1) invalid(`Invalid ${what}: The expression can not be empty;`)
  }

  private peek(): Token {
    return this.toks[this.i]!
  }

  private next(): Token {
    const t = this.toks[this.i]!
    if (t.t !== T.Eof) this.i++
    return t
  }

  private fail(expected: string, tok: Token = this.peek()): never {
    return syntaxAt(this.what, this.src, tok.text, tok.pos, expected)
  }

  private expect(t: T, expected: string): Token {
    const tok = this.peek()
    if (tok.t !== t) this.fail(expected)
    return this.next()
  }

  private isKeyword(word: string): boolean {
    const tok = this.peek()
    return tok.t === T.Name && tok.upper === word
  }

  private useValue(name: string): void {
    if (!this.seen.has(name)) {
      this.seen.add(name)
      this.values.push(name)
    }
  }

  private countOperator(): void {
    if (++this.operators > expressionOperatorsMax) {
      invalid(
        `Invalid ${this.what}: The expression contains too many operators; operator count: ${this.operators}`,
      )
    }
  }

  private enter(): void {
    if (++this.nesting > expressionNestingMax) {
      invalid(
        `Invalid ${this.what}: The expression has too many nested levels; nesting levels: ${this.nesting}`,
      )
    }
  }

  private done<A>(ast: A): Parsed<A> {
    if (this.peek().t !== T.Eof) this.fail("end of expression")
    return { ast, names: this.names, values: this.values }
  }

  // ---- paths and operands ----

  private pathElement(): string {
    const tok = this.peek()
    if (tok.t === T.Hash) {
      this.next()
      if (!this.seen.has(tok.text)) {
        this.seen.add(tok.text)
        this.names.push(tok.text)
      }
      return tok.text
    }
    if (tok.t === T.Name) {
      const upper = tok.upper
      if (GRAMMAR_KEYWORDS.has(upper)) this.fail("an attribute name")
      if (reservedWords.has(upper)) {
        invalid(`Invalid ${this.what}: Attribute name is a reserved keyword; reserved keyword: ${tok.text}`)
      }
      this.next()
      return tok.text
    }
    return this.fail("an attribute name or #name")
  }

  private path(): PathAst {
    const out: (string | number)[] = [this.pathElement()]
    for (;;) {
      const tok = this.peek()
      if (tok.t === T.Dot) {
        this.next()
        out.push(this.pathElement())
      } else if (tok.t === T.LBracket) {
        this.next()
        const n = this.expect(T.Int, "a list index")
        if (n.text.length > 9) {
          invalid(`Invalid ${this.what}: List index is out of range; index: ${n.text}`)
        }
        out.push(Number(n.text))
        this.expect(T.RBracket, '"]"')
      } else break
      if (out.length > pathDepthMax) {
        invalid(
          `Invalid ${this.what}: The document path has too many nesting levels; nesting levels: ${out.length}`,
        )
      }
    }
    return out
  }

  private operand(): OperandAst {
    const tok = this.peek()
    if (tok.t === T.Name && GRAMMAR_KEYWORDS.has(tok.upper)) this.fail("an operand")
    if (tok.t === T.Colon) {
      this.next()
      this.useValue(tok.text)
      return { k: "value", name: tok.text }
    }
    if (tok.t === T.Name && this.toks[this.i + 1]!.t === T.LParen) return this.call()
    if (tok.t === T.Name || tok.t === T.Hash) return { k: "path", path: this.path() }
    return this.fail("an operand")
  }

  private call(): OperandAst {
    const fnTok = this.next()
    const fn = fnTok.text
    const allowed = this.mode === "update" ? UPDATE_FUNCTIONS.has(fn) : fn === "size"
    if (!allowed) {
      if (CONDITION_FUNCTIONS.has(fn) || UPDATE_FUNCTIONS.has(fn) || fn === "size") {
        invalid(
          `Invalid ${this.what}: The function is not allowed to be used this way in an expression; function: ${fn}`,
        )
      }
      invalid(`Invalid ${this.what}: Invalid function name; function: ${fn}`)
    }
    const args = this.args(fn)
    this.checkPathArg(fn, args)
    return { k: "call", fn: fn as "size" | "if_not_exists" | "list_append", args }
  }

  private args(fn: string): OperandAst[] {
    this.countOperator()
    this.enter()
    this.expect(T.LParen, '"("')
    const args: OperandAst[] = [this.operand()]
    while (this.peek().t === T.Comma) {
      this.next()
      args.push(this.operand())
    }
    this.expect(T.RParen, '")" or ","')
    this.nesting--
    if (args.length !== ARITY[fn]) {
      invalid(
        `Invalid ${this.what}: Incorrect number of operands for operator or function; operator or function: ${fn}, number of operands: ${args.length}`,
      )
    }
    return args
  }

  private checkPathArg(fn: string, args: ReadonlyArray<OperandAst>): void {
    if (fn !== "list_append" && args[0]!.k !== "path") {
      invalid(
        `Invalid ${this.what}: Operator or function requires a document path; operator or function: ${fn}`,
      )
    }
  }

  // ---- conditions ----

  condition(): Parsed<ConditionAst> {
    return this.done(this.or())
  }

  private or(): ConditionAst {
    let l = this.and()
    while (this.isKeyword("OR")) {
      this.next()
      this.countOperator()
      l = { k: "or", l, r: this.and() }
    }
    return l
  }

  private and(): ConditionAst {
    let l = this.not()
    while (this.isKeyword("AND")) {
      this.next()
      this.countOperator()
      l = { k: "and", l, r: this.not() }
    }
    return l
  }

  private not(): ConditionAst {
    if (this.isKeyword("NOT")) {
      this.next()
      this.countOperator()
      this.enter()
      const c = this.not()
      this.nesting--
      return { k: "not", c }
    }
    return this.primary()
  }

  private primary(): ConditionAst {
    const tok = this.peek()
    if (tok.t === T.LParen) {
      this.next()
      this.enter()
      const inner = this.or()
      this.nesting--
      this.expect(T.RParen, '")"')
      // Operators build new nodes, so `inner` is the last parenthesized node only for `((x))`.
      if (this.lastParenthesized === inner)
        invalid(`Invalid ${this.what}: The expression has redundant parentheses;`)
      this.lastParenthesized = inner
      return inner
    }
    if (tok.t === T.Name && this.toks[this.i + 1]!.t === T.LParen && CONDITION_FUNCTIONS.has(tok.text)) {
      this.next()
      const fn = tok.text as ConditionFunction
      const args = this.args(fn)
      this.checkPathArg(fn, args)
      if (fn === "attribute_type" && args[1]!.k !== "value") {
        invalid(
          `Invalid ${this.what}: Incorrect operand type for operator or function; operator or function: attribute_type, operand type: PATH`,
        )
      }
      return { k: "fn", fn, args }
    }
    const v = this.operand()
    const op = this.peek()
    if (op.t === T.Op) {
      this.next()
      this.countOperator()
      return { k: "cmp", op: op.text as Comparator, l: v, r: this.operand() }
    }
    if (this.isKeyword("BETWEEN")) {
      this.next()
      this.countOperator()
      const lo = this.operand()
      if (!this.isKeyword("AND")) this.fail('"AND" of BETWEEN')
      this.next()
      return { k: "between", v, lo, hi: this.operand() }
    }
    if (this.isKeyword("IN")) {
      this.next()
      this.countOperator()
      this.expect(T.LParen, '"(" after IN')
      const list: OperandAst[] = [this.operand()]
      while (this.peek().t === T.Comma) {
        this.next()
        list.push(this.operand())
        if (list.length > inOperandsMax) {
          invalid(
            `Invalid ${this.what}: The IN operator is provided with too many operands; number of operands: ${list.length}`,
          )
        }
      }
      this.expect(T.RParen, '")" or ","')
      return { k: "in", v, list }
    }
    return this.fail("a comparator, BETWEEN or IN")
  }

  // ---- updates ----

  update(): Parsed<UpdateAst> {
    const clauses: { kind: UpdateClauseKind; actions: UpdateActionAst[] }[] = []
    const seen = new Set<string>()
    do {
      const tok = this.peek()
      const kind = tok.t === T.Name ? tok.upper : ""
      if (kind !== "SET" && kind !== "REMOVE" && kind !== "ADD" && kind !== "DELETE") {
        this.fail("SET, REMOVE, ADD or DELETE")
      }
      if (seen.has(kind)) {
        invalid(`Invalid ${this.what}: The "${kind}" section can only be used once in an update expression;`)
      }
      seen.add(kind)
      this.next()
      const actions: UpdateActionAst[] = [this.action(kind as UpdateClauseKind)]
      while (this.peek().t === T.Comma) {
        this.next()
        actions.push(this.action(kind as UpdateClauseKind))
      }
      clauses.push({ kind: kind as UpdateClauseKind, actions })
    } while (this.peek().t !== T.Eof)
    return this.done({ clauses })
  }

  private action(kind: UpdateClauseKind): UpdateActionAst {
    const path = this.path()
    if (kind === "REMOVE") return { k: "REMOVE", path }
    if (kind === "SET") {
      const eq = this.peek()
      if (eq.t !== T.Op || eq.text !== "=") this.fail('"="')
      this.next()
      const l = this.operand()
      const op = this.peek()
      if (op.t === T.Plus || op.t === T.Minus) {
        this.next()
        this.countOperator()
        const value: SetValueAst = { k: "arith", op: op.t === T.Plus ? "+" : "-", l, r: this.operand() }
        return { k: "SET", path, value }
      }
      return { k: "SET", path, value: l }
    }
    const v = this.peek()
    if (v.t !== T.Colon) this.fail(`a :value for ${kind}`)
    this.next()
    this.useValue(v.text)
    return { k: kind, path, value: v.text }
  }

  // ---- projections ----

  projection(): Parsed<ProjectionAst> {
    const paths: PathAst[] = [this.path()]
    while (this.peek().t === T.Comma) {
      this.next()
      paths.push(this.path())
    }
    return this.done(paths)
  }
}

/** Parses a condition-style expression; `what` names it in errors (e.g. "ConditionExpression"). */
export const parseConditionText = (src: string, what = "ConditionExpression"): Parsed<ConditionAst> =>
  new Parser(src, what, "condition").condition()

/** Parses an update expression. */
export const parseUpdateText = (src: string): Parsed<UpdateAst> =>
  new Parser(src, "UpdateExpression", "update").update()

/** Parses a projection expression. */
export const parseProjectionText = (src: string): Parsed<ProjectionAst> =>
  new Parser(src, "ProjectionExpression", "projection").projection()
