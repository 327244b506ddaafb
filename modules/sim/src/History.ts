/**
 * History recorder: clients' operations as invoke / ok / fail / info events at virtual times, in the
 * shape Jepsen and Porcupine use. `info` means the outcome is unknown (a timeout): the operation may
 * have taken effect at any time after its invocation, or never.
 *
 * `toOperations` pairs events into call/return operations for the checker; `toJepsenLog` and
 * `toKvEdn` write the two text formats of /shared/data/linearizability (see `formats.ts` to read them).
 */

/** Event kinds. */
export type EventType = "invoke" | "ok" | "fail" | "info"

/** One event of a history. `value` is the argument on invoke and the result on completion. */
export interface HistoryEvent {
  readonly type: EventType
  /** Client (Jepsen "process") id; one outstanding operation per client at a time. */
  readonly process: number
  /** Operation name: read / write / cas (register), get / put / append (kv), or any user name. */
  readonly f: string
  /** Key, for keyed models. */
  readonly key?: string | undefined
  readonly value: unknown
  /** Virtual time (ms) or any monotone position. */
  readonly time: number
}

/** What a client asked for. */
export interface OpInput {
  readonly f: string
  readonly key?: string | undefined
  readonly value: unknown
}

/** How the operation ended. `info` = unknown outcome. */
export interface OpOutput {
  readonly status: "ok" | "fail" | "info"
  readonly value: unknown
}

/** A completed (or unknown) operation: call and return times; `return` is +Infinity for `info`. */
export interface Operation<I = OpInput, O = OpOutput> {
  readonly client: number
  readonly input: I
  readonly output: O
  readonly call: number
  readonly return: number
}

/** Which events `toOperations` drops because they cannot affect the verdict. */
export interface ToOperationsOptions {
  /** Keep a `fail` op (default: only `cas`, whose failure says the value differed; others had no effect). */
  readonly keepFailed?: (f: string) => boolean
  /** Drop an `info` op (default: `read`/`get`, which have no effect and an unknown result). */
  readonly dropInfo?: (f: string) => boolean
}

/** Handle of an invoked operation in a `History`. */
export type OpHandle = number

/** Records events; times come from `clock` (e.g. `() => sim.now`). */
export class History {
  readonly events: HistoryEvent[] = []
  private readonly open = new Map<OpHandle, { process: number; f: string; key: string | undefined }>()
  private readonly busy = new Set<number>()
  private nextHandle = 0

  /** Create a recorder reading time from `clock`. */
  constructor(private readonly clock: () => number) {}

  /** Record an invocation; a client may have only one outstanding operation. */
  invoke(process: number, f: string, value: unknown = null, key?: string): OpHandle {
    if (this.busy.has(process))
      throw new Error(`History: client ${process} already has an operation in flight`)
    const h = this.nextHandle++
    this.open.set(h, { process, f, key })
    this.busy.add(process)
    this.events.push({ type: "invoke", process, f, key, value, time: this.clock() })
    return h
  }

  /** The operation completed and took effect; `value` is its result (e.g. the value read). */
  ok(h: OpHandle, value: unknown = null): void {
    this.complete(h, "ok", value)
  }

  /** The operation completed and definitely did not take effect. */
  fail(h: OpHandle, value: unknown = null): void {
    this.complete(h, "fail", value)
  }

  /** The outcome is unknown (timeout, crash): it may or may not have taken effect. */
  info(h: OpHandle, value: unknown = null): void {
    this.complete(h, "info", value)
  }

  /** Operations still in flight. */
  get pending(): number {
    return this.open.size
  }

  private complete(h: OpHandle, type: EventType, value: unknown): void {
    const o = this.open.get(h)
    if (o === undefined) throw new Error(`History: operation ${h} is not in flight`)
    this.open.delete(h)
    this.busy.delete(o.process)
    this.events.push({ type, process: o.process, f: o.f, key: o.key, value, time: this.clock() })
  }
}

/**
 * Pair invoke and completion events (per process, in order) into operations. An invoke without a
 * completion is treated as `info`. `info` operations get `return = +Infinity`.
 */
export const toOperations = (
  events: ReadonlyArray<HistoryEvent>,
  opts: ToOperationsOptions = {},
): Operation<OpInput, OpOutput>[] => {
  const keepFailed = opts.keepFailed ?? ((f: string) => f === "cas")
  const dropInfo = opts.dropInfo ?? ((f: string) => f === "read" || f === "get")
  const pending = new Map<number, HistoryEvent>()
  const ops: Operation<OpInput, OpOutput>[] = []
  const emit = (inv: HistoryEvent, status: OpOutput["status"], value: unknown, ret: number): void => {
    if (status === "fail" && !keepFailed(inv.f)) return
    if (status === "info" && dropInfo(inv.f)) return
    ops.push({
      client: inv.process,
      input: { f: inv.f, key: inv.key, value: inv.value },
      output: { status, value },
      call: inv.time,
      return: status === "info" ? Number.POSITIVE_INFINITY : ret,
    })
  }
  for (const e of events) {
    if (e.type === "invoke") {
      const prev = pending.get(e.process)
      if (prev !== undefined) emit(prev, "info", null, Number.POSITIVE_INFINITY)
      pending.set(e.process, e)
      continue
    }
    const inv = pending.get(e.process)
    if (inv === undefined) throw new Error(`history: ${e.type} for process ${e.process} without an invoke`)
    pending.delete(e.process)
    emit(inv, e.type, e.value, e.time)
  }
  for (const inv of pending.values()) emit(inv, "info", null, Number.POSITIVE_INFINITY)
  return ops
}

const ednValue = (v: unknown): string => {
  if (v === null || v === undefined) return "nil"
  if (typeof v === "string") return JSON.stringify(v)
  if (Array.isArray(v)) return `[${v.map(ednValue).join(" ")}]`
  return String(v)
}

/** Write a register history in the Jepsen etcd log format (`INFO  jepsen.util - P\t:type\t:f\tvalue`). */
export const toJepsenLog = (events: ReadonlyArray<HistoryEvent>): string =>
  events
    .map((e) => {
      const v =
        e.type === "info" && (e.value === null || e.value === undefined) ? ":timed-out" : ednValue(e.value)
      return `INFO  jepsen.util - ${e.process}\t:${e.type}\t:${e.f}\t${v}`
    })
    .join("\n") + "\n"

/** Write a key-value history in the EDN-per-line format of the kv data set. */
export const toKvEdn = (events: ReadonlyArray<HistoryEvent>): string =>
  events
    .map(
      (e) =>
        `{:process ${e.process}, :type :${e.type}, :f :${e.f}, :key ${ednValue(e.key ?? "")}, :value ${ednValue(e.value)}}`,
    )
    .join("\n") + "\n"
