/**
 * A small Wing–Gong–Lowe linearizability checker for one register with CAS (per key), with
 * memoisation of (linearized set, state). Operations that never returned have ret = Infinity.
 */
export interface RegOp {
  readonly kind: "w" | "r" | "cas"
  readonly value: string | null
  readonly expected?: string | null
  /** read result / cas outcome; for incomplete ops ignored */
  readonly out: string | null | boolean
  readonly call: number
  readonly ret: number
}

const step = (state: string | null, op: RegOp, complete: boolean): [boolean, string | null] => {
  switch (op.kind) {
    case "w":
      return [true, op.value]
    case "r":
      return [!complete || op.out === state, state]
    case "cas": {
      const hit = state === op.expected
      if (!complete) return [true, hit ? op.value : state]
      return [op.out === hit, hit ? op.value : state]
    }
  }
}

/** Returns true when the history is linearizable from initial state null. */
export const checkRegister = (ops: ReadonlyArray<RegOp>, budget = 2_000_000): boolean | "unknown" => {
  // Reads that never returned constrain nothing: drop them.
  const hist = ops.filter((o) => !(o.kind === "r" && o.ret === Number.POSITIVE_INFINITY))
  const n = hist.length
  if (n === 0) return true
  const order = hist.map((_, i) => i).sort((a, b) => hist[a]!.call - hist[b]!.call)
  const done = new Uint8Array(n)
  const seen = new Set<string>()
  let work = 0
  const key = (state: string | null): string => {
    let s = ""
    for (let i = 0; i < n; i += 16) {
      let w = 0
      for (let j = i; j < Math.min(n, i + 16); j++) if (done[j]) w |= 1 << (j - i)
      s += String.fromCharCode(w)
    }
    return s + "|" + state
  }
  let remainingComplete = hist.filter((o) => o.ret !== Number.POSITIVE_INFINITY).length
  const dfs = (state: string | null): boolean => {
    if (remainingComplete === 0) return true
    if (++work > budget) throw new Error("budget")
    const k = key(state)
    if (seen.has(k)) return false
    seen.add(k)
    // Minimal return among pending ops bounds which ops may go next.
    let minRet = Number.POSITIVE_INFINITY
    for (const i of order) if (!done[i] && hist[i]!.ret < minRet) minRet = hist[i]!.ret
    for (const i of order) {
      if (done[i]) continue
      const op = hist[i]!
      if (op.call > minRet) break
      const complete = op.ret !== Number.POSITIVE_INFINITY
      const [ok, next] = step(state, op, complete)
      if (!ok) continue
      done[i] = 1
      if (complete) remainingComplete--
      const r = dfs(next)
      done[i] = 0
      if (complete) remainingComplete++
      if (r) return true
    }
    return false
  }
  try {
    return dfs(null)
  } catch {
    return "unknown"
  }
}
