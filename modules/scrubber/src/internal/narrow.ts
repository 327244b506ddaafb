/**
 * Narrowing: from "the replicas' checksums differ" to the exact keys that differ, exchanging
 * range checksums only.
 *
 * A pure state machine over plain data, in rounds: `requests()` says which range summaries (count,
 * payload bytes, 128-bit checksum) and split keys the participants must send; `answer()` takes
 * them in. A differing range `[lo, hi)` is split at a key `s` chosen by the participant holding
 * the most items there (its byte median, O(log n)) into `[lo, s)`, the single key `[s, s\0)` and
 * `[s\0, hi)`. Only the first two are asked for: the third follows by subtracting from the parent
 * (checksums are additive). A single-key range that still differs is a difference. Each level
 * halves the bytes of the splitting participant's range, so one difference costs O(log n) rounds
 * and the whole narrowing O(d log n) summaries for d differences.
 */
import type { EncodedKey } from "@partita/core"
import { type BTreeView, type Checksum, EMPTY_CHECKSUM, subtractChecksums, utf8Length } from "@partita/btree"
import { NARROW_DEPTH_MAX, NARROW_DIFFS_MAX, SUMMARY_WIRE_BYTES } from "./constants.ts"

/** Count, payload bytes and checksum of the items in a key range. */
export interface RangeSummary {
  readonly count: number
  readonly bytes: number
  readonly checksum: Checksum
}

/** A key range `lo <= key < hi`; an undefined bound is open. */
export interface KeyRange {
  readonly lo?: EncodedKey | undefined
  readonly hi?: EncodedKey | undefined
}

/** What one participant (a replica or the reference) answers during narrowing. */
export interface RangeSource {
  /** Summary of `[lo, hi)`. */
  readonly summary: (lo: EncodedKey | undefined, hi: EncodedKey | undefined) => RangeSummary
  /** A key of this participant inside `[lo, hi)` near its byte median, or undefined when it has none. */
  readonly splitKey: (lo: EncodedKey | undefined, hi: EncodedKey | undefined) => EncodedKey | undefined
}

/** A key whose single-key summaries differ, with each participant's summary of it. */
export interface KeyDifference {
  readonly key: EncodedKey
  readonly summaries: ReadonlyArray<RangeSummary>
}

/** One request of a narrowing round. */
export type NarrowRequest =
  | {
      readonly kind: "split"
      readonly task: number
      readonly participant: number
      readonly lo: EncodedKey | undefined
      readonly hi: EncodedKey | undefined
    }
  | {
      readonly kind: "summary"
      readonly task: number
      /** 0: `[lo, s)`, 1: `[s, s\0)`. */
      readonly part: 0 | 1
      readonly participant: number
      readonly lo: EncodedKey | undefined
      readonly hi: EncodedKey | undefined
    }

/** The answer to one request. */
export type NarrowAnswer =
  | { readonly kind: "split"; readonly task: number; readonly key: EncodedKey | undefined }
  | {
      readonly kind: "summary"
      readonly task: number
      readonly part: 0 | 1
      readonly participant: number
      readonly summary: RangeSummary
    }

/** What a narrowing found and what it cost. */
export interface NarrowResult {
  /** Differing keys in key order. */
  readonly differences: ReadonlyArray<KeyDifference>
  /** True when the differences exceeded `NARROW_DIFFS_MAX` and narrowing stopped (rebuild whole). */
  readonly overflow: boolean
  /** Range summaries exchanged (the root summaries included). */
  readonly checksumsExchanged: number
  /** Bytes on the wire: summaries, the bounds of each request, the split keys. */
  readonly bytesExchanged: number
  /** Request/answer rounds. */
  readonly rounds: number
}

interface Task {
  readonly id: number
  readonly lo: EncodedKey | undefined
  readonly hi: EncodedKey | undefined
  readonly sums: ReadonlyArray<RangeSummary>
  readonly depth: number
  split: EncodedKey | undefined
  phase: "split" | "sum"
  a: Array<RangeSummary | undefined>
  b: Array<RangeSummary | undefined>
}

const ZERO: RangeSummary = { count: 0, bytes: 0, checksum: EMPTY_CHECKSUM }

/** The exclusive upper bound of the single-key range `[k, k\0)`. */
export const successorKey = (k: EncodedKey): EncodedKey => `${k}\u0000`

