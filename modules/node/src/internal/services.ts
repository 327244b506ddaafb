/**
 * Endpoints of the shared services on the cluster transport: MemDS fleet nodes (`@partita/memds`'s
 * pure `MemDSNode`) and GAC servers (`@partita/admission`'s pure `GacServerCore`), each driven by
 * messages and its own tick.
 */
import { defaultGacOptions, GacRing, GacServerCore } from "@partita/admission"
import { MemDSNode } from "@partita/memds"
import type { Runtime } from "./runtime.ts"

/** MemDS fleet tick (catch-up, gossip), ms. */
export const MEMDS_TICK_MS = 50
/** GAC sweep period, ms. */
export const GAC_SWEEP_MS = 1000

/** A MemDS node on the transport. */
export class MemDSEndpoint {
  readonly node: MemDSNode
  private up = true
  constructor(
    readonly runtime: Runtime,
    readonly id: string,
    readonly az: string,
    peers: ReadonlyArray<string>,
    sequencer: boolean,
  ) {
    this.node = new MemDSNode({ id, peers: peers.filter((p) => p !== id), sequencer })
    runtime.transport.register(id, az, (msg, from) => {
      if (!this.up || msg.t !== "memds") return
      const m = msg.m
      // A lookup (one per routed request, the constant-work rule) is answered directly, without
      // the list of outbound messages `step` returns.
      if (m.type === "lookup")
        runtime.transport.send(id, from, { t: "memds", m: this.node.lookup(m.id, m.key, m.minVersion) })
      else this.send(this.node.step(runtime.now(), from, m))
    })
    const loop = (): void => {
      if (this.up) this.send(this.node.tick(runtime.now()))
      runtime.schedule(MEMDS_TICK_MS, loop)
    }
    runtime.schedule(MEMDS_TICK_MS, loop)
  }
  private send(outs: ReadonlyArray<{ to: string; msg: import("@partita/memds").FleetMsg }>): void {
    for (const o of outs) this.runtime.transport.send(this.id, o.to, { t: "memds", m: o.msg })
  }
}

/** A GAC server on the transport. */
export class GacEndpoint {
  readonly core: GacServerCore
  constructor(
    readonly runtime: Runtime,
    readonly id: string,
    readonly az: string,
    ring: GacRing,
  ) {
    this.core = new GacServerCore(id, runtime.now(), defaultGacOptions, ring)
    runtime.transport.register(id, az, (msg, from) => {
      if (msg.t !== "gac-report") return
      const g = this.core.onReport(msg.r, runtime.now())
      runtime.transport.send(id, from, { t: "gac-grant", g })
    })
    const loop = (): void => {
      this.core.sweep(runtime.now())
      runtime.schedule(GAC_SWEEP_MS, loop)
    }
    runtime.schedule(GAC_SWEEP_MS, loop)
  }
}

/** The GAC ring over server ids. */
export const makeGacRing = (ids: ReadonlyArray<string>): GacRing => new GacRing(ids)
