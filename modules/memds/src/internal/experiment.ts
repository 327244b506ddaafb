/**
 * The predictability experiment in miniature, deterministic and in virtual time: one router's
 * routing cache in front of a MemDS node, a request stream with a chosen hit rate, an optional
 * full cache flush, and MemDS replies after a fixed latency. It reports MemDS lookups per
 * request overall and per window, which is what the constant-work design keeps flat.
 * (Tests and benchmarks use it; the harness can reuse it for the router-cache sweep.)
 */
import { type CacheMetrics, type CacheMode, type CacheOutput, RoutingCacheCore } from "./cache.ts"
import { MemDSNode } from "./fleet.ts"
import { hashFromBigInt, routingKey } from "./keys.ts"

/** Parameters of one cache run. */
export interface CacheExperiment {
  readonly mode: CacheMode
  /** Fraction of requests aimed at already-cached partitions (the rest hit fresh ones). */
  readonly hitRate: number
  readonly requests: number
  /** Requests issued per virtual millisecond. */
  readonly requestsPerMs: number
  /** MemDS reply latency in virtual milliseconds. */
  readonly latencyMs: number
  /** Flush the whole cache after this many requests (optional). */
  readonly flushAtRequest?: number
  /** Requests per reported window. */
  readonly windowRequests?: number
  readonly inFlightMax?: number
  readonly seed: number
  /** Cached ("hot") partitions the hit-rate share of requests goes to. */
  readonly hotPartitions?: number
}

/** One window of the run. */
export interface CacheWindow {
  readonly requests: number
  readonly lookups: number
  readonly hits: number
  readonly misses: number
  readonly lookupsPerRequest: number
}

/** Result of a run. */
export interface CacheExperimentResult {
  readonly metrics: CacheMetrics
  readonly windows: ReadonlyArray<CacheWindow>
  /** Requests answered (from cache or after a lookup). */
  readonly answered: number
  readonly failed: number
}

const TABLE = "exp"

/** Runs one cache experiment (pure: same parameters, same result). */
export const runCacheExperiment = (p: CacheExperiment): CacheExperimentResult => {
  let s = p.seed >>> 0 || 1
  const rand = (): number => {
    s = (s + 0x6d2b79f5) | 0
    let t = Math.imul(s ^ (s >>> 15), s | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const hot = p.hotPartitions ?? 16
  const partitions = hot + p.requests + 1
  const width = (1n << 128n) / BigInt(partitions)
  const node = new MemDSNode({ id: "m", peers: [], sequencer: true })
  const ops = []
  for (let i = 0; i < partitions; i++)
    ops.push({
      kind: "put" as const,
      key: routingKey(TABLE, hashFromBigInt(BigInt(i) * width)),
      entry: {
        partitionId: `p${i}`,
        epoch: 1,
        replicas: [{ nodeId: `sn-${i % 7}`, az: `az${i % 3}` }],
        leaderHint: null,
      },
    })
  node.publish(ops)
  const keyIn = (i: number): Uint8Array =>
    routingKey(TABLE, hashFromBigInt(BigInt(i) * width + BigInt(Math.floor(rand() * 1e9))))
  const cache = new RoutingCacheCore({
    mode: p.mode,
    memdsNodes: ["m"],
    inFlightMax: p.inFlightMax ?? 1_000_000,
    lookupTimeoutMs: Math.max(1000, p.latencyMs * 4),
  })
  // replies in flight: [dueMs, msg]
  const replies: { due: number; msg: ReturnType<MemDSNode["lookup"]> }[] = []
  let answered = 0
  let failed = 0
  let now = 0
  const handle = (outs: ReadonlyArray<CacheOutput>): void => {
    for (const o of outs) {
      if (o.type === "answer") answered++
      else if (o.type === "fail") failed++
      else replies.push({ due: now + p.latencyMs, msg: node.lookup(o.msg.id, o.msg.key, o.msg.minVersion) })
    }
  }
  const deliver = (until: number): void => {
    let i = 0
    while (i < replies.length && replies[i]!.due <= until) handle(cache.reply(now, replies[i++]!.msg))
    replies.splice(0, i)
  }
  // warm the hot set, then measure from zero
  for (let i = 0; i < hot; i++) handle(cache.request(now, -1, TABLE, keyIn(i)))
  now += p.latencyMs
  deliver(now)
  cache.resetMetrics()
  answered = failed = 0

  const windowRequests = p.windowRequests ?? 1000
  const windows: CacheWindow[] = []
  let last = cache.metrics()
  let fresh = hot
  const perMs = Math.max(1, Math.round(p.requestsPerMs))
  for (let r = 0; r < p.requests; r++) {
    if (r === p.flushAtRequest) cache.flush()
    const target = rand() < p.hitRate ? Math.floor(rand() * hot) : fresh++
    handle(cache.request(now, r, TABLE, keyIn(target)))
    if ((r + 1) % perMs === 0) {
      now += 1
      deliver(now)
      if (now % 100 === 0) handle(cache.tick(now))
    }
    if ((r + 1) % windowRequests === 0) {
      const m = cache.metrics()
      const req = m.requests - last.requests
      const lookups = m.memdsLookups - last.memdsLookups
      windows.push({
        requests: req,
        lookups,
        hits: m.hits - last.hits,
        misses: m.misses - last.misses,
        lookupsPerRequest: lookups / req,
      })
      last = m
    }
  }
  now += p.latencyMs
  deliver(now)
  return { metrics: cache.metrics(), windows, answered, failed }
}