/** Whether all summaries agree (same count, bytes and checksum). */
export const summariesAgree = (sums: ReadonlyArray<RangeSummary>): boolean => {
  const f = sums[0]
  if (f === undefined) return true
  for (let i = 1; i < sums.length; i++) {
    const s = sums[i]!
    if (s.checksum !== f.checksum || s.count !== f.count || s.bytes !== f.bytes) return false
  }
  return true
}

const minus = (p: RangeSummary, a: RangeSummary, b: RangeSummary): RangeSummary => ({
  count: p.count - a.count - b.count,
  bytes: p.bytes - a.bytes - b.bytes,
  checksum: subtractChecksums(subtractChecksums(p.checksum, a.checksum), b.checksum),
})

const keyBytes = (k: EncodedKey | undefined): number => (k === undefined ? 0 : utf8Length(k))

/** The narrowing state machine (deterministic; no I/O: the caller carries requests and answers). */
export class Narrowing {
  private tasks = new Map<number, Task>()
  private nextId = 0
  private readonly diffs: KeyDifference[] = []
  private exchanged: number
  private bytes: number
  private roundCount = 0
  private overflowed = false

  /** Starts from the participants' summaries of the whole range (they count as exchanged). */
  constructor(
    readonly participants: number,
    roots: ReadonlyArray<RangeSummary>,
    range: KeyRange = {},
  ) {
    if (roots.length !== participants) throw new RangeError("Narrowing: one root summary per participant")
    if (participants < 2) throw new RangeError("Narrowing: at least two participants")
    this.exchanged = participants
    this.bytes = participants * SUMMARY_WIRE_BYTES
    this.push(range.lo, range.hi, roots, 0)
  }

  /** True when nothing is left to ask. */
  get done(): boolean {
    return this.tasks.size === 0
  }

  /** The requests of the next round (empty when done). */
  requests(): NarrowRequest[] {
    const out: NarrowRequest[] = []
    for (const t of this.tasks.values()) {
      if (t.phase === "split") {
        let p = 0
        for (let i = 1; i < t.sums.length; i++) if (t.sums[i]!.count > t.sums[p]!.count) p = i
        out.push({ kind: "split", task: t.id, participant: p, lo: t.lo, hi: t.hi })
        continue
      }
      const s = t.split!
      const leftEmpty = t.lo !== undefined && s <= t.lo
      for (let i = 0; i < this.participants; i++) {
        if (!leftEmpty) out.push({ kind: "summary", task: t.id, part: 0, participant: i, lo: t.lo, hi: s })
        out.push({ kind: "summary", task: t.id, part: 1, participant: i, lo: s, hi: successorKey(s) })
      }
    }
    return out
  }

  /** Takes in one round's answers (every request of `requests()` must be answered). */
  answer(answers: ReadonlyArray<NarrowAnswer>): void {
    this.roundCount++
    for (const a of answers) {
      const t = this.tasks.get(a.task)
      if (t === undefined) throw new Error(`Narrowing: answer for unknown task ${a.task}`)
      if (a.kind === "split") {
        if (t.phase !== "split") throw new Error("Narrowing: split answer in the summary phase")
        this.bytes += SUMMARY_WIRE_BYTES / 2 + keyBytes(t.lo) + keyBytes(t.hi) + keyBytes(a.key)
        if (
          a.key === undefined ||
          (t.lo !== undefined && a.key < t.lo) ||
          (t.hi !== undefined && a.key >= t.hi)
        )
          throw new Error("Narrowing: the split key must lie inside the range")
        t.split = a.key
        continue
      }
      this.exchanged++
      const [lo, hi] = a.part === 0 ? [t.lo, t.split] : [t.split, successorKey(t.split!)]
      this.bytes += SUMMARY_WIRE_BYTES + keyBytes(lo) + keyBytes(hi)
      ;(a.part === 0 ? t.a : t.b)[a.participant] = a.summary
    }
    for (const t of [...this.tasks.values()]) {
      if (t.phase === "split") {
        if (t.split !== undefined) t.phase = "sum"
        continue
      }
      this.tasks.delete(t.id)
      const s = t.split!
      const n = this.participants
      const leftEmpty = t.lo !== undefined && s <= t.lo
      const as: RangeSummary[] = []
      const bs: RangeSummary[] = []
      const cs: RangeSummary[] = []
      for (let i = 0; i < n; i++) {
        const a = leftEmpty ? ZERO : t.a[i]
        const b = t.b[i]
        if (a === undefined || b === undefined) throw new Error("Narrowing: a summary is missing")
        as.push(a)
        bs.push(b)
        cs.push(minus(t.sums[i]!, a, b))
      }
      if (!leftEmpty) this.push(t.lo, s, as, t.depth + 1)
      if (!summariesAgree(bs)) this.addDiff({ key: s, summaries: bs })
      this.push(successorKey(s), t.hi, cs, t.depth + 1)
    }
  }

