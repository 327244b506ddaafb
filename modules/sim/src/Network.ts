/**
 * Simulated network: named nodes with availability-zone labels, per-link delay distributions, loss,
 * duplication, reordering (independent random delays; opt-in FIFO links), node crashes, and
 * partitions (node, AZ, arbitrary set-vs-set, one-way) that can be healed. Messages are delivered
 * by scheduler events to the handler registered for the destination node.
 *
 * Partitions and node state are checked twice: when a message is sent and again when it would be
 * delivered, so a partition that starts while a message is in flight drops it too.
 */
import type { Prng } from "./Prng.ts"
import type { Sim } from "./Sim.ts"
import { hashNumber32, hashString32 } from "./internal/hash.ts"

/** Node identifier. */
export type NodeId = string

/** A delay distribution in virtual milliseconds, drawn from the network's PRNG. */
export type Delay = (prng: Prng) => number

/** Delay distribution constructors. */
export const Delay = {
  /** Always `ms`. */
  constant:
    (ms: number): Delay =>
    () =>
      ms,
  /** Uniform in [lo, hi). */
  uniform:
    (lo: number, hi: number): Delay =>
    (p) =>
      p.uniform(lo, hi),
  /** `min` plus an exponential tail with the given mean. */
  exponential:
    (min: number, mean: number): Delay =>
    (p) =>
      min + p.exponential(mean),
  /** Log-normal with the given median and sigma (heavy right tail, like real RPC latencies). */
  lognormal:
    (median: number, sigma: number): Delay =>
    (p) =>
      p.lognormal(median, sigma),
} as const

/** Default intra-AZ one-way delay: ~0.25 ms median, log-normal tail. */
export const DEFAULT_INTRA_AZ_DELAY: Delay = Delay.lognormal(0.25, 0.5)
/** Default cross-AZ one-way delay: ~1 ms median, log-normal tail. */
export const DEFAULT_CROSS_AZ_DELAY: Delay = Delay.lognormal(1, 0.5)

/** Fault and latency properties of a link (any subset; unset fields fall back to the defaults). */
export interface LinkProps {
  readonly delay?: Delay
  /** Probability a message is lost. */
  readonly lossProbability?: number
  /** Probability a message is delivered twice (second copy with its own delay). */
  readonly duplicateProbability?: number
  /** Deliver in send order on this link (like one TCP connection). */
  readonly fifo?: boolean
}

/** Options for a network. */
export interface NetworkOptions<M> {
  /** Name, used for the PRNG substream (default "net"). */
  readonly name?: string
  readonly intraAzDelay?: Delay
  readonly crossAzDelay?: Delay
  readonly lossProbability?: number
  readonly duplicateProbability?: number
  readonly fifo?: boolean
  /** How a message is fed to the trace hash (default: strings and numbers as is, others via JSON). */
  readonly hashMessage?: (msg: M) => number | string
}

/** Receives messages for one node. */
export type Handler<M> = (msg: M, from: NodeId) => void

/** Traffic counters. */
export interface NetworkStats {
  sent: number
  delivered: number
  duplicated: number
  droppedLoss: number
  droppedPartition: number
  droppedNodeDown: number
  droppedNoHandler: number
}

/** Identifier of an installed partition, for `heal`. */
export type PartitionId = number

interface Rule {
  readonly id: PartitionId
  readonly description: string
  readonly blocks: (from: NodeId, to: NodeId) => boolean
}

interface NodeInfo {
  readonly id: NodeId
  readonly az: string
  up: boolean
  handler: Handler<unknown> | undefined
}

const defaultHash = (m: unknown): number | string => {
  if (typeof m === "string" || typeof m === "number") return m
  try {
    return JSON.stringify(m) ?? String(m)
  } catch {
    return String(m)
  }
}

