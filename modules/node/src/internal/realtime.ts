// determinism-guard: real-time — this file is the real-time runtime: it reads the host clock and
// uses host timers on purpose (the simulation never loads it; everything else takes time as input).
/**
 * The real-time runtime: `performance.now()` as the clock, host timers, `Math.random` and an
 * in-process transport that delivers messages in batches on the next macrotask.
 */
import { NodeFileSystem } from "@effect/platform-node"
import { DirectoryObjectStoreLayer, ObjectStore } from "@partita/paxos"
import { IdRing } from "@partita/core"
import { Effect, Layer } from "effect"
import { Cluster, type ClusterConfig } from "./cluster.ts"
import type { NodeMsg } from "./messages.ts"
import type { MessageHandler, Runtime, TimerHandle, Transport } from "./runtime.ts"

type Immediate = (fn: () => void) => unknown
const later: Immediate =
  typeof (globalThis as { setImmediate?: Immediate }).setImmediate === "function"
    ? (globalThis as unknown as { setImmediate: Immediate }).setImmediate
    : (fn) => setTimeout(fn, 0)

/** Messages delivered per macrotask at most. */
export const DRAIN_MESSAGES_MAX = 2048

/** Host time, timers and an in-process transport. */
export class RealTimeRuntime implements Runtime {
  readonly simulated = false
  readonly transport: Transport
  private readonly handlers = new Map<string, MessageHandler>()
  private readonly down = new Set<string>()
  /**
   * Messages waiting for the next drain, as three parallel arrays (no object per message: a
   * write sends about eight) that two buffers take turns at: sends during a drain go to the
   * other one, and a drained buffer's slots are cleared and reused.
   */
  private qFrom: string[] = []
  private qTo: string[] = []
  private qMsg: Array<NodeMsg | undefined> = []
  private qLen = 0
  private spareFrom: string[] = []
  private spareTo: string[] = []
  private spareMsg: Array<NodeMsg | undefined> = []
  private readonly drainNow = (): void => this.drain()
  private scheduled = false
  /** Pending host timers by handle (an `IdRing`: about a thousand are set and fired a second). */
  private readonly timers = new IdRing<ReturnType<typeof setTimeout>>()
  private nextTimer = 1
  private stopped = false
  private readonly t0 = performance.now()
  /** Messages delivered. */
  delivered = 0

  constructor() {
    this.transport = {
      register: (id, _az, h) => {
        this.handlers.set(id, h)
      },
      send: (from, to, msg) => {
        if (this.down.has(from) || this.down.has(to)) return
        const i = this.qLen++
        this.qFrom[i] = from
        this.qTo[i] = to
        this.qMsg[i] = msg
        if (!this.scheduled) {
          this.scheduled = true
          later(this.drainNow)
        }
      },
      isUp: (id) => !this.down.has(id),
      setUp: (id, up) => {
        if (up) this.down.delete(id)
        else this.down.add(id)
      },
    }
  }

  private drain(): void {
    this.scheduled = false
    if (this.stopped) return
    // Take the queue; sends from the handlers go to the spare buffer meanwhile.
    const from = this.qFrom
    const to = this.qTo
    const msgs = this.qMsg
    const len = this.qLen
    this.qFrom = this.spareFrom
    this.qTo = this.spareTo
    this.qMsg = this.spareMsg
    this.qLen = 0
    // Bounded work per macrotask so timers (ticks, leases, the load generator) are not starved.
    const n = Math.min(len, DRAIN_MESSAGES_MAX)
    for (let i = 0; i < n; i++) {
      const dest = to[i]!
      const msg = msgs[i]!
      msgs[i] = undefined
      if (this.down.has(dest)) continue
      this.delivered++
      this.handlers.get(dest)?.(msg, from[i]!)
    }
    if (n < len) {
      // A backlog past the bound: it goes first, before what was sent during this drain.
      const restFrom = from.slice(n, len)
      const restTo = to.slice(n, len)
      const restMsg = msgs.slice(n, len)
      for (let i = n; i < len; i++) msgs[i] = undefined
      for (let i = 0; i < this.qLen; i++) {
        restFrom.push(this.qFrom[i]!)
        restTo.push(this.qTo[i]!)
        restMsg.push(this.qMsg[i])
        this.qMsg[i] = undefined
      }
      this.spareFrom = this.qFrom
      this.spareTo = this.qTo
      this.spareMsg = this.qMsg
      this.qFrom = restFrom
      this.qTo = restTo
      this.qMsg = restMsg
      this.qLen = restFrom.length
    } else {
      this.spareFrom = from
      this.spareTo = to
      this.spareMsg = msgs
    }
    if (this.qLen > 0 && !this.scheduled) {
      this.scheduled = true
      later(this.drainNow)
    }
  }

