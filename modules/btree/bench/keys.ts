/** Deterministic key sets for the B-tree benchmark (flat strings, as decoded request keys are). */

/** xorshift32 PRNG in [0, 1). */
export function prng(seed: number): () => number {
  let x = seed | 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 4294967296
  }
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

/** `n` distinct random 20-character keys (about the size of a DynamoDB key). */
export function stringKeys(n: number, seed: number): string[] {
  const rnd = prng(seed)
  const seen = new Set<string>()
  const codes = new Array<number>(20)
  while (seen.size < n) {
    for (let i = 0; i < 20; i++) codes[i] = ALPHABET.charCodeAt(Math.floor(rnd() * 64))
    seen.add(String.fromCharCode(...codes))
  }
  return [...seen]
}

/** `n` distinct random integers below 2^53, and the same as 16-digit zero-padded (order-preserving) strings. */
export function numericKeys(n: number, seed: number): { strings: string[]; numbers: number[] } {
  const rnd = prng(seed)
  const seen = new Set<number>()
  while (seen.size < n) seen.add(Math.floor(rnd() * 2 ** 21) * 2 ** 32 + Math.floor(rnd() * 2 ** 32))
  const numbers = [...seen]
  return { numbers, strings: numbers.map((x) => String(x).padStart(16, "0")) }
}

/** A seeded Fisher-Yates shuffle (copy). */
export function shuffle<T>(a: readonly T[], seed: number): T[] {
  const rnd = prng(seed)
  const b = a.slice()
  for (let i = b.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1))
    const t = b[i]!
    b[i] = b[j]!
    b[j] = t
  }
  return b
}
