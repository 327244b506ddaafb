/**
 * Young-generation collections after requests (Bun only: `bun:jsc`).
 *
 *   bun modules/node/bench/young-gc.ts
 *
 * A 9-node real-time cluster as in `index.ts` (128 partitions, 10,000 keys of 1 KB, warmed with
 * 60,000 reads). Then, twelve times: 10,000 closed-loop requests (64 outstanding), and a
 * synchronous Eden collection (`edenGC()`) timed right after; and five times a collection after
 * 150 ms idle, the baseline. A collection after requests costs more than the baseline only by what
 * the requests left for it to mark: objects still alive, or objects it cannot tell are dead (a
 * `Map` set and deleted per request kept its deleted entries' values visible to it; see
 * `@partita/core`'s `IdRing`). One router or three (`--routers 1`).
 *
 * Writes results/node/young-gc.json and results/node/young-gc.md.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { edenGC, fullGC } from "bun:jsc"
import { CallbackClient, localCluster } from "@partita/node"

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const ROUTERS = arg("routers", 3)
const KEYS = 10_000
const PER_ROUND = 10_000
const payload = "x".repeat(1024 - 40)
const keys = Array.from({ length: KEYS }, (_, i) => `key-${i.toString().padStart(6, "0")}`)
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

const c = localCluster({ nodes: 9, routers: ROUTERS, memds: 3, gac: 2 })
const client = new CallbackClient(c.meta, c.routers)
const made = c.meta.createTable({
  TableName: "bench",
  KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
  AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
  BillingMode: "PAY_PER_REQUEST",
  Partitions: 128,
  WarmThroughput: { ReadUnitsPerSecond: 1_000_000, WriteUnitsPerSecond: 1_000_000 },
})
if (made._tag === "Left") throw made.left
type Op = "put" | "get-eventual" | "get-strong"
const run = (op: Op, n: number, outstanding: number): Promise<void> =>
  new Promise((resolve) => {
    let next = 0
    let left = n
    const go = (): void => {
      if (next >= n) return
      const k = (next++ * 7919) % KEYS
      const done = (): void => {
        if (--left === 0) resolve()
        else go()
      }
      if (op === "put")
        client.putItem({ TableName: "bench", Item: { id: { S: keys[k]! }, payload: { S: payload } } }, done)
      else
        client.getItem(
          { TableName: "bench", Key: { id: { S: keys[k]! } }, ConsistentRead: op === "get-strong" },
          done,
        )
    }
    for (let i = 0; i < outstanding; i++) go()
  })
const figures: Array<{ op: Op; afterRequestsMs: number; idleMs: number; rounds: number[] }> = []
try {
  await c.sleep(2500)
  await run("put", KEYS, 256)
  await run("get-eventual", 60_000, 64)
  for (const op of ["get-eventual", "get-strong", "put"] as const) {
    fullGC()
    const rounds: number[] = []
    for (let r = 0; r < 12; r++) {
      await run(op, op === "put" ? PER_ROUND / 2 : PER_ROUND, 64)
      const t = performance.now()
      edenGC()
      rounds.push(performance.now() - t)
    }
    const idle: number[] = []
    for (let r = 0; r < 5; r++) {
      await c.sleep(150)
      const t = performance.now()
      edenGC()
      idle.push(performance.now() - t)
    }
    figures.push({ op, afterRequestsMs: median(rounds), idleMs: median(idle), rounds })
  }
} finally {
  c.stop()
}
const lines = [
  `# Young collections after requests (${ROUTERS} router${ROUTERS === 1 ? "" : "s"})`,
  "",
  "Median of 12 synchronous Eden collections (`bun:jsc` `edenGC()`), each right after 10,000 closed-loop requests (5,000 for put), against 5 after 150 ms idle.",
  "",
  "| requests | Eden after requests, ms | Eden after idle, ms |",
  "|---|---:|---:|",
  ...figures.map((f) => `| ${f.op} | ${f.afterRequestsMs.toFixed(2)} | ${f.idleMs.toFixed(2)} |`),
  "",
]
const out = join(dirname(fileURLToPath(import.meta.url)), "../../../results/node")
mkdirSync(out, { recursive: true })
const name = ROUTERS === 3 ? "young-gc" : `young-gc-${ROUTERS}-routers`
writeFileSync(join(out, `${name}.json`), `${JSON.stringify({ routers: ROUTERS, figures }, null, 2)}\n`)
writeFileSync(join(out, `${name}.md`), lines.join("\n"))
console.log(lines.join("\n"))
process.exit(0)
