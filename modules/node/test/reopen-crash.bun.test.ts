/**
 * Durability across a killed process: a child process writes to a cluster in a data directory and
 * is killed (SIGKILL) mid-stream, several times; each time a new cluster opens the directory and
 * every acknowledged write is there (or a later write of the same key). Bun only (it spawns `bun`).
 *
 * determinism-guard: real-time — a real child process, watched by a host timer (60 s) in case it hangs.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Client, type LocalCluster, localClusterWithDataDir } from "@partita/node"

const WRITER = join(import.meta.dir, "fixtures", "reopen-writer.ts")
const KEYS = 40
const COUNT = 100_000

/**
 * Runs the writer from `from` and kills it after `acks` acknowledged writes; returns them. With
 * `split`, the writer splits a partition after `split.after` of them and is killed
 * `split.killAfter` later instead, so the split may be anywhere from proposed to adopted.
 */
const writeThenKill = (
  dir: string,
  from: number,
  acks: number,
  split?: { readonly after: number; readonly killAfter: number },
): Promise<Map<string, number>> =>
  new Promise((resolve, reject) => {
    const acked = new Map<string, number>()
    let n = 0
    let buffered = ""
    const args = [WRITER, dir, String(from), String(COUNT)]
    if (split !== undefined) {
      args.push(String(split.after))
      acks = split.after + 1 + split.killAfter
    }
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] })
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`the writer made ${n} of ${acks} acknowledged writes in 60 s`))
    }, 60_000)
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString()
      const lines = buffered.split("\n")
      buffered = lines.pop()!
      for (const line of lines) {
        const [kind, key, value] = line.split(" ")
        if (kind === "open") assert.equal(key, "0", "the writer found unreadable replicas")
        if (kind === "split") assert.equal(key, "true", "the split was refused")
        if (kind !== "ack" || n >= acks) continue
        acked.set(key!, Number(value))
        if (++n === acks) child.kill("SIGKILL")
      }
    })
    child.on("exit", () => {
      clearTimeout(timer)
      if (n < acks) reject(new Error(`the writer exited after ${n} acknowledged writes`))
      else resolve(acked)
    })
  })

const leadersUp = async (c: LocalCluster, table: string): Promise<void> => {
  for (let i = 0; i < 100; i++) {
    const map = c.meta.partitionMap(table)
    if (map?.partitions.every((p) => c.leaderOf(p.id) !== undefined)) return
    await c.sleep(100)
  }
  assert.fail("the partitions did not all get a leader")
}

describe("a cluster in a data directory, its process killed", () => {
  it("loses no acknowledged write: each kill, a new cluster opens the directory and finds them all", async () => {
    const dir = mkdtempSync(join(tmpdir(), "partita-crash-"))
    const latest = new Map<string, number>()
    const runs: number[] = []
    try {
      // Kill points of different depths (the first kill also lands before any compaction).
      // The last two kill a writer that split a partition: 2 and 25 acknowledged writes later.
      const rounds: ReadonlyArray<readonly [number, number, { after: number; killAfter: number }?]> = [
        [0, 30],
        [1, 170],
        [2, 95],
        [3, 0, { after: 20, killAfter: 2 }],
        [4, 0, { after: 20, killAfter: 25 }],
      ]
      for (const [round, acks, split] of rounds) {
        const from = round * COUNT
        runs.push(from)
        const acked = await writeThenKill(dir, from, acks, split)
        for (const [k, v] of acked) latest.set(k, v)
        const c = await localClusterWithDataDir(dir, {
          nodes: 3,
          routers: 1,
          timing: { compactEntries: 40 },
          archive: { entriesPerSegment: 8 },
        })
        try {
          assert.deepEqual(c.unreadable, [])
          // A split caught by the kill is carried through by the cluster that opens the directory
          // (2 writes after the split was proposed, it had not been adopted yet).
          if (round === 3) assert.equal(c.meta.pendingSplitCount(), 1, "the kill did not catch the split")
          for (let i = 0; i < 100 && c.meta.pendingSplitCount() > 0; i++) await c.sleep(100)
          assert.equal(c.meta.pendingSplitCount(), 0, `round ${round}: a split is still pending`)
          await leadersUp(c, "crashed")
          // Two partitions, and one more for each split.
          if (round >= 3) assert.equal(c.meta.partitionMap("crashed")!.partitions.length, round)
          const db = new Client(c.meta, c.routers)
          for (const [k, want] of latest) {
            const r = await db.getItem({ TableName: "crashed", Key: { id: { S: k } }, ConsistentRead: true })
            const got = Number((r.Item?.n as { N: string } | undefined)?.N ?? -1)
            // The acknowledged value, or a later write of the same key (one may have been in
            // flight when the process was killed): a value some run wrote to this key.
            assert.ok(got >= want, `round ${round}: ${k} = ${got}, acknowledged ${want}`)
            const run = runs.findLast((f) => got >= f)!
            assert.equal((got - run) % KEYS, Number(k.slice(1)), `round ${round}: ${k} = ${got}`)
          }
        } finally {
          c.stop()
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