  /** The result so far (complete once `done`). */
  result(): NarrowResult {
    const differences = [...this.diffs].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))
    return {
      differences,
      overflow: this.overflowed,
      checksumsExchanged: this.exchanged,
      bytesExchanged: this.bytes,
      rounds: this.roundCount,
    }
  }

  private addDiff(d: KeyDifference): void {
    this.diffs.push(d)
    if (this.diffs.length > NARROW_DIFFS_MAX) this.abort()
  }

  private abort(): void {
    this.overflowed = true
    this.tasks.clear()
  }

  private push(
    lo: EncodedKey | undefined,
    hi: EncodedKey | undefined,
    sums: ReadonlyArray<RangeSummary>,
    depth: number,
  ): void {
    if (this.overflowed || summariesAgree(sums)) return
    if (lo !== undefined && hi !== undefined && lo >= hi) throw new Error("Narrowing: empty range differs")
    if (depth > NARROW_DEPTH_MAX) throw new Error(`Narrowing: depth above ${NARROW_DEPTH_MAX}`)
    const n = this.participants
    this.tasks.set(this.nextId, {
      id: this.nextId++,
      lo,
      hi,
      sums,
      depth,
      split: undefined,
      phase: "split",
      a: new Array(n).fill(undefined),
      b: new Array(n).fill(undefined),
    })
    if (this.tasks.size + this.diffs.length > NARROW_DIFFS_MAX) this.abort()
  }
}

/** Answers one request from local sources (what a replica does on receiving it). */
export const answerRequest = (sources: ReadonlyArray<RangeSource>, r: NarrowRequest): NarrowAnswer => {
  const src = sources[r.participant]
  if (src === undefined) throw new RangeError(`no participant ${r.participant}`)
  if (r.kind === "split") return { kind: "split", task: r.task, key: src.splitKey(r.lo, r.hi) }
  return {
    kind: "summary",
    task: r.task,
    part: r.part,
    participant: r.participant,
    summary: src.summary(r.lo, r.hi),
  }
}

/** Runs a whole narrowing against local sources (each request answered in place). */
export const narrow = (sources: ReadonlyArray<RangeSource>, range: KeyRange = {}): NarrowResult => {
  const roots = sources.map((s) => s.summary(range.lo, range.hi))
  const n = new Narrowing(sources.length, roots, range)
  while (!n.done) {
    const reqs = n.requests()
    n.answer(reqs.map((r) => answerRequest(sources, r)))
  }
  return n.result()
}

/** A tree (or snapshot) as a narrowing participant: summaries and byte-median split keys, O(log n) each. */
export const viewSource = <V>(view: BTreeView<V>): RangeSource => ({
  summary: (lo, hi) => {
    const s = view.rangeSummary(lo, hi)
    return { count: s.count, bytes: s.bytes, checksum: s.checksum }
  },
  splitKey: (lo, hi) => {
    const r = view.rangeSummary(lo, hi)
    if (r.count === 0) return undefined
    const below = lo === undefined ? 0 : view.rangeSummary(undefined, lo).bytes
    const k = view.keyAtByteOffset(below + Math.max(1, Math.floor(r.bytes / 2)))
    if (k === undefined || (lo !== undefined && k < lo) || (hi !== undefined && k >= hi)) {
      // Only possible with zero-byte items; fall back to the first key of the range.
      let first: EncodedKey | undefined
      view.forRange({ gte: lo, lt: hi, limit: 1 }, (key) => {
        first = key
        return false
      })
      return first
    }
    return k
  },
})
