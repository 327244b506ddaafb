/**
 * `partita serve`: a real-time cluster in this process, served on DynamoDB's wire protocol over
 * TCP, so other processes (the AWS SDKs and CLI, `RemoteClient`, `curl`) use it. With `--data`,
 * everything is kept under that directory and opened again by the next `serve` on it; without,
 * the cluster lives in memory. SIGINT or SIGTERM closes the server and stops the cluster cleanly
 * (each WAL's fsynced length recorded); a process killed outright loses no acknowledged write.
 *
 * Prints one line `listening <url>` once it takes requests (a supervisor or test can wait for it).
 */
import { resolve } from "node:path"
import {
  Client,
  type LocalCluster,
  localCluster,
  localClusterWithDataDir,
  serveDynamoDB,
} from "@partita/node"

const intFlag = (flags: Map<string, string | true>, name: string, fallback: number, min: number): number => {
  const v = flags.get(name)
  if (v === undefined) return fallback
  const n = typeof v === "string" ? Number(v) : Number.NaN
  if (!Number.isInteger(n) || n < min)
    throw new Error(`--${name} must be an integer of at least ${min}, got '${v}'`)
  return n
}

/** Runs the server until a signal; resolves with the exit code. */
export const serveMain = async (flags: Map<string, string | true>): Promise<number> => {
  const port = intFlag(flags, "port", 8000, 0)
  const nodes = intFlag(flags, "nodes", 9, 3)
  const routers = intFlag(flags, "routers", 2, 1)
  const host = flags.get("host")
  if (host === true) throw new Error("--host needs an address")
  const data = flags.get("data")
  if (data === true) throw new Error("--data needs a directory")
  const config = { nodes, routers }
  const c: LocalCluster =
    data === undefined ? localCluster(config) : await localClusterWithDataDir(resolve(data), config)
  let server: Awaited<ReturnType<typeof serveDynamoDB>>
  try {
    server = await serveDynamoDB(new Client(c.meta, c.routers), { port, host })
  } catch (e) {
    c.stop()
    throw e
  }
  const where = data === undefined ? "in memory" : `data in ${resolve(data)}`
  console.log(
    `partita: DynamoDB API on ${server.url} (${nodes} storage nodes in 3 AZs, ${routers} routers, ${where})`,
  )
  if (c.unreadable.length > 0)
    console.log(
      `partita: ${c.unreadable.length} replica(s) could not be read and are rebuilt by their groups`,
    )
  console.log(`listening ${server.url}`)
  return new Promise<number>((done) => {
    let stopping = false
    const stop = (signal: string): void => {
      if (stopping) return
      stopping = true
      console.log(`partita: ${signal}: closing`)
      server.close().then(() => {
        c.stop()
        console.log(
          `partita: stopped (${server.counters.ok} answered, ${server.counters.errors} DynamoDB errors, ${server.counters.refused} refused, ${server.counters.internal} internal)`,
        )
        done(0)
      })
    }
    process.on("SIGINT", () => stop("SIGINT"))
    process.on("SIGTERM", () => stop("SIGTERM"))
  })
}