/** A simulated network carrying messages of type `M`. */
export class SimNetwork<M = unknown> {
  private readonly nodes = new Map<NodeId, NodeInfo>()
  private readonly links = new Map<string, LinkProps>()
  private readonly azLinks = new Map<string, LinkProps>()
  private readonly lastFifo = new Map<string, number>()
  private rules: Rule[] = []
  private nextRule = 1
  private readonly prng: Prng
  private readonly opts: NetworkOptions<M>
  private readonly hashMessage: (msg: M) => number | string
  /** Counters since creation. */
  readonly stats: NetworkStats = {
    sent: 0,
    delivered: 0,
    duplicated: 0,
    droppedLoss: 0,
    droppedPartition: 0,
    droppedNodeDown: 0,
    droppedNoHandler: 0,
  }

  /** Create a network on `sim`. */
  constructor(
    readonly sim: Sim,
    opts: NetworkOptions<M> = {},
  ) {
    this.opts = opts
    this.prng = sim.fork(`network:${opts.name ?? "net"}`)
    this.hashMessage = opts.hashMessage ?? (defaultHash as (m: M) => number | string)
  }

  /** Add a node in `az`, optionally with its handler. */
  addNode(id: NodeId, az: string, handler?: Handler<M>): this {
    if (this.nodes.has(id)) throw new Error(`SimNetwork: node ${id} already exists`)
    this.nodes.set(id, { id, az, up: true, handler: handler as Handler<unknown> | undefined })
    return this
  }

  /** Set (or replace, e.g. after a restart) the handler of a node. */
  setHandler(id: NodeId, handler: Handler<M>): void {
    this.node(id).handler = handler as Handler<unknown>
  }

  /** All node ids in insertion order. */
  nodeIds(): NodeId[] {
    return [...this.nodes.keys()]
  }

  /** AZ label of a node. */
  azOf(id: NodeId): string {
    return this.node(id).az
  }

  /** Node ids in an AZ. */
  nodesInAz(az: string): NodeId[] {
    return [...this.nodes.values()].filter((n) => n.az === az).map((n) => n.id)
  }

  /** Mark a node down (crashed: it neither sends nor receives) or up again. */
  setUp(id: NodeId, up: boolean): void {
    this.node(id).up = up
  }

  /** Whether a node is up. */
  isUp(id: NodeId): boolean {
    return this.node(id).up
  }

  /** Override properties of the directed link `from → to` (merged over earlier overrides). */
  setLink(from: NodeId, to: NodeId, props: LinkProps): void {
    const k = linkKey(from, to)
    this.links.set(k, { ...this.links.get(k), ...props })
  }

  /** Override properties of every link from AZ `fromAz` to AZ `toAz`. */
  setAzLink(fromAz: string, toAz: string, props: LinkProps): void {
    const k = linkKey(fromAz, toAz)
    this.azLinks.set(k, { ...this.azLinks.get(k), ...props })
  }

  /** Block traffic from every node in `a` to every node in `b` and, unless `oneWay`, back. */
  partition(a: Iterable<NodeId>, b: Iterable<NodeId>, opts: { oneWay?: boolean } = {}): PartitionId {
    const sa = new Set(a)
    const sb = new Set(b)
    const oneWay = opts.oneWay ?? false
    return this.addRule(
      `${[...sa].join(",")} ${oneWay ? "->" : "<->"} ${[...sb].join(",")}`,
      (f, t) => (sa.has(f) && sb.has(t)) || (!oneWay && sb.has(f) && sa.has(t)),
    )
  }

  /** Cut a node off from every other node (both directions). */
  isolateNode(id: NodeId): PartitionId {
    this.node(id)
    return this.addRule(`isolate ${id}`, (f, t) => (f === id) !== (t === id))
  }

  /** Cut an AZ off from the other AZs (both directions); traffic inside the AZ still flows. */
  isolateAz(az: string): PartitionId {
    return this.addRule(`isolate az ${az}`, (f, t) => (this.azOf(f) === az) !== (this.azOf(t) === az))
  }

  /** Remove one partition, or all of them when called without an id. */
  heal(id?: PartitionId): void {
    this.rules = id === undefined ? [] : this.rules.filter((r) => r.id !== id)
  }

