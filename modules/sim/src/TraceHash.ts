/**
 * A running 64-bit hash (two independent 32-bit lanes) of everything a simulation does: scheduled
 * events, delivered messages, disk crashes. Two runs of the same seed must end with the same hash;
 * the first divergence shows up as a different hash (compare `hex()` at checkpoints to bisect).
 */
import { hashString32 } from "./internal/hash.ts"

const f64 = new Float64Array(1)
const w32 = new Uint32Array(f64.buffer)

/** Incremental two-lane hash; `hex()` is a 16-hex-digit digest of everything mixed so far. */
export class TraceHash {
  private h1 = 0x9747b28c
  private h2 = 0x5bd1e995
  /** Number of 32-bit words mixed so far. */
  count = 0

  /** Mix one unsigned 32-bit word. */
  u32(x: number): void {
    // lane 1: MurmurHash3 x86_32 block step
    let k = Math.imul(x, 0xcc9e2d51)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, 0x1b873593)
    let h = this.h1 ^ k
    h = (h << 13) | (h >>> 19)
    this.h1 = (Math.imul(h, 5) + 0xe6546b64) | 0
    // lane 2: a different multiply-xorshift chain so the lanes are independent
    let g = (this.h2 ^ x) | 0
    g = Math.imul(g ^ (g >>> 16), 0x85ebca6b)
    g = Math.imul(g ^ (g >>> 13), 0xc2b2ae35)
    this.h2 = (g ^ (g >>> 16)) + Math.imul(this.count + 1, 0x27d4eb2f)
    this.count++
  }

  /** Mix a number exactly (integers in u32 range as one word, anything else by its float64 bits). */
  number(x: number): void {
    if (x >>> 0 === x) {
      this.u32(x)
    } else {
      f64[0] = x
      const b = w32[1]!
      this.u32(w32[0]! ^ 0xa5a5a5a5)
      this.u32(b)
    }
  }

  /** Mix a string (by its 32-bit hash and length). */
  string(s: string): void {
    this.u32(hashString32(s))
    this.u32(s.length)
  }

  /** Mix raw bytes. */
  bytes(b: Uint8Array): void {
    this.u32(b.length)
    let w = 0
    for (let i = 0; i < b.length; i++) {
      w = (w << 8) | b[i]!
      if ((i & 3) === 3) {
        this.u32(w >>> 0)
        w = 0
      }
    }
    if ((b.length & 3) !== 0) this.u32(w >>> 0)
  }

  /** The current digest as 16 lower-case hex digits (does not change the running state). */
  hex(): string {
    let a = this.h1 ^ this.count
    a ^= a >>> 16
    a = Math.imul(a, 0x85ebca6b)
    a ^= a >>> 13
    a = Math.imul(a, 0xc2b2ae35)
    a ^= a >>> 16
    let b = this.h2 ^ Math.imul(this.count, 0x9e3779b1)
    b ^= b >>> 15
    b = Math.imul(b, 0x2c1b3c6d)
    b ^= b >>> 12
    b = Math.imul(b, 0x297a2d39)
    b ^= b >>> 15
    return (b >>> 0).toString(16).padStart(8, "0") + (a >>> 0).toString(16).padStart(8, "0")
  }
}