  /** Messages sent and not yet delivered (a load generator that shares the thread can wait while there are none). */
  get pending(): number {
    return this.qLen
  }

  now(): number {
    return performance.now() - this.t0
  }
  continuingNow(): number {
    return performance.timeOrigin + performance.now()
  }
  schedule(delayMs: number, fn: () => void): TimerHandle {
    if (this.stopped) return 0
    const id = this.nextTimer++
    this.timers.set(
      id,
      setTimeout(() => {
        this.timers.delete(id)
        if (!this.stopped) fn()
      }, delayMs),
    )
    return id
  }
  cancel(handle: TimerHandle | undefined): void {
    if (typeof handle !== "number") return
    const t = this.timers.take(handle)
    if (t !== undefined) clearTimeout(t)
  }
  defer(fn: () => void): void {
    queueMicrotask(fn)
  }
  random(): number {
    return Math.random()
  }
  /** Stops every timer and delivery (the cluster shuts down). */
  stop(): void {
    this.stopped = true
    for (const t of this.timers.valuesInOrder()) clearTimeout(t)
    this.timers.clear()
    this.qFrom = []
    this.qTo = []
    this.qMsg = []
    this.qLen = 0
  }
}

/** A cluster on real time in this process. */
export class LocalCluster extends Cluster {
  readonly realtime: RealTimeRuntime
  constructor(config: ClusterConfig = {}) {
    const rt = new RealTimeRuntime()
    try {
      super(rt, config)
    } catch (e) {
      // (A data directory that does not fit the config: nothing of this cluster keeps running.)
      rt.stop()
      throw e
    }
    this.realtime = rt
  }
  /** Waits `ms` of real time. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms))
  }
  /** Shuts the cluster down (all timers stop). */
  stop(): void {
    this.realtime.stop()
    for (const n of this.nodes.values()) n.closeDisk()
  }
}

/** Builds a real-time in-process cluster. */
export const localCluster = (config: ClusterConfig = {}): LocalCluster => new LocalCluster(config)

/**
 * Builds a real-time cluster that keeps its files under `dataDir`, or opens the one a previous
 * process left there: each storage node's replica WALs and state files under
 * `dataDir/nodes/<node>/` (`ClusterConfig.walDir`, unless the config names another), the metadata
 * service's state in `dataDir/metadata.json`, and the WAL archive under `dataDir/archive` (the
 * object store of `@partita/paxos`'s `DirectoryObjectStoreLayer`, on the Node file system). Open
 * a directory with the same number of nodes and AZs it was made with.
 */
export const localClusterWithDataDir = async (
  dataDir: string,
  config: ClusterConfig = {},
): Promise<LocalCluster> => {
  const store = await Effect.runPromise(
    ObjectStore.pipe(
      Effect.provide(
        DirectoryObjectStoreLayer(`${dataDir}/archive`).pipe(Layer.provide(NodeFileSystem.layer)),
      ),
    ),
  )
  return new LocalCluster({
    walDir: `${dataDir}/nodes`,
    metadataFile: `${dataDir}/metadata.json`,
    // Unique to this process: request ids never repeat those of an earlier process on this data.
    routerIncarnation: `${Date.now().toString(36)}.${Math.floor(Math.random() * 36 ** 4).toString(36)}`,
    ...config,
    archive: { ...config.archive, store, async: true },
  })
}
