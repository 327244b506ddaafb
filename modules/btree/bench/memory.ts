/**
 * Heap bytes per entry of one implementation, measured in a fresh process so nothing else
 * lives in the heap: `bun modules/btree/bench/memory.ts <impl> <string|numeric|number> <n>`.
 * Keys and values exist before the first measurement; only the structure is counted.
 */
import { OrderedMap } from "js-sdsl"
import SortedBTree from "sorted-btree"
import { BTree } from "../src/index.ts"
import { numericKeys, shuffle, stringKeys } from "./keys.ts"

declare const Bun: { gc(force: boolean): void }

function heapUsed(): number {
  for (let i = 0; i < 3; i++) Bun.gc(true)
  return process.memoryUsage().heapUsed
}

/** Builds the structure by random inserts and returns heap bytes per entry. */
export function measure(impl: string, kind: string, n: number): number {
  const keys: Array<string | number> =
    kind === "string"
      ? stringKeys(n, 42)
      : kind === "numeric"
        ? numericKeys(n, 43).strings
        : numericKeys(n, 43).numbers
  const order = shuffle(keys, 1)
  keys.length = 0
  const before = heapUsed()
  let hold: { size: number | (() => number) }
  if (impl === "partita") {
    const t = new BTree<number>()
    for (let i = 0; i < n; i++) t.set(order[i] as string, i)
    hold = t
  } else if (impl === "sorted-btree") {
    const t = new SortedBTree<string | number, number>()
    for (let i = 0; i < n; i++) t.set(order[i]!, i)
    hold = t
  } else if (impl === "js-sdsl") {
    const t = new OrderedMap<string | number, number>()
    for (let i = 0; i < n; i++) t.setElement(order[i]!, i)
    hold = t
  } else {
    const t = new Map<string | number, number>()
    for (let i = 0; i < n; i++) t.set(order[i]!, i)
    hold = t
  }
  const after = heapUsed()
  if (hold.size === 0 || order.length !== n) throw new Error("unreachable")
  return (after - before) / n
}

if (import.meta.main) {
  const [impl, kind, n] = process.argv.slice(2)
  console.log(JSON.stringify({ bytesPerEntry: measure(impl!, kind!, Number(n)) }))
}
