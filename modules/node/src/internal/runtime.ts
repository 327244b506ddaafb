/**
 * The runtime every component of a cluster runs on: a clock, timers, randomness and a message
 * transport. Components never touch real time themselves; the simulated runtime drives them from
 * the sim kit's scheduler and network (deterministic per seed), the real-time runtime from the
 * host's timers (see `realtime.ts`).
 */
import { type Prng, type Sim, SimNetwork, type TimerId } from "@partita/sim"
import type { NodeMsg } from "./messages.ts"

/** Receives one message. */
export type MessageHandler = (msg: NodeMsg, from: string) => void

/** A message transport between named endpoints (nodes, routers, MemDS, GAC, metadata). */
export interface Transport {
  /** Registers an endpoint in an AZ with its handler (replacing the handler if it exists). */
  register(id: string, az: string, handler: MessageHandler): void
  /** Sends a message; delivery is asynchronous and may fail silently (crash, partition). */
  send(from: string, to: string, msg: NodeMsg): void
  /** Whether the endpoint is up (not crashed). */
  isUp(id: string): boolean
  /** Crashes (false) or restarts (true) an endpoint: a down endpoint sends and receives nothing. */
  setUp(id: string, up: boolean): void
}

/** An opaque timer handle. */
export type TimerHandle = unknown

/** Clock, timers, randomness and transport. */
export interface Runtime {
  /** Current time, ms. */
  now(): number
  /**
   * Time that goes on across processes, ms (the real-time runtime: wall-clock time at the start
   * plus the monotonic time since). Stamps that a later process compares (request ids' in the
   * log) use it; without it, `now()`.
   */
  continuingNow?(): number
  /** Runs `fn` after `delayMs`; returns a handle for `cancel`. */
  schedule(delayMs: number, fn: () => void): TimerHandle
  /** Cancels a scheduled call (no-op if it already ran or the handle is undefined). */
  cancel(handle: TimerHandle | undefined): void
  /** Runs `fn` after the current event, before time advances (used to batch work). */
  defer(fn: () => void): void
  /** A uniform number in [0, 1). */
  random(): number
  readonly transport: Transport
  /** True for the deterministic simulation. */
  readonly simulated: boolean
}

/** The simulated runtime: virtual time and the sim kit's network (delays, loss, partitions). */
export class SimRuntime implements Runtime {
  readonly simulated = true
  readonly net: SimNetwork<NodeMsg>
  readonly transport: Transport
  private readonly prng: Prng

  constructor(
    readonly sim: Sim,
    /** Deferred work sometimes runs late (`ClusterConfig.lateDefer`). */
    private readonly lateDefer = false,
  ) {
    this.prng = sim.fork("node-runtime")
    this.net = new SimNetwork<NodeMsg>(sim, { name: "cluster", hashMessage: (m) => m.t })
    const net = this.net
    this.transport = {
      register: (id, az, handler) => {
        if (net.nodeIds().includes(id)) net.setHandler(id, handler)
        else net.addNode(id, az, handler)
      },
      send: (from, to, msg) => {
        net.send(from, to, msg)
      },
      isUp: (id) => net.isUp(id),
      setUp: (id, up) => net.setUp(id, up),
    }
  }

  now(): number {
    return this.sim.now
  }
  schedule(delayMs: number, fn: () => void): TimerHandle {
    return this.sim.schedule(delayMs, fn)
  }
  cancel(handle: TimerHandle | undefined): void {
    if (handle !== undefined) this.sim.scheduler.cancel(handle as TimerId)
  }
  defer(fn: () => void): void {
    // BUGGIFY (opt-in): a deferred step sometimes runs after what arrives in the next half
    // millisecond, as on real time, where the transport delivers a whole batch of messages before
    // any deferred work runs: a leader then sees requests after an acceptance has moved its commit
    // index and before it has applied it (see `Replica.decides`).
    const late = this.lateDefer && this.sim.buggifySite("node.defer-late")
    this.sim.schedule(late ? this.prng.next() * 0.5 : 0, fn)
  }
  random(): number {
    return this.prng.next()
  }
}
