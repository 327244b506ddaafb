/**
 * A whole cluster from one config: storage nodes across AZs, request routers, a MemDS fleet, GAC
 * servers and the metadata service, on any `Runtime` — the deterministic simulation (`simCluster`)
 * or real time with an in-process transport (`localCluster`, see `realtime.ts`).
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs"
import { dirname, join } from "node:path"
import { Sim, SimDisk } from "@partita/sim"
import { Effect } from "effect"
import { MemoryObjectStore, type ObjectStoreService } from "@partita/paxos"
import { Directory } from "./directory.ts"
import { type AutoSplitOptions, type ClusterEvent, MetadataService, type MetadataState } from "./metadata.ts"
import { Client } from "./client.ts"
import { DEDUPE_WINDOW_MS_DEFAULT, type PaxosTiming, type Replica, type ReplicaCounters } from "./replica.ts"
import { RequestRouter, type TableCatalog } from "./router.ts"
import { type Runtime, SimRuntime } from "./runtime.ts"
import { ClusterScrub, type NodeScrubEvent, type ScrubConfig, scrubBackground } from "./scrub.ts"
import type { ScrubMetrics } from "@partita/scrubber"
import { GacEndpoint, MemDSEndpoint, makeGacRing } from "./services.ts"
import { StorageNode } from "./storageNode.ts"
import type { DiskCrashMode, WalDisk } from "./wal.ts"
import { FileDisk } from "./fileDisk.ts"

/** Everything a cluster is built from. */
export interface ClusterConfig {
  /** Storage nodes (spread round-robin over the AZs). Default 9. */
  readonly nodes?: number
  /** AZ names. Default ["az1", "az2", "az3"]. */
  readonly azs?: ReadonlyArray<string>
  /** Request routers. Default 2. */
  readonly routers?: number
  /** MemDS fleet size. Default 3. */
  readonly memds?: number
  /** GAC servers. Default 2. */
  readonly gac?: number
  /** Paxos timing. */
  readonly timing?: Partial<PaxosTiming>
  /** Node tick, ms. */
  readonly nodeTickMs?: number
  /** Node capacity (units/s and bytes). */
  readonly nodeCapacity?: { readonly rcu: number; readonly wcu: number; readonly bytes: number }
  /** Failure detection, ms. */
  readonly failureDetectMs?: number
  /** Replace failed replicas with log replicas. Default true. */
  readonly heal?: boolean
  /** Router request deadline and attempt timeout, ms. */
  readonly deadlineMs?: number
  /**
   * Part of the routers' request ids (`RouterOptions.incarnation`): unique per process for a
   * cluster a later process opens again (`localClusterWithDataDir` sets one).
   */
  readonly routerIncarnation?: string
  /**
   * Real time, with `walDir`: the metadata service's state is kept in this file (written whole,
   * fsynced and renamed after each change) and, if the file exists, opened again with the nodes'
   * replicas from their WALs and state files (`localClusterWithDataDir`).
   */
  readonly metadataFile?: string
  readonly attemptTimeoutMs?: number
  /** Routing cache discipline. Default constant-work. */
  readonly cacheMode?: "constant-work" | "conventional"
  /** Test canary: routers serve strong reads from any replica (the checks must catch it). */
  readonly canaryStrongReadsAnywhere?: boolean
  /**
   * Simulation only: deferred work (a node's flush, a loopback message, a client callback)
   * sometimes runs up to half a millisecond late, after messages that arrive meanwhile, as on real
   * time (a BUGGIFY site, `node.defer-late`). Off by default: with it, seeded stress runs find a
   * known liveness gap in healing (see the module README, "Not done").
   */
  readonly lateDefer?: boolean
  /** Disable router admission (GAC) entirely. */
  readonly admission?: boolean
  /**
   * Provisioned tables' partition allocations: each at the partition maximum with GAC enforcing
   * the table's rate (default), or the table's rate split evenly (`MetadataOptions`).
   */
  readonly partitionAllocation?: "partition-max" | "even"
  /** Adaptive capacity over the partition buckets (default on; `false`: off). */
  readonly adaptiveCapacity?: false | { readonly intervalMs?: number; readonly gainPermille?: number }
  /** Archive every partition's WAL to an in-memory object store (`cluster.objectStore`). */
  readonly archive?: {
    readonly entriesPerSegment?: number
    /** Another object store (default: in memory); `async` when its operations do real I/O. */
    readonly store?: ObjectStoreService
    readonly async?: boolean
  }
  /** Automatic splits for consumption and size (off by default). */
  readonly autoSplit?: AutoSplitOptions
  /** Receives structured events (splits, failures, heals, leader changes); see also `effectLogger`. */
  readonly onEvent?: (e: ClusterEvent) => void
  /** Background hook run on every storage node (the scrubber's seam). */
  readonly background?: { readonly everyMs: number; readonly run: (node: StorageNode) => void }
  /**
   * Run `@partita/scrubber` underneath (see `scrub.ts`): each partition is verified by one of its
   * nodes, under a byte-rate limit, against its other replicas and the archive reference. Off
   * by default; without `archive` only the node-side checks run (`replicasOnly`).
   */
  readonly scrub?: ScrubConfig
  /**
   * Real time only: each storage node keeps its replicas' logs as WAL files under
   * `<walDir>/<node id>/wal/` (`FileDisk`; fsynced before anything that rests on them is sent, and
   * read back when the node restarts). `localClusterWithDataDir` sets it to `<dataDir>/nodes`.
   */
  readonly walDir?: string
  /**
   * Simulation only: each storage node keeps its replicas' logs as WALs on a `SimDisk` (fsynced
   * before anything is sent; a crash keeps some, none or torn pieces of what was not fsynced, and
   * the node recovers from the frames). The options are the disk's crash probabilities.
   */
  readonly disk?: {
    readonly crashKeepProbability?: number
    readonly crashTornProbability?: number
    readonly sectorBytes?: number
    /** Test canary: WAL appends are never fsynced (acknowledged writes can be lost: the checks must catch it). */
    readonly canaryNoFsync?: boolean
    /**
     * Keep replicas' specs, split bases and snapshots as files beside the WALs, and restart from
     * the disk alone, as a new process opening a data directory does (`StorageNode.reopen`).
     * Default true; false keeps them as objects that survive a crash whole.
     */
    readonly stateFiles?: boolean
  }
}

