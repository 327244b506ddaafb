/** Prints syntax trees back to expression text; parsing the output gives the same tree. */
import type {
  ConditionAst,
  OperandAst,
  PathAst,
  ProjectionAst,
  SetValueAst,
  UpdateActionAst,
  UpdateAst,
} from "./ast.ts"

/** Text of a document path (`a.#b[2]`). */
export const printPath = (path: PathAst): string => {
  let s = ""
  for (let i = 0; i < path.length; i++) {
    const e = path[i]!
    if (typeof e === "number") s += `[${e}]`
    else s += i === 0 ? e : `.${e}`
  }
  return s
}

/** Text of an operand. */
export const printOperand = (o: OperandAst): string => {
  switch (o.k) {
    case "path":
      return printPath(o.path)
    case "value":
      return o.name
    case "call":
      return `${o.fn}(${o.args.map(printOperand).join(", ")})`
  }
}

const precedence = (c: ConditionAst): number => (c.k === "or" ? 1 : c.k === "and" ? 2 : c.k === "not" ? 3 : 4)

const printAt = (c: ConditionAst, min: number): string => {
  const s = printConditionAst(c)
  return precedence(c) < min ? `(${s})` : s
}

/** Text of a condition, with parentheses only where precedence needs them. */
export const printConditionAst = (c: ConditionAst): string => {
  switch (c.k) {
    case "cmp":
      return `${printOperand(c.l)} ${c.op} ${printOperand(c.r)}`
    case "between":
      return `${printOperand(c.v)} BETWEEN ${printOperand(c.lo)} AND ${printOperand(c.hi)}`
    case "in":
      return `${printOperand(c.v)} IN (${c.list.map(printOperand).join(", ")})`
    case "fn":
      return `${c.fn}(${c.args.map(printOperand).join(", ")})`
    case "or":
      return `${printAt(c.l, 1)} OR ${printAt(c.r, 2)}`
    case "and":
      return `${printAt(c.l, 2)} AND ${printAt(c.r, 3)}`
    case "not":
      return `NOT ${printAt(c.c, 3)}`
  }
}

const printSetValue = (v: SetValueAst): string =>
  v.k === "arith" ? `${printOperand(v.l)} ${v.op} ${printOperand(v.r)}` : printOperand(v)

const printAction = (a: UpdateActionAst): string => {
  switch (a.k) {
    case "SET":
      return `${printPath(a.path)} = ${printSetValue(a.value)}`
    case "REMOVE":
      return printPath(a.path)
    default:
      return `${printPath(a.path)} ${a.value}`
  }
}

/** Text of an update expression, clauses in their original order. */
export const printUpdateAst = (u: UpdateAst): string =>
  u.clauses.map((c) => `${c.kind} ${c.actions.map(printAction).join(", ")}`).join(" ")

/** Text of a projection expression. */
export const printProjectionAst = (p: ProjectionAst): string => p.map(printPath).join(", ")
