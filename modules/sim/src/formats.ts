/**
 * Readers for the two history formats of the labelled data set (../shared/data/linearizability):
 * Jepsen etcd logs (a single register with read / write / cas) and EDN-per-line key-value histories
 * (get / put / append). Event times are line positions. Bad input throws `HistoryFormatError`.
 */
import type { HistoryEvent } from "./History.ts"

/** Input that is not a well-formed history. */
export class HistoryFormatError extends Error {
  override readonly name = "HistoryFormatError"
}

/** The two supported text formats. */
export type HistoryFormat = "jepsen" | "kv-edn"

/** Guess the format from the first non-empty line. */
export const detectFormat = (text: string): HistoryFormat | undefined => {
  for (const line of text.split("\n")) {
    const t = line.trim()
    if (t === "") continue
    if (t.startsWith("{")) return "kv-edn"
    if (/jepsen\.util/.test(t)) return "jepsen"
    return undefined
  }
  return undefined
}

const JEPSEN_LINE = /^\S+\s+jepsen\.util\s+-\s+(\d+)\s+:(invoke|ok|fail|info)\s+:([\w-]+)\s*(.*)$/

const jepsenValue = (raw: string, line: number): unknown => {
  const t = raw.trim()
  if (t === "" || t === "nil" || t.startsWith(":")) return null
  if (/^-?\d+$/.test(t)) return Number(t)
  const m = /^\[\s*(\S+)\s+(\S+)\s*\]$/.exec(t)
  if (m !== null) return [jepsenValue(m[1]!, line), jepsenValue(m[2]!, line)]
  if (t.startsWith('"')) return JSON.parse(t)
  throw new HistoryFormatError(`line ${line}: cannot read value "${t}"`)
}

/**
 * Read a Jepsen etcd log. Lines that are not `jepsen.util` events are skipped; a completion value of
 * `:timed-out` becomes `null`. Reads that `:fail` had no effect (the caller's `toOperations` drops them).
 */
export const parseJepsenLog = (text: string): HistoryEvent[] => {
  const events: HistoryEvent[] = []
  const lines = text.split("\n")
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === "" || !line.includes("jepsen.util")) continue
    const m = JEPSEN_LINE.exec(line)
    if (m === null) throw new HistoryFormatError(`line ${i + 1}: not a Jepsen event: ${line.slice(0, 80)}`)
    events.push({
      type: m[2] as HistoryEvent["type"],
      process: Number(m[1]),
      f: m[3]!,
      value: jepsenValue(m[4]!, i + 1),
      time: events.length,
    })
  }
  if (events.length === 0) throw new HistoryFormatError("no Jepsen events found")
  return events
}

/** Parse one flat EDN map of keywords, strings, integers and nil. */
const parseEdnMap = (s: string, line: number): Map<string, unknown> => {
  const out = new Map<string, unknown>()
  let i = 0
  const fail = (why: string): never => {
    throw new HistoryFormatError(`line ${line}: ${why} at column ${i + 1}`)
  }
  const ws = (): void => {
    while (i < s.length && (s[i] === " " || s[i] === "," || s[i] === "\t" || s[i] === "\r")) i++
  }
  const atom = (): unknown => {
    ws()
    const c = s[i]
    if (c === '"') {
      let j = i + 1
      let str = ""
      while (j < s.length && s[j] !== '"') {
        if (s[j] === "\\") {
          j++
          const e = s[j]
          str += e === "n" ? "\n" : e === "t" ? "\t" : (e ?? "")
        } else str += s[j]
        j++
      }
      if (j >= s.length) fail("unterminated string")
      i = j + 1
      return str
    }
    const m = /^[^\s,{}[\]]+/.exec(s.slice(i))
    if (m === null) return fail("expected a value")
    i += m[0].length
    const tok = m[0]
    if (tok === "nil") return null
    if (tok === "true") return true
    if (tok === "false") return false
    if (/^-?\d+$/.test(tok)) return Number(tok)
    if (tok.startsWith(":")) return tok
    return fail(`unexpected token ${tok}`)
  }
  ws()
  if (s[i] !== "{") fail("expected {")
  i++
  for (;;) {
    ws()
    if (s[i] === "}") break
    if (i >= s.length) fail("unterminated map")
    const k = atom()
    if (typeof k !== "string" || !k.startsWith(":")) fail("expected a keyword key")
    out.set((k as string).slice(1), atom())
  }
  return out
}

/** Read an EDN-per-line key-value history (`{:process P, :type :invoke, :f :get, :key "K", :value V}`). */
export const parseKvEdn = (text: string): HistoryEvent[] => {
  const events: HistoryEvent[] = []
  const lines = text.split("\n")
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === "") continue
    const m = parseEdnMap(line, i + 1)
    const process = m.get("process")
    const type = m.get("type")
    const f = m.get("f")
    const key = m.get("key")
    if (typeof process !== "number")
      throw new HistoryFormatError(`line ${i + 1}: :process must be an integer`)
    if (type !== ":invoke" && type !== ":ok" && type !== ":fail" && type !== ":info") {
      throw new HistoryFormatError(`line ${i + 1}: bad :type ${String(type)}`)
    }
    if (typeof f !== "string" || !f.startsWith(":")) throw new HistoryFormatError(`line ${i + 1}: bad :f`)
    events.push({
      type: type.slice(1) as HistoryEvent["type"],
      process,
      f: f.slice(1),
      key: key === undefined || key === null ? undefined : String(key),
      value: m.get("value") ?? null,
      time: events.length,
    })
  }
  if (events.length === 0) throw new HistoryFormatError("no events found")
  return events
}

/** Read a history in either format (auto-detected unless given). */
export const parseHistory = (text: string, format?: HistoryFormat): HistoryEvent[] => {
  const f = format ?? detectFormat(text)
  if (f === "jepsen") return parseJepsenLog(text)
  if (f === "kv-edn") return parseKvEdn(text)
  throw new HistoryFormatError("unrecognised history format (expected a Jepsen log or EDN-per-line)")
}