/** Entries per archived WAL segment by default. */
export const ARCHIVE_SEGMENT_ENTRIES = 256

/** Default Paxos timing (ms). */
export const TIMING_DEFAULT: PaxosTiming = { electionTimeoutMs: 1000, heartbeatMs: 100, leaseMs: 800 }

/** A running cluster. */
export class Cluster {
  readonly dir: Directory
  readonly nodes = new Map<string, StorageNode>()
  readonly routers: RequestRouter[] = []
  readonly memds: MemDSEndpoint[] = []
  readonly gac: GacEndpoint[] = []
  readonly meta: MetadataService
  readonly azs: ReadonlyArray<string>
  /** The in-memory object store holding WAL archives (when `config.archive` is set without a store). */
  readonly objectStore: MemoryObjectStore | undefined
  /** The object store the WAL archives go to, if any. */
  readonly archiveStore: ObjectStoreService | undefined
  /** The scrubbers running underneath (when `config.scrub` is set). */
  readonly scrub: ClusterScrub | undefined
  /**
   * Opened again from a data directory (`config.metadataFile`): replicas whose files could not be
   * read (`<node>/<partition>`), left for their groups to rebuild.
   */
  readonly unreadable: ReadonlyArray<string>

  constructor(
    readonly runtime: Runtime,
    readonly config: ClusterConfig = {},
  ) {
    // The parts are built in this order (MemDS and GAC, storage and metadata, routers): the
    // simulation's event order, and so every seed's run, depends on it.
    const services = buildServices(runtime, config)
    this.azs = services.azs
    this.memds.push(...services.memds)
    this.gac.push(...services.gac)
    const storage = buildStorage(runtime, config, services.memdsIds[0]!)
    this.dir = storage.dir
    this.objectStore = storage.objectStore
    this.archiveStore = storage.archiveStore
    this.scrub = storage.scrub
    this.unreadable = storage.unreadable
    this.meta = storage.meta
    for (const [id, n] of storage.nodes) this.nodes.set(id, n)
    this.routers.push(...buildRouters(runtime, config, this.meta, services))
  }

  /** A Promise client over this cluster's routers. */
  client(): Client {
    return new Client(this.meta, this.routers)
  }

