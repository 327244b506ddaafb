/**
 * Linearizability checking with Porcupine's algorithm (see `internal/porcupine.ts`), P-compositional
 * partitioning (a model may split a history into independent parts, e.g. by key), and the register,
 * CAS-register and key-value models. Users add models by implementing `Model`.
 *
 * Verdicts are sound: "linearizable" and "not-linearizable" are only returned when the search
 * finished; an exhausted step or time budget gives "unknown".
 */
import { type HistoryEvent, type OpInput, type OpOutput, type Operation, toOperations } from "./History.ts"
import { hashNumber32, hashString32 } from "./internal/hash.ts"
import { type Budget, Illegal, searchPartition } from "./internal/porcupine.ts"

export { Illegal }

/**
 * A sequential specification. `step` returns the next state, or `Illegal` when `input` cannot produce
 * `output` in `state`. `hash` and `equal` identify states for the search's memoisation (equal states
 * must hash equally). `partition` splits a history into independently checkable parts.
 */
export interface Model<S, I = OpInput, O = OpOutput> {
  readonly name: string
  init(): S
  step(state: S, input: I, output: O): S | typeof Illegal
  equal(a: S, b: S): boolean
  hash(s: S): number
  partition?(ops: ReadonlyArray<Operation<I, O>>): ReadonlyArray<ReadonlyArray<Operation<I, O>>>
  describeOperation?(input: I, output: O): string
  describeState?(s: S): string
}

/** The three possible verdicts. */
export type Verdict = "linearizable" | "not-linearizable" | "unknown"

/** Bounds of a check. */
export interface CheckOptions {
  /** Search steps across all partitions (default 100,000,000). */
  readonly stepsMax?: number
  /** Wall-clock limit in ms (default none). The only real-time read in the checker. */
  readonly timeoutMs?: number
  /** Compute the longest linearizable prefix of a failing partition (default true). */
  readonly explain?: boolean
}

/** Result of a check. */
export interface CheckResult<I = OpInput, O = OpOutput> {
  readonly verdict: Verdict
  /** Number of partitions checked. */
  readonly partitions: number
  /** Search steps used. */
  readonly steps: number
  /** For "not-linearizable": the operations of the failing partition. */
  readonly failedPartition?: ReadonlyArray<Operation<I, O>>
  /** For "not-linearizable": the longest linearizable prefix found in it, described. */
  readonly longestPrefix?: readonly string[]
}

/** Default search step budget. */
export const DEFAULT_CHECK_STEPS_MAX = 100_000_000

const wallNow = (): number => performance.now()

/** Check operations against a model. */
export const checkOperations = <S, I, O>(
  model: Model<S, I, O>,
  ops: ReadonlyArray<Operation<I, O>>,
  opts: CheckOptions = {},
): CheckResult<I, O> => {
  const start = wallNow()
  const budget: Budget = {
    steps: 0,
    stepsMax: opts.stepsMax ?? DEFAULT_CHECK_STEPS_MAX,
    deadline: opts.timeoutMs === undefined ? Number.POSITIVE_INFINITY : start + opts.timeoutMs,
    now: wallNow,
  }
  // Smallest partitions first: a violation in a small one is found cheaply.
  const parts = [...(model.partition ? model.partition(ops) : [ops])].sort((a, b) => a.length - b.length)
  let unknown = false
  for (const part of parts) {
    if (budget.steps >= budget.stepsMax || wallNow() > budget.deadline) {
      unknown = true
      break
    }
    const r = searchPartition(model, part, budget, opts.explain ?? true)
    if (r.verdict === "illegal") {
      const describe = (i: number): string => {
        const op = part[i]!
        const d = model.describeOperation?.(op.input, op.output) ?? JSON.stringify([op.input, op.output])
        return `client ${op.client} [${op.call}, ${op.return}] ${d}`
      }
      return {
        verdict: "not-linearizable",
        partitions: parts.length,
        steps: budget.steps,
        failedPartition: part,
        longestPrefix: r.longest.map(describe),
      }
    }
    if (r.verdict === "unknown") unknown = true
  }
  return { verdict: unknown ? "unknown" : "linearizable", partitions: parts.length, steps: budget.steps }
}