  /** Descriptions of the partitions in force. */
  partitions(): string[] {
    return this.rules.map((r) => `#${r.id} ${r.description}`)
  }

  /** Whether a message from `from` to `to` would currently pass the partitions (ignores loss). */
  canReach(from: NodeId, to: NodeId): boolean {
    if (from === to) return true
    for (const r of this.rules) if (r.blocks(from, to)) return false
    return true
  }

  /**
   * Send `msg`; it is delivered to `to`'s handler after the link's delay unless lost, partitioned or the
   * node is down. Returns false when dropped at send time. Self-sends are delivered (with delay 0).
   */
  send(from: NodeId, to: NodeId, msg: M): boolean {
    const src = this.node(from)
    const dst = this.node(to)
    this.stats.sent++
    if (!src.up || !dst.up) {
      this.stats.droppedNodeDown++
      return false
    }
    if (!this.canReach(from, to)) {
      this.stats.droppedPartition++
      return false
    }
    const link = this.linkProps(src, dst)
    if (from !== to && this.prng.next() < (link.lossProbability ?? 0)) {
      this.stats.droppedLoss++
      return false
    }
    this.deliverLater(src, dst, msg, link)
    if (from !== to && this.prng.next() < (link.duplicateProbability ?? 0)) {
      this.stats.duplicated++
      this.deliverLater(src, dst, msg, link)
    }
    return true
  }

  /** Send `msg` from `from` to every other node. */
  broadcast(from: NodeId, msg: M): void {
    for (const id of this.nodes.keys()) if (id !== from) this.send(from, id, msg)
  }

  private deliverLater(src: NodeInfo, dst: NodeInfo, msg: M, link: LinkProps): void {
    const sched = this.sim.scheduler
    let delay = src === dst ? 0 : Math.max(0, link.delay!(this.prng))
    if (link.fifo === true) {
      const k = linkKey(src.id, dst.id)
      const at = Math.max(sched.now + delay, this.lastFifo.get(k) ?? 0)
      this.lastFifo.set(k, at)
      delay = at - sched.now
    }
    sched.schedule(delay, () => this.deliver(src, dst, msg), "net")
  }

  private deliver(src: NodeInfo, dst: NodeInfo, msg: M): void {
    if (!dst.up) {
      this.stats.droppedNodeDown++
      return
    }
    if (!this.canReach(src.id, dst.id)) {
      this.stats.droppedPartition++
      return
    }
    const h = dst.handler
    if (h === undefined) {
      this.stats.droppedNoHandler++
      return
    }
    this.stats.delivered++
    const trace = this.sim.trace
    trace.u32(hashString32(src.id))
    trace.u32(hashString32(dst.id))
    const mh = this.hashMessage(msg)
    trace.u32(typeof mh === "number" ? hashNumber32(mh) : hashString32(mh))
    h(msg, src.id)
  }

  private linkProps(src: NodeInfo, dst: NodeInfo): LinkProps {
    const sameAz = src.az === dst.az
    const base: LinkProps = {
      delay: sameAz
        ? (this.opts.intraAzDelay ?? DEFAULT_INTRA_AZ_DELAY)
        : (this.opts.crossAzDelay ?? DEFAULT_CROSS_AZ_DELAY),
      lossProbability: this.opts.lossProbability ?? 0,
      duplicateProbability: this.opts.duplicateProbability ?? 0,
      fifo: this.opts.fifo ?? false,
    }
    const az = this.azLinks.get(linkKey(src.az, dst.az))
    const l = this.links.get(linkKey(src.id, dst.id))
    if (az === undefined && l === undefined) return base
    return { ...base, ...az, ...l }
  }

  private addRule(description: string, blocks: (f: NodeId, t: NodeId) => boolean): PartitionId {
    const id = this.nextRule++
    this.rules.push({ id, description, blocks })
    return id
  }

  private node(id: NodeId): NodeInfo {
    const n = this.nodes.get(id)
    if (n === undefined) throw new Error(`SimNetwork: unknown node ${id}`)
    return n
  }
}

const linkKey = (a: string, b: string): string => `${a}\u0000${b}`