  /** A storage node by id. */
  node(id: string): StorageNode {
    const n = this.nodes.get(id)
    if (n === undefined) throw new Error(`no storage node ${id}`)
    return n
  }

  /** Every replica of a partition, by node. */
  replicasOf(partitionId: string): Array<{ node: string; replica: Replica }> {
    const out: Array<{ node: string; replica: Replica }> = []
    for (const [id, n] of this.nodes) {
      const r = n.replicas.get(partitionId)
      if (r !== undefined) out.push({ node: id, replica: r })
    }
    return out
  }

  /** Scrub events so far: detections, repairs, unrecoverable damage (empty without `config.scrub`). */
  scrubEvents(): ReadonlyArray<NodeScrubEvent> {
    return this.scrub?.events() ?? []
  }

  /** The scrubbers' metrics, all nodes together (undefined without `config.scrub`). */
  scrubMetrics(): ScrubMetrics | undefined {
    return this.scrub?.metrics()
  }

  /** The node currently leading a partition (established leader), if any. */
  leaderOf(partitionId: string): string | undefined {
    return this.replicasOf(partitionId).find((x) => x.replica.isLeader())?.node
  }

  // ------------------------------------------------------------------------------------------
  // Faults

  /** Crashes a storage node (durable logs survive). */
  killNode(id: string): void {
    this.node(id).crash()
  }
  /** Crashes a node and destroys its disk: it restarts (with `restartNode`) empty. */
  wipeNode(id: string): void {
    this.node(id).wipe()
  }
  /**
   * Power loss at a node's next WAL write, before its fsync (`config.disk`): `"random"` keeps
   * some pieces of that write, torn or whole; `"lose-all"` keeps none. Restart it with
   * `restartNode`.
   */
  crashDuringNextWrite(id: string, mode: DiskCrashMode | undefined): void {
    this.node(id).crashDuringNextWrite(mode)
  }
  /**
   * Bit rot in a node's WAL files (`config.disk`): `bits` random bits flipped in each (or one bit
   * at byte `at` of each); returns how many. Best done while the node is down (`killNode`, then `restartNode`): the WAL is read
   * back only by a recovery.
   */
  rotWal(id: string, bits = 1, at?: number): number {
    return this.node(id).rotWal(bits, at)
  }
  /**
   * Makes a node's next `count` fsyncs fail (`config.disk`): each replica whose WAL fsync fails
   * stops, the node gives it up, and the metadata service replaces it.
   */
  failNextFsync(id: string, count = 1): void {
    this.node(id).failNextFsync(count)
  }
  /** Misdirects a node's next `count` disk writes (`config.disk`; see `StorageNode.misdirectNextWrite`). */
  misdirectNextWrite(id: string, count = 1): void {
    this.node(id).misdirectNextWrite(count)
  }
  /** Restarts a crashed node (replicas recover from their logs). */
  restartNode(id: string): void {
    this.node(id).restart()
  }
  /** Crashes the leader of a partition; returns its node id. */
  killLeader(partitionId: string): string | undefined {
    const l = this.leaderOf(partitionId)
    if (l !== undefined) this.killNode(l)
    return l
  }

  /** Per-node and per-router counters and the metadata service's heal events. */
  metrics(): ClusterMetrics {
    const nodes: ClusterMetrics["nodes"] = {}
    for (const [id, n] of this.nodes) {
      const parts: Record<
        string,
        ReplicaCounters & { leader: boolean; role: string; items: number; bytes: number }
      > = {}
      for (const [pid, r] of n.replicas)
        parts[pid] = {
          ...r.counters,
          leader: r.isLeader(),
          role: r.spec.role,
          items: r.tree.size,
          bytes: r.bytes(),
        }
      nodes[id] = { up: n.isUp, ...n.counters, unreadableReplicas: n.unreadable.length, partitions: parts }
    }
    const routers: ClusterMetrics["routers"] = {}
    for (const r of this.routers) {
      const tables: Record<string, unknown> = {}
      for (const [t, m] of r.metrics.tables) {
        const lat: Record<string, unknown> = {}
        for (const [op, h] of Object.entries(m.latency)) lat[op] = h.summary()
        tables[t] = { ...m, latency: lat }
      }
      routers[r.id] = { ...r.counters, cache: r.cache.metrics(), tables }
    }
    const leaderChanges: Record<string, number> = {}
    for (const e of this.meta.events)
      if (e.type === "leader" && e.leader) leaderChanges[e.partition] = (leaderChanges[e.partition] ?? 0) + 1
    return { nodes, routers, heals: [...this.meta.heals], splits: this.meta.counters.splits, leaderChanges }
  }
}

