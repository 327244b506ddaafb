import { readFileSync, writeFileSync } from "node:fs"
import { gunzipSync, gzipSync, strFromU8, strToU8 } from "fflate"
import { Either, ParseResult, Schema } from "effect"

/** One recorded request: time (ms from the start of the run), operation, table, key and item size. */
export const TraceEntrySchema = Schema.Struct({
  t: Schema.Number.pipe(Schema.nonNegative()),
  op: Schema.Literal("read", "update", "insert", "scan", "rmw", "delete"),
  table: Schema.String,
  key: Schema.String,
  size: Schema.Number.pipe(Schema.int(), Schema.nonNegative()),
})
export type TraceEntry = typeof TraceEntrySchema.Type

/** The first line of a trace file. */
export const TraceHeaderSchema = Schema.Struct({
  trace: Schema.Literal(1),
  name: Schema.String,
  entries: Schema.Number,
  note: Schema.optional(Schema.String),
})
export type TraceHeader = typeof TraceHeaderSchema.Type

/** A trace could not be read; `line` is 1-based (0 for the file as a whole). */
export class TraceError extends Error {
  readonly _tag = "TraceError"
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}${line ? `:${line}` : ""}: ${reason}`)
  }
}

const decodeEntry = Schema.decodeUnknownEither(TraceEntrySchema)
const decodeHeader = Schema.decodeUnknownEither(TraceHeaderSchema)

/** Encodes a trace as gzip-compressed JSON Lines (header line first). */
export function encodeTrace(name: string, entries: ReadonlyArray<TraceEntry>, note?: string): Uint8Array {
  const header: TraceHeader =
    note === undefined
      ? { trace: 1, name, entries: entries.length }
      : { trace: 1, name, entries: entries.length, note }
  const lines = [JSON.stringify(header)]
  for (const e of entries) lines.push(JSON.stringify(e))
  return gzipSync(strToU8(`${lines.join("\n")}\n`), { level: 6 })
}

/** Decodes a trace (gzip JSON Lines, or plain JSON Lines). Every line is validated. */
export function decodeTrace(
  bytes: Uint8Array,
  file = "<trace>",
): { header: TraceHeader; entries: TraceEntry[] } {
  let text: string
  try {
    text = bytes[0] === 0x1f && bytes[1] === 0x8b ? strFromU8(gunzipSync(bytes)) : strFromU8(bytes)
  } catch (e) {
    throw new TraceError(file, 0, `not a gzip or text trace (${(e as Error).message})`)
  }
  const lines = text.split("\n")
  let header: TraceHeader | undefined
  const entries: TraceEntry[] = []
  lines.forEach((line, i) => {
    if (line.trim() === "") return
    let json: unknown
    try {
      json = JSON.parse(line)
    } catch {
      throw new TraceError(file, i + 1, "not valid JSON")
    }
    if (header === undefined) {
      const h = decodeHeader(json)
      if (Either.isLeft(h))
        throw new TraceError(file, i + 1, `bad header: ${ParseResult.TreeFormatter.formatErrorSync(h.left)}`)
      header = h.right
      return
    }
    const e = decodeEntry(json)
    if (Either.isLeft(e)) throw new TraceError(file, i + 1, ParseResult.TreeFormatter.formatErrorSync(e.left))
    entries.push(e.right)
  })
  if (!header) throw new TraceError(file, 0, "empty trace")
  return { header, entries }
}

/** Writes a trace file. */
export function writeTrace(
  path: string,
  name: string,
  entries: ReadonlyArray<TraceEntry>,
  note?: string,
): void {
  writeFileSync(path, encodeTrace(name, entries, note))
}

/** Reads a trace file: `.jsonl.gz` / `.jsonl` traces, or a `.csv` of (time, operation, table, key, size). */
export function readTrace(path: string): { header: TraceHeader; entries: TraceEntry[] } {
  const bytes = new Uint8Array(readFileSync(path))
  if (path.endsWith(".csv")) return importCsv(strFromU8(bytes), path)
  return decodeTrace(bytes, path)
}

const CSV_OPS: Record<string, TraceEntry["op"]> = {
  read: "read",
  get: "read",
  getitem: "read",
  update: "update",
  updateitem: "update",
  put: "insert",
  putitem: "insert",
  insert: "insert",
  write: "update",
  scan: "scan",
  query: "scan",
  delete: "delete",
  deleteitem: "delete",
  rmw: "rmw",
}

/**
 * Imports a CSV of production shapes: columns time (ms, or seconds with an `s` suffix in the header
 * `time_s`), operation (GetItem/PutItem/… or read/update/…), table, key, size (bytes). A header row
 * is optional. Rows are sorted by time and shifted so the first is at 0.
 */
export function importCsv(text: string, file = "<csv>"): { header: TraceHeader; entries: TraceEntry[] } {
  const rows = text.split(/\r?\n/)
  const entries: TraceEntry[] = []
  let scale = 1
  rows.forEach((raw, i) => {
    const line = raw.trim()
    if (line === "" || line.startsWith("#")) return
    const cols = line.split(",").map((c) => c.trim())
    if (i === 0 && Number.isNaN(Number(cols[0]))) {
      if ((cols[0] ?? "").toLowerCase() === "time_s") scale = 1000
      return
    }
    if (cols.length !== 5)
      throw new TraceError(
        file,
        i + 1,
        `expected 5 columns (time, operation, table, key, size), got ${cols.length}`,
      )
    const [t, op, table, key, size] = cols as [string, string, string, string, string]
    const time = Number(t) * scale
    if (!Number.isFinite(time) || time < 0) throw new TraceError(file, i + 1, `bad time '${t}'`)
    const kind = CSV_OPS[op.toLowerCase()]
    if (!kind)
      throw new TraceError(
        file,
        i + 1,
        `unknown operation '${op}' (expected one of ${Object.keys(CSV_OPS).join(", ")})`,
      )
    const bytes = Number(size)
    if (!Number.isInteger(bytes) || bytes < 0) throw new TraceError(file, i + 1, `bad size '${size}'`)
    if (key === "") throw new TraceError(file, i + 1, "empty key")
    entries.push({ t: time, op: kind, table, key, size: bytes })
  })
  entries.sort((a, b) => a.t - b.t)
  const t0 = entries[0]?.t ?? 0
  const shifted = entries.map((e) => ({ ...e, t: e.t - t0 }))
  return { header: { trace: 1, name: file, entries: shifted.length }, entries: shifted }
}

/**
 * Replay schedule: intended start times for a trace at its original timing (`speed` 1), a multiple
 * of it (`speed` 2 = twice as fast), or as fast as possible (`speed` Infinity: all due at once).
 */
export function* replayStarts(entries: ReadonlyArray<TraceEntry>, speed: number): Generator<number> {
  if (!(speed > 0)) throw new RangeError(`replay speed must be > 0, got ${speed}`)
  for (const e of entries) yield Number.isFinite(speed) ? e.t / speed : 0
}
