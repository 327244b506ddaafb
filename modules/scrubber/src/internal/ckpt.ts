/**
 * Page-by-page verification of a B-tree checkpoint file, so a scrub slice checks a bounded
 * number of pages instead of decoding the whole file. Follows the checkpoint format documented
 * in @partita/btree (version 1): a 32-byte header with its CRC-32C at byte 28, data pages of
 * `pageBytes` each with their CRC-32C in the last 4 bytes, a 64-byte footer with its CRC at 60.
 * Loading (`BTree.fromCheckpointBytes`) re-checks all of this plus the content checksum.
 */
import { crc32cUpdate } from "@partita/paxos"

const HEADER_BYTES = 32
const FOOTER_BYTES = 64
const MAGIC = [0x50, 0x54, 0x42, 0x54, 0x52, 0x45, 0x45, 0x31] // "PTBTREE1"

/** Layout read from a checkpoint's header, or the reason it cannot be read. */
export type CheckpointLayout =
  | { readonly ok: true; readonly pageBytes: number; readonly dataPages: number }
  | { readonly ok: false; readonly page: number; readonly reason: string }

const u32 = (b: Uint8Array, o: number): number =>
  (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0

/** Checks the header and the file length. */
export const checkpointLayout = (b: Uint8Array): CheckpointLayout => {
  if (b.length < HEADER_BYTES + FOOTER_BYTES) return { ok: false, page: 0, reason: "file too short" }
  if (u32(b, 28) !== crc32cUpdate(0, b, 0, 28)) return { ok: false, page: 0, reason: "header CRC mismatch" }
  for (let i = 0; i < 8; i++) if (b[i] !== MAGIC[i]) return { ok: false, page: 0, reason: "bad magic" }
  const pageBytes = u32(b, 12)
  const dataPages = u32(b, 16)
  if (pageBytes < 64 || b.length !== HEADER_BYTES + dataPages * pageBytes + FOOTER_BYTES)
    return { ok: false, page: 0, reason: "length differs from the header" }
  return { ok: true, pageBytes, dataPages }
}

/** Verifies pages `[from, to)` (1..dataPages are data pages, dataPages + 1 the footer); returns the first bad page. */
export const checkPages = (
  b: Uint8Array,
  layout: { readonly pageBytes: number; readonly dataPages: number },
  from: number,
  to: number,
): number | undefined => {
  const { pageBytes, dataPages } = layout
  for (let p = Math.max(1, from); p < Math.min(to, dataPages + 2); p++) {
    if (p === dataPages + 1) {
      const f = HEADER_BYTES + dataPages * pageBytes
      if (u32(b, f + 60) !== crc32cUpdate(0, b, f, f + 60)) return p
      continue
    }
    const base = HEADER_BYTES + (p - 1) * pageBytes
    if (u32(b, base + pageBytes - 4) !== crc32cUpdate(0, b, base, base + pageBytes - 4)) return p
  }
  return undefined
}