/** The shared services of a cluster: the MemDS fleet and the GAC servers. */
export interface ClusterServices {
  readonly azs: ReadonlyArray<string>
  readonly memdsIds: ReadonlyArray<string>
  readonly gacIds: ReadonlyArray<string>
  readonly memds: ReadonlyArray<MemDSEndpoint>
  readonly gac: ReadonlyArray<GacEndpoint>
}

/** Builds the MemDS fleet and the GAC servers of `config` on `runtime`. */
export const buildServices = (runtime: Runtime, config: ClusterConfig): ClusterServices => {
  const azs = config.azs ?? ["az1", "az2", "az3"]
  const memdsIds = Array.from({ length: config.memds ?? 3 }, (_, i) => `mds${i}`)
  const gacIds = Array.from({ length: config.gac ?? 2 }, (_, i) => `gac${i}`)
  const memds = memdsIds.map(
    (id, i) => new MemDSEndpoint(runtime, id, azs[i % azs.length]!, memdsIds, i === 0),
  )
  const ring = makeGacRing(gacIds)
  const gac = gacIds.map((id, i) => new GacEndpoint(runtime, id, azs[i % azs.length]!, ring))
  return { azs, memdsIds, gacIds, memds, gac }
}

/** The storage side of a cluster: storage nodes, the metadata service, archive and scrubbers. */
export interface ClusterStorage {
  readonly dir: Directory
  readonly nodes: Map<string, StorageNode>
  readonly meta: MetadataService
  readonly objectStore: MemoryObjectStore | undefined
  readonly archiveStore: ObjectStoreService | undefined
  readonly scrub: ClusterScrub | undefined
  /** Opened again from a data directory: replicas whose state could not be read (`<node>/<partition>`). */
  readonly unreadable: ReadonlyArray<string>
}

/** Writes `text` as `file`: to a temporary file, fsynced, renamed over it, the directory fsynced. */
const writeFileDurably = (file: string, text: string): void => {
  const tmp = `${file}.tmp`
  const fd = openSync(tmp, "w")
  try {
    writeSync(fd, text)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, file)
  try {
    const d = openSync(dirname(file), "r")
    try {
      fsyncSync(d)
    } finally {
      closeSync(d)
    }
  } catch {
    // (Some platforms cannot fsync a directory; the rename is then as durable as they make it.)
  }
}

/**
 * Builds the storage nodes and the metadata service of `config` on `runtime`; the metadata
 * service publishes to the MemDS sequencer `memdsSequencer` over the transport.
 */
