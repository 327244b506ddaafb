/**
 * The replicated state machine the scrubber rebuilds references with: a pure `apply` of a log
 * entry to a B-tree, and the keys an entry touches (for repair by replay). `kvStateMachine` is
 * a small key-value machine with put, delete and a non-idempotent add (so that an entry applied
 * twice changes the state, as a real UpdateItem ADD would).
 */
import type { EncodedKey } from "@partita/core"
import type { BTree, Scalar } from "@partita/btree"
import { ENTRY_COMMAND, type Entry } from "@partita/paxos"

/** What the scrubber needs from the partition's state machine. */
export interface StateMachine<V> {
  /** Applies one committed entry to the tree (no-ops and config entries leave it alone). */
  readonly apply: (tree: BTree<V>, entry: Entry) => void
  /** The keys an entry writes (empty for no-ops); used to replay a repaired key forward. */
  readonly touches: (entry: Entry) => ReadonlyArray<EncodedKey>
}

/** A command of `kvStateMachine`. */
export type KvCommand =
  | { readonly op: "put"; readonly key: EncodedKey; readonly value: string }
  | { readonly op: "delete"; readonly key: EncodedKey }
  | { readonly op: "add"; readonly key: EncodedKey; readonly delta: number }
  /** Stores bytes (given base64-encoded in the log entry) as a `Uint8Array` value. */
  | { readonly op: "putBytes"; readonly key: EncodedKey; readonly base64: string }

const enc = new TextEncoder()
const dec = new TextDecoder()

/** Encodes a command as the data of a log entry. */
export const encodeCommand = (c: KvCommand): Uint8Array => enc.encode(JSON.stringify(c))

/** Decodes the data of a log entry (throws on bytes that are not a command). */
export const decodeCommand = (data: Uint8Array): KvCommand => JSON.parse(dec.decode(data)) as KvCommand

/** Base64 of bytes, for `putBytes` commands. */
export const toBase64 = (b: Uint8Array): string => {
  let s = ""
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!)
  return btoa(s)
}

/** Applies one command to a tree. */
export const applyCommand = (tree: BTree<Scalar>, c: KvCommand): void => {
  if (c.op === "put") tree.set(c.key, c.value)
  else if (c.op === "putBytes")
    tree.set(
      c.key,
      Uint8Array.from(atob(c.base64), (ch) => ch.charCodeAt(0)),
    )
  else if (c.op === "delete") tree.delete(c.key)
  else {
    const old = tree.get(c.key)
    tree.set(c.key, (typeof old === "number" ? old : 0) + c.delta)
  }
}

/** Put / delete / add over string keys with string or number values. */
export const kvStateMachine: StateMachine<Scalar> = {
  apply: (tree, e) => {
    if (e.kind !== ENTRY_COMMAND) return
    applyCommand(tree, decodeCommand(e.data))
  },
  touches: (e) => (e.kind === ENTRY_COMMAND ? [decodeCommand(e.data).key] : []),
}
