/** Bottom-up construction from sorted keys (bulk load and checkpoint load). */
import { utf8Length, type ValueCodec } from "./codec.ts"
import { HASH_OUT, hashItem } from "./hash.ts"
import { addAggregate, emptyLeaf, Node } from "./node.ts"

/** Builds a tree bottom-up from sorted arrays; computes every aggregate once. */
export function buildFromSorted<V>(
  keys: readonly string[],
  values: readonly V[],
  codec: ValueCodec<V>,
  max: number,
  fill: number,
  owner: number,
  hashCap = 0,
): Node {
  const n = keys.length
  if (n === 0) return emptyLeaf(owner, hashCap)
  const target = Math.max(2, Math.min(max, Math.ceil(max * fill)))
  const leafCount = Math.ceil(n / target)
  let level: Node[] = new Array(leafCount)
  const sizeOf = codec.sizeOf
  const digest = codec.digest
  let pos = 0
  let prev: string | undefined
  for (let l = 0; l < leafCount; l++) {
    const end = Math.floor(((l + 1) * n) / leafCount)
    const ks = keys.slice(pos, end)
    const vs = values.slice(pos, end)
    const leaf = new Node(true, ks, vs, owner)
    const hs = hashCap > 0 ? new Int32Array(hashCap) : null
    leaf.hs = hs
    let s0 = 0
    let s1 = 0
    let s2 = 0
    let s3 = 0
    let bytes = 0
    for (let i = 0; i < ks.length; i++) {
      const k = ks[i]!
      const v = vs[i] as V
      // Checked here, not in a separate pass: each key's characters are touched once.
      if (prev !== undefined && !(prev < k)) {
        throw new RangeError(`bulkLoad: keys not strictly ascending at index ${pos + i}`)
      }
      prev = k
      hashItem(k, digest(v))
      if (hs !== null) {
        hs[4 * i] = HASH_OUT[0]!
        hs[4 * i + 1] = HASH_OUT[1]!
        hs[4 * i + 2] = HASH_OUT[2]!
        hs[4 * i + 3] = HASH_OUT[3]!
      }
      s0 = (s0 + HASH_OUT[0]!) | 0
      s1 = (s1 + HASH_OUT[1]!) | 0
      s2 = (s2 + HASH_OUT[2]!) | 0
      s3 = (s3 + HASH_OUT[3]!) | 0
      bytes += (HASH_OUT[4] === 1 ? k.length : utf8Length(k)) + sizeOf(v)
    }
    leaf.count = ks.length
    leaf.bytes = bytes
    leaf.s0 = s0
    leaf.s1 = s1
    leaf.s2 = s2
    leaf.s3 = s3
    level[l] = leaf
    pos = end
  }
  while (level.length > 1) {
    const m = level.length
    const parents = Math.ceil(m / target)
    const next: Node[] = new Array(parents)
    let p = 0
    for (let l = 0; l < parents; l++) {
      const end = Math.floor(((l + 1) * m) / parents)
      const kids = level.slice(p, end)
      const ks = new Array<string>(kids.length)
      const node = new Node(false, ks, kids, owner)
      for (let i = 0; i < kids.length; i++) {
        const kid = kids[i]!
        ks[i] = kid.keys[kid.keys.length - 1]!
        addAggregate(node, kid, 1)
      }
      next[l] = node
      p = end
    }
    level = next
  }
  return level[0]!
}