export const buildStorage = (
  runtime: Runtime,
  config: ClusterConfig,
  memdsSequencer: string,
): ClusterStorage => {
  const azs = config.azs ?? ["az1", "az2", "az3"]
  const dir = new Directory(memdsSequencer)
  const nodes = new Map<string, StorageNode>()
  // Replicas remember request ids for three of the routers' deadlines (at least the default).
  const dedupeWindowMs =
    config.timing?.dedupeWindowMs ??
    (config.deadlineMs === undefined ? undefined : Math.max(DEDUPE_WINDOW_MS_DEFAULT, 3 * config.deadlineMs))
  const timing = {
    ...TIMING_DEFAULT,
    ...config.timing,
    ...(dedupeWindowMs === undefined ? {} : { dedupeWindowMs }),
  }
  const cap = config.nodeCapacity ?? { rcu: 1_000_000, wcu: 1_000_000, bytes: 1e12 }
  const ar = config.archive
  const objectStore = ar === undefined || ar.store !== undefined ? undefined : new MemoryObjectStore()
  const store = ar?.store ?? objectStore?.service()
  const archive =
    ar === undefined || store === undefined
      ? undefined
      : {
          store,
          entriesPerSegment: ar.entriesPerSegment ?? ARCHIVE_SEGMENT_ENTRIES,
          async: ar.async === true,
        }
  const scrub =
    config.scrub === undefined
      ? undefined
      : new ClusterScrub(
          runtime,
          nodes,
          archive === undefined ? undefined : { store: archive.store, async: archive.async },
          config.scrub,
        )
  // Scrub events are cluster events too (and so logged by `effectLogger`).
  let meta: MetadataService | undefined
  scrub?.onEvent((e) => meta?.emit({ type: "scrub", node: e.scrubber, event: e, at: e.atMs }))
  const background = scrubBackground(scrub, config.background, () => runtime.now())
  const n = config.nodes ?? 9
  for (let i = 0; i < n; i++) dir.addNode(`sn${i}`, azs[i % azs.length]!)
  const sim = runtime instanceof SimRuntime ? runtime.sim : undefined
  if (config.disk !== undefined && sim === undefined)
    throw new Error("ClusterConfig.disk needs the simulation")
  if (config.walDir !== undefined && sim !== undefined)
    throw new Error("ClusterConfig.walDir is for real time (the simulation's disks are `disk`)")
  for (const { id, az } of dir.nodes) {
    const dc = config.disk
    const disk: WalDisk | undefined =
      config.walDir !== undefined
        ? new FileDisk(join(config.walDir, id), () => runtime.random())
        : dc === undefined || sim === undefined
          ? undefined
          : new SimDisk(sim, {
              name: id,
              ...(dc.crashKeepProbability === undefined
                ? {}
                : { crashKeepProbability: dc.crashKeepProbability }),
              ...(dc.crashTornProbability === undefined
                ? {}
                : { crashTornProbability: dc.crashTornProbability }),
              ...(dc.sectorBytes === undefined ? {} : { sectorBytes: dc.sectorBytes }),
            })
    nodes.set(
      id,
      new StorageNode(runtime, dir, {
        id,
        az,
        timing,
        capacityRcu: cap.rcu,
        capacityWcu: cap.wcu,
        ...(config.nodeTickMs === undefined ? {} : { tickMs: config.nodeTickMs }),
        ...(background === undefined ? {} : { background }),
        ...(archive === undefined ? {} : { archive }),
        ...(disk === undefined ? {} : { disk, canaryNoFsync: dc?.canaryNoFsync === true }),
        // Real files, and the simulated disk unless told otherwise: what the WAL does not hold is
        // kept as files beside it, and a restart reads it back from there.
        ...(config.walDir !== undefined || (dc !== undefined && dc.stateFiles !== false)
          ? { stateFiles: true }
          : {}),
      }),
    )
  }
  const metadataFile = config.metadataFile
  if (metadataFile !== undefined && config.walDir === undefined)
    throw new Error("ClusterConfig.metadataFile needs walDir (the replicas' files)")
  const m = new MetadataService(runtime, dir, nodes, {
    nodeCapacity: cap,
    ...(config.failureDetectMs === undefined ? {} : { failureDetectMs: config.failureDetectMs }),
    ...(config.heal === undefined ? {} : { heal: config.heal }),
    ...(config.onEvent === undefined ? {} : { onEvent: config.onEvent }),
    ...(config.autoSplit === undefined ? {} : { autoSplit: config.autoSplit }),
    ...(config.partitionAllocation === undefined ? {} : { partitionAllocation: config.partitionAllocation }),
    ...(config.adaptiveCapacity === undefined ? {} : { adaptiveCapacity: config.adaptiveCapacity }),
    ...(metadataFile === undefined
      ? {}
      : { persist: (json: string) => writeFileDurably(metadataFile, json) }),
  })
  meta = m
  const reopened: string[] = []
  if (metadataFile !== undefined && existsSync(metadataFile)) {
    m.importState(JSON.parse(readFileSync(metadataFile, "utf8")) as MetadataState)
    for (const node of nodes.values()) reopened.push(...node.reopen().map((p) => `${node.nodeId}/${p}`))
    // Replicas of tables the metadata does not have (created or deleted when the process was
    // killed): dropped, so that no leader of theirs publishes a route.
    for (const node of nodes.values())
      for (const pid of [...node.replicas.keys()]) if (!m.ownsPartitionId(pid)) node.dropReplica(pid)
  }
  for (const node of nodes.values())
    node.leaderListeners.push((r, leader) =>
      m.emit({ type: "leader", partition: r.partitionId, node: node.nodeId, leader, at: runtime.now() }),
    )
  return { dir, nodes, meta: m, objectStore, archiveStore: store, scrub, unreadable: reopened }
}