/** Check a recorded history (events) against a model over `OpInput` / `OpOutput`. */
export const checkHistory = <S>(
  model: Model<S, OpInput, OpOutput>,
  events: ReadonlyArray<HistoryEvent>,
  opts: CheckOptions = {},
): CheckResult => checkOperations(model, toOperations(events), opts)

// ---------------------------------------------------------------------------------------------
// Models

/** Register values: numbers, strings or null (nil, the initial value). */
export type RegisterValue = number | string | null

const normalize = (v: unknown): RegisterValue =>
  v === undefined || v === null
    ? null
    : typeof v === "number" || typeof v === "string"
      ? v
      : JSON.stringify(v)

const hashValue = (v: RegisterValue): number =>
  v === null ? 0x6e696c : typeof v === "number" ? hashNumber32(v) : hashString32(v)

const describeOp = (i: OpInput, o: OpOutput): string =>
  `${i.f}${i.key === undefined ? "" : ` ${i.key}`} ${JSON.stringify(i.value)} -> ${o.status}${
    o.status === "ok" && o.value !== null && o.value !== undefined ? ` ${JSON.stringify(o.value)}` : ""
  }`

/**
 * CAS register starting at `null`: `read` (ok value = value read, null for nil), `write` (value),
 * `cas` (value `[expected, new]`; ok = swapped, fail = current value differed, info = unknown).
 */
export const casRegisterModel: Model<RegisterValue> = {
  name: "cas-register",
  init: () => null,
  step: (s, i, o) => {
    switch (i.f) {
      case "read":
        return o.status === "info" || normalize(o.value) === s ? s : Illegal
      case "write":
        return normalize(i.value)
      case "cas": {
        const [exp, nu] = i.value as [unknown, unknown]
        const matches = normalize(exp) === s
        if (o.status === "ok") return matches ? normalize(nu) : Illegal
        if (o.status === "fail") return matches ? Illegal : s
        return matches ? normalize(nu) : s
      }
      default:
        throw new Error(`cas-register model: unknown operation ${i.f}`)
    }
  },
  equal: (a, b) => a === b,
  hash: hashValue,
  describeOperation: describeOp,
  describeState: (s) => JSON.stringify(s),
}

/** Plain register (read / write) starting at `null`; the CAS register without `cas`. */
export const registerModel: Model<RegisterValue> = {
  ...casRegisterModel,
  name: "register",
  step: (s, i, o) => {
    if (i.f === "cas") throw new Error("register model: cas is not supported (use casRegisterModel)")
    return casRegisterModel.step(s, i, o)
  },
}

/** Group operations by their input key (P-compositionality of a map). */
export const partitionByKey = <O>(
  ops: ReadonlyArray<Operation<OpInput, O>>,
): ReadonlyArray<ReadonlyArray<Operation<OpInput, O>>> => {
  const by = new Map<string, Operation<OpInput, O>[]>()
  for (const op of ops) {
    const k = op.input.key ?? ""
    const l = by.get(k)
    if (l === undefined) by.set(k, [op])
    else l.push(op)
  }
  return [...by.values()]
}

/**
 * Key-value map of strings, partitioned by key: `get` (ok value = the string, "" for a missing key),
 * `put` (value), `append` (concatenates value onto the key's string).
 */
export const kvModel: Model<string> = {
  name: "kv",
  init: () => "",
  step: (s, i, o) => {
    switch (i.f) {
      case "get":
        return o.status === "info" || (o.value ?? "") === s ? s : Illegal
      case "put":
        return String(i.value ?? "")
      case "append":
        return s + String(i.value ?? "")
      default:
        throw new Error(`kv model: unknown operation ${i.f}`)
    }
  },
  equal: (a, b) => a === b,
  hash: (s) => hashString32(s),
  partition: partitionByKey,
  describeOperation: describeOp,
  describeState: (s) => JSON.stringify(s),
}

/** A model by CLI name: `register` (read/write/cas, as the etcd data set needs), `cas-register`, `kv`. */
export const modelByName = (name: string): Model<any> | undefined =>
  name === "register" || name === "cas-register" ? casRegisterModel : name === "kv" ? kvModel : undefined
