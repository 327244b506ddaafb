/**
 * `partita serve` as a separate process, used over TCP: writers in this process talk to it
 * through `RemoteClient` while it is killed outright (SIGKILL) with requests in flight, twice; each
 * new server on the same data directory answers every acknowledged write (or a later write of
 * the same key, never one that was not sent). Then SIGTERM stops it cleanly (exit 0) and a last
 * server opens the directory with nothing unreadable. Bun only (it spawns `bun`).
 *
 * determinism-guard: real-time — real child processes and sockets, watched by host timers.
 */
import assert from "node:assert/strict"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, it } from "node:test"
import { RemoteClient } from "@partita/node"

const CLI = join(import.meta.dir, "..", "src", "cli.ts")
const WRITERS = 6
const KEYS_PER_WRITER = 4

interface Server {
  readonly child: ChildProcess
  readonly url: string
  readonly output: string[]
  readonly exited: Promise<number | null>
}

/** Starts `partita serve` on the directory and waits for its `listening` line. */
const start = (dir: string): Promise<Server> =>
  new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [CLI, "serve", "--data", dir, "--port", "0", "--nodes", "3", "--routers", "1"],
      { stdio: ["ignore", "pipe", "pipe"] },
    )
    const output: string[] = []
    const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)))
    let buffered = ""
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`the server did not listen within 30 s:\n${output.join("\n")}`))
    }, 30_000)
    child.stderr!.on("data", (c: Buffer) => output.push(c.toString()))
    child.stdout!.on("data", (c: Buffer) => {
      buffered += c.toString()
      const lines = buffered.split("\n")
      buffered = lines.pop()!
      for (const line of lines) {
        output.push(line)
        if (line.startsWith("listening ")) {
          clearTimeout(timer)
          resolve({ child, url: line.slice("listening ".length), output, exited })
        }
      }
    })
    exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`the server exited (${code}) before listening:\n${output.join("\n")}`))
    })
  })

const retrying = async <A>(what: string, f: () => Promise<A>): Promise<A> => {
  let last: unknown
  for (let i = 0; i < 40; i++) {
    try {
      return await f()
    } catch (e) {
      last = e
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  throw new Error(`${what}: ${String(last)}`)
}

/** Writes increasing values to each writer's keys until `stop`; records sent and acknowledged. */
const write = async (
  db: RemoteClient,
  from: number,
  sent: Map<string, number>,
  acked: Map<string, number>,
  stop: () => boolean,
  progress: { acks: number },
): Promise<void> => {
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      for (let v = from; !stop(); v++) {
        const id = `w${w}-k${v % KEYS_PER_WRITER}`
        sent.set(id, v)
        try {
          await db.putItem({ TableName: "served", Item: { id: { S: id }, v: { N: String(v) } } })
          acked.set(id, v)
          progress.acks++
        } catch {
          // Outcome unknown (the server died, or had no leader yet): the check allows either.
          if (stop()) return
        }
      }
    }),
  )
}

/** Every acknowledged write is there, or a later sent one of the same key. */
const check = async (
  db: RemoteClient,
  sent: Map<string, number>,
  acked: Map<string, number>,
): Promise<void> => {
  for (const [id, v] of acked) {
    const got = await retrying(`read ${id}`, () =>
      db.getItem({ TableName: "served", Key: { id: { S: id } }, ConsistentRead: true }),
    )
    const stored = Number((got.Item?.v as { N: string } | undefined)?.N ?? -1)
    assert.ok(stored >= v, `${id}: acknowledged ${v}, stored ${stored}`)
    assert.ok(stored <= sent.get(id)!, `${id}: stored ${stored}, never sent past ${sent.get(id)}`)
  }
}

describe("partita serve, a separate process used over TCP", () => {
  it("loses no acknowledged write when killed with requests in flight, and stops cleanly on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "partita-serve-"))
    const sent = new Map<string, number>()
    const acked = new Map<string, number>()
    const servers: Server[] = []
    try {
      let s = await start(dir)
      servers.push(s)
      let db = new RemoteClient(s.url, { timeoutMs: 5000 })
      await db.createTable({
        TableName: "served",
        KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
        BillingMode: "PAY_PER_REQUEST",
        Partitions: 2,
      })
      const counts: number[] = []
      for (let life = 0; life < 2; life++) {
        // Write until enough are acknowledged, then kill the server with writes in flight.
        let killed = false
        const progress = { acks: 0 }
        const writing = write(db, 1 + life * 100_000, sent, acked, () => killed, progress)
        for (let t = 0; t < 400 && progress.acks < 200; t++) await new Promise((r) => setTimeout(r, 50))
        killed = true
        s.child.kill("SIGKILL")
        assert.equal(await s.exited, null, "killed by a signal")
        await writing
        counts.push(progress.acks)
        s = await start(dir)
        servers.push(s)
        db = new RemoteClient(s.url, { timeoutMs: 5000 })
        await check(db, sent, acked)
      }
      assert.ok(
        counts.every((n) => n > 50),
        `each life acknowledged writes before its kill: ${counts.join(", ")}`,
      )
      // A clean stop, then one more opening: nothing unreadable, everything there.
      s.child.kill("SIGTERM")
      assert.equal(await s.exited, 0)
      assert.ok(
        s.output.some((l) => l.startsWith("partita: stopped")),
        s.output.join("\n"),
      )
      s = await start(dir)
      servers.push(s)
      assert.ok(!s.output.some((l) => l.includes("could not be read")), s.output.join("\n"))
      await check(new RemoteClient(s.url), sent, acked)
      s.child.kill("SIGTERM")
      assert.equal(await s.exited, 0)
    } finally {
      for (const x of servers)
        if (x.child.exitCode === null && x.child.signalCode === null) x.child.kill("SIGKILL")
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