/** Builds the request routers of `config` on `runtime`, reading tables from `catalog`. */
export const buildRouters = (
  runtime: Runtime,
  config: ClusterConfig,
  catalog: TableCatalog,
  services: Pick<ClusterServices, "azs" | "memdsIds" | "gacIds">,
): RequestRouter[] => {
  const azs = services.azs
  const r = config.routers ?? 2
  return Array.from(
    { length: r },
    (_, i) =>
      new RequestRouter(runtime, catalog, {
        id: `rr${i}`,
        ...(config.routerIncarnation === undefined ? {} : { incarnation: config.routerIncarnation }),
        az: azs[i % azs.length]!,
        memdsNodes: services.memdsIds,
        gacServers: services.gacIds,
        routersHint: r,
        ...(config.cacheMode === undefined ? {} : { cacheMode: config.cacheMode }),
        ...(config.canaryStrongReadsAnywhere === undefined
          ? {}
          : { canaryStrongReadsAnywhere: config.canaryStrongReadsAnywhere }),
        ...(config.admission === undefined ? {} : { admission: config.admission }),
        ...(config.deadlineMs === undefined ? {} : { deadlineMs: config.deadlineMs }),
        ...(config.attemptTimeoutMs === undefined ? {} : { attemptTimeoutMs: config.attemptTimeoutMs }),
      }),
  )
}

/** A snapshot of a cluster's counters. */
export interface ClusterMetrics {
  readonly nodes: Record<
    string,
    Record<string, unknown> & {
      partitions: Record<
        string,
        ReplicaCounters & { leader: boolean; role: string; items: number; bytes: number }
      >
    }
  >
  readonly routers: Record<string, Record<string, unknown>>
  readonly heals: ReadonlyArray<unknown>
  readonly splits: number
  /** Leadership terms started, per partition. */
  readonly leaderChanges: Record<string, number>
}

/** An `onEvent` that writes every event through Effect's logger (structured annotations). */
export const effectLogger =
  (level: "Info" | "Debug" = "Info") =>
  (e: ClusterEvent): void => {
    const log = level === "Info" ? Effect.logInfo(e.type) : Effect.logDebug(e.type)
    Effect.runSync(Effect.annotateLogs(log, e as unknown as Record<string, unknown>))
  }

/** A cluster on the deterministic simulation, with fault injection at the network level. */
export class SimCluster extends Cluster {
  readonly sim: Sim
  readonly simRuntime: SimRuntime

  constructor(seed: number | string, config: ClusterConfig = {}) {
    const sim = new Sim({ seed })
    const rt = new SimRuntime(sim, config.lateDefer === true)
    super(rt, config)
    this.sim = sim
    this.simRuntime = rt
  }

  /** Advances virtual time by `ms`. */
  runFor(ms: number): void {
    this.sim.scheduler.runFor(ms)
  }

  /** Drives the simulation until `p` settles (microtasks run between events), or throws after `maxMs`. */
  async run<A>(p: Promise<A>, maxMs = 120_000): Promise<A> {
    let settled = false
    const q = p.finally(() => {
      settled = true
    })
    const end = this.sim.now + maxMs
    while (!settled) {
      if (this.sim.now >= end)
        throw new Error(`SimCluster.run: not settled within ${maxMs} ms of virtual time`)
      for (let i = 0; i < 64 && !settled; i++) {
        if (!this.sim.scheduler.step()) break
        await undefined
      }
      await undefined
    }
    return q
  }

  /** Cuts an AZ off from the others (both directions). Returns a handle for `heal`. */
  partitionAz(az: string): number {
    return this.simRuntime.net.isolateAz(az)
  }
  /** Cuts one endpoint off. */
  isolate(id: string): number {
    return this.simRuntime.net.isolateNode(id)
  }
  /** Removes one partition of the network, or all. */
  heal(id?: number): void {
    this.simRuntime.net.heal(id)
  }
}

/** Builds a cluster on the simulation. */
export const simCluster = (seed: number | string, config: ClusterConfig = {}): SimCluster =>
  new SimCluster(seed, config)
