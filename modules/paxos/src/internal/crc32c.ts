/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven, slicing-by-4.
 * Written here rather than imported so the WAL has no native dependency and runs the same
 * under Bun and Deno.
 */

const POLY = 0x82f63b78

const makeTables = (): Uint32Array[] => {
  const t0 = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1
    t0[i] = c >>> 0
  }
  const tables = [t0]
  for (let t = 1; t < 4; t++) {
    const prev = tables[t - 1]!
    const cur = new Uint32Array(256)
    for (let i = 0; i < 256; i++) cur[i] = ((prev[i]! >>> 8) ^ t0[prev[i]! & 0xff]!) >>> 0
    tables.push(cur)
  }
  return tables
}

const [T0, T1, T2, T3] = makeTables() as [Uint32Array, Uint32Array, Uint32Array, Uint32Array]

/** Continues a CRC-32C over `bytes[start, end)`; start a fresh one with `crc = 0`. */
export const crc32cUpdate = (crc: number, bytes: Uint8Array, start = 0, end = bytes.length): number => {
  let c = ~crc >>> 0
  let i = start
  const end4 = end - ((end - start) & 3)
  while (i < end4) {
    c ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)
    c = T3[c & 0xff]! ^ T2[(c >>> 8) & 0xff]! ^ T1[(c >>> 16) & 0xff]! ^ T0[c >>> 24]!
    i += 4
  }
  while (i < end) c = T0[(c ^ bytes[i++]!) & 0xff]! ^ (c >>> 8)
  return ~c >>> 0
}

/** CRC-32C of a whole byte array. */
export const crc32c = (bytes: Uint8Array): number => crc32cUpdate(0, bytes)
