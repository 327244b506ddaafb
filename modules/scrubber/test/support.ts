/** Test support: running archive effects against a memory store, random workloads, an independent reference. */
import { BTree, type Scalar } from "@partita/btree"
import type { Prng } from "@partita/sim"
import {
  type Entry,
  MemoryObjectStore,
  MemoryObjectStoreLayer,
  type ObjectStore,
  rebuildFromArchive,
} from "@partita/paxos"
import { Effect } from "effect"
import { type SimPartition, kvStateMachine } from "../src/index.ts"

/** Runs an archive effect synchronously against `store`. */
export const runWith = <A, E>(store: MemoryObjectStore, e: Effect.Effect<A, E, ObjectStore>): A =>
  Effect.runSync(Effect.provide(e, MemoryObjectStoreLayer(store)))

/** A fresh store. */
export const newStore = (): MemoryObjectStore => new MemoryObjectStore()

/** Commits `n` random writes over `keys` keys (puts, adds, deletes). */
export const randomWrites = (
  p: SimPartition<Scalar>,
  prng: Prng,
  n: number,
  keys: number,
  prefix = "k",
): void => {
  for (let i = 0; i < n; i++) {
    const key = `${prefix}${String(prng.int(keys)).padStart(5, "0")}`
    const r = prng.next()
    if (r < 0.55) p.commit({ op: "put", key, value: `v${prng.nextU32().toString(36)}` })
    else if (r < 0.9) p.commit({ op: "add", key: `n${key}`, delta: 1 + prng.int(9) })
    else p.commit({ op: "delete", key })
  }
}

/** Commits puts until the committed position is a multiple of `seg` (so everything can be archived). */
export const padToBoundary = (p: SimPartition<Scalar>, seg: number): void => {
  let i = 0
  while (p.committed % seg !== 0) p.commit({ op: "put", key: `pad${i++ % 3}`, value: `x${p.committed}` })
}

/** The reference state rebuilt independently with paxos' own `rebuildFromArchive` (from position 1). */
export const independentReference = (
  store: MemoryObjectStore,
  p: SimPartition<Scalar>,
  upTo: number,
): BTree<Scalar> =>
  runWith(
    store,
    rebuildFromArchive(p.identity, upTo, new BTree<Scalar>(), (t: BTree<Scalar>, e: Entry) => {
      kvStateMachine.apply(t, e)
      return t
    }),
  ).state
