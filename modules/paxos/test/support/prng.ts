/** Small seeded PRNG (sfc32) for the test driver; the sim kit's Prng replaces it where simpler. */
export class Prng {
  private a: number
  private b: number
  private c: number
  private d: number
  constructor(seed: number) {
    this.a = 0x9e3779b9
    this.b = 0x243f6a88
    this.c = 0xb7e15162
    this.d = seed >>> 0
    for (let i = 0; i < 15; i++) this.next()
  }
  /** Uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }
  /** Uniform in [0, 1). */
  float(): number {
    return this.next() / 4294967296
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n)
  }
  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + this.float() * (hi - lo)
  }
  chance(p: number): boolean {
    return this.float() < p
  }
  pick<T>(xs: ReadonlyArray<T>): T {
    return xs[this.int(xs.length)]!
  }
  /** A child generator (so adding draws in one place does not shift another). */
  fork(): Prng {
    return new Prng(this.next())
  }
}

/** FNV-1a 32-bit, folded over numbers and strings, for trace hashes. */
export class TraceHash {
  h = 0x811c9dc5
  num(x: number): void {
    let v = Math.floor(x * 1000) | 0
    for (let i = 0; i < 4; i++) {
      this.h ^= v & 0xff
      this.h = Math.imul(this.h, 0x01000193) >>> 0
      v >>>= 8
    }
  }
  str(s: string): void {
    for (let i = 0; i < s.length; i++) {
      this.h ^= s.charCodeAt(i) & 0xff
      this.h = Math.imul(this.h, 0x01000193) >>> 0
    }
  }
  hex(): string {
    return this.h.toString(16).padStart(8, "0")
  }
}
