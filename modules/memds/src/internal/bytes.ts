/** Growable byte writer and cursor reader with LEB128 varints (snapshot and delta codecs). */

export class ByteWriter {
  buf: Uint8Array
  len = 0
  constructor(initial = 1024) {
    this.buf = new Uint8Array(initial)
  }
  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n))
    next.set(this.buf.subarray(0, this.len))
    this.buf = next
  }
  u8(v: number): void {
    this.ensure(1)
    this.buf[this.len++] = v
  }
  varint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`varint out of range: ${v}`)
    this.ensure(8)
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80
      v = Math.floor(v / 0x80)
    }
    this.buf[this.len++] = v
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length)
    this.buf.set(b, this.len)
    this.len += b.length
  }
  /** A string as varint length + UTF-16 code units, each as a varint (ASCII costs one byte). */
  str(s: string): void {
    this.varint(s.length)
    this.ensure(s.length * 3)
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i)
      if (c < 0x80) this.buf[this.len++] = c
      else this.varint(c)
    }
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.len)
  }
}

export class ByteReader {
  pos = 0
  constructor(readonly buf: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.buf.length
  }
  u8(): number {
    if (this.pos >= this.buf.length) throw new RangeError("read past end")
    return this.buf[this.pos++]!
  }
  varint(): number {
    let v = 0
    let mul = 1
    for (let i = 0; i < 8; i++) {
      const b = this.u8()
      v += (b & 0x7f) * mul
      if (b < 0x80) return v
      mul *= 0x80
    }
    throw new RangeError("varint too long")
  }
  bytes(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw new RangeError("read past end")
    const b = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return b
  }
  str(): string {
    const n = this.varint()
    let s = ""
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.varint())
    return s
  }
}
