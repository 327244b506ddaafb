/**
 * Effect shells: `MemDS` (the client's view of the MemDS fleet: send a lookup to a node, get its
 * reply) and `RoutingCache` (the router's cache over it). The pure cores do all the deciding;
 * these layers only carry messages, read the clock and run the timeout ticker.
 */
import { Clock, Context, Data, Deferred, Duration, Effect, Layer, Schedule } from "effect"
import {
  type CacheMetrics,
  type CacheOutput,
  LOOKUP_TIMEOUT_MS_DEFAULT,
  type RoutingCacheConfig,
  RoutingCacheCore,
  type RoutingFailure,
} from "./cache.ts"
import type { FleetMsg, MemDSNode } from "./fleet.ts"
import type { RouteRange } from "./store.ts"

/** A lookup message as a router sends it. */
export type LookupMsg = Extract<FleetMsg, { type: "lookup" }>
/** What a MemDS node answers to a lookup. */
export type LookupAnswer = Extract<FleetMsg, { type: "lookup-reply" } | { type: "behind" }>

/** A MemDS node could not be reached (or did not answer in time). */
export class MemDSUnavailable extends Data.TaggedError("MemDSUnavailable")<{ readonly node: string }> {}

/** A request could not be routed. */
export class RoutingError extends Data.TaggedError("RoutingError")<{ readonly reason: RoutingFailure }> {}

/** The MemDS fleet as a router sees it. */
export interface MemDSService {
  /** The node ids lookups may go to. */
  readonly nodes: ReadonlyArray<string>
  /** Sends one lookup to node `to` and waits for its reply. */
  readonly lookup: (to: string, msg: LookupMsg) => Effect.Effect<LookupAnswer, MemDSUnavailable>
}

/**
 * A message link to the fleet for one client (a router): `send` puts a lookup on the wire to a
 * node; `listen` registers the function the transport calls with messages addressed to this
 * client. A simulated network (`@partita/sim`'s `SimNetwork`) or a real socket fits behind it.
 */
export interface MemDSLink {
  readonly nodes: ReadonlyArray<string>
  readonly send: (to: string, msg: LookupMsg) => void
  readonly listen: (onMessage: (msg: FleetMsg) => void) => void
}

/** Tag of the MemDS client service. */
export class MemDS extends Context.Tag("@partita/memds/MemDS")<MemDS, MemDSService>() {
  /**
   * MemDS over a message link: each lookup waits for the reply carrying its id, or fails with
   * `MemDSUnavailable` after `timeoutMs` (virtual time under a simulation's Clock).
   */
  static overLink(link: MemDSLink, timeoutMs: number = LOOKUP_TIMEOUT_MS_DEFAULT): Layer.Layer<MemDS> {
    return Layer.sync(MemDS, () => {
      const pending = new Map<number, (reply: LookupAnswer) => void>()
      link.listen((msg) => {
        if (msg.type !== "lookup-reply" && msg.type !== "behind") return
        const k = pending.get(msg.id)
        if (k === undefined) return // late or duplicate
        pending.delete(msg.id)
        k(msg)
      })
      return {
        nodes: link.nodes,
        lookup: (to, msg) =>
          Effect.async<LookupAnswer>((resume) => {
            pending.set(msg.id, (reply) => resume(Effect.succeed(reply)))
            link.send(to, msg)
            return Effect.sync(() => pending.delete(msg.id))
          }).pipe(
            Effect.timeoutFail({
              duration: Duration.millis(timeoutMs),
              onTimeout: () => new MemDSUnavailable({ node: to }),
            }),
          ),
      }
    })
  }

  /** In-process fleet: lookups are answered by the named node core directly. */
  static local(nodes: ReadonlyArray<MemDSNode>): Layer.Layer<MemDS> {
    const byId = new Map(nodes.map((n) => [n.id, n]))
    return Layer.succeed(MemDS, {
      nodes: nodes.map((n) => n.id),
      lookup: (to, msg) =>
        Effect.suspend(() => {
          const n = byId.get(to)
          if (n === undefined) return Effect.fail(new MemDSUnavailable({ node: to }))
          return Effect.succeed(n.lookup(msg.id, msg.key, msg.minVersion) as LookupAnswer)
        }),
    })
  }
}

/** The router's routing cache. */
export interface RoutingCacheService {
  /** The partition range holding `key` (a routing key of `tableId`). */
  readonly route: (tableId: string, key: Uint8Array) => Effect.Effect<RouteRange, RoutingError>
  /**
   * Report a storage node's epoch rejection of the route used for `key`; returns the route to
   * retry with (the node's `newer` membership if it sent one, else a fresh MemDS answer).
   */
  readonly staleRoute: (
    tableId: string,
    key: Uint8Array,
    staleEpoch: number,
    newer?: RouteRange,
  ) => Effect.Effect<RouteRange, RoutingError>
  /** Drops every cached range. */
  readonly flush: Effect.Effect<void>
  /** The cache's counters. */
  readonly metrics: Effect.Effect<CacheMetrics>
}

/** How often the routing cache checks for timed-out lookups. */
export const CACHE_TICK_MS = 50

/** Tag of the routing cache service. */
export class RoutingCache extends Context.Tag("@partita/memds/RoutingCache")<
  RoutingCache,
  RoutingCacheService
>() {
  /** A routing cache over the `MemDS` service, in the configured mode (nodes come from MemDS). */
  static layer(config: Omit<RoutingCacheConfig, "memdsNodes">): Layer.Layer<RoutingCache, never, MemDS> {
    return Layer.scoped(
      RoutingCache,
      Effect.gen(function* () {
        const memds = yield* MemDS
        const core = new RoutingCacheCore({ ...config, memdsNodes: memds.nodes })
        const waiting = new Map<number, Deferred.Deferred<RouteRange, RoutingError>>()
        let nextReq = 1

        // Carries out the core's outputs: answers resolve waiting requests, sends go out as
        // daemon fibers whose replies feed back into the core (the request path never waits
        // on them unless the core said the request must).
        const run = (outs: ReadonlyArray<CacheOutput>): Effect.Effect<void> =>
          Effect.forEach(
            outs,
            (o) => {
              if (o.type === "answer") {
                const d = waiting.get(o.reqId)
                waiting.delete(o.reqId)
                return d === undefined ? Effect.void : Deferred.succeed(d, o.range)
              }
              if (o.type === "fail") {
                const d = waiting.get(o.reqId)
                waiting.delete(o.reqId)
                return d === undefined
                  ? Effect.void
                  : Deferred.fail(d, new RoutingError({ reason: o.reason }))
              }
              return memds.lookup(o.to, o.msg).pipe(
                Effect.flatMap((reply) =>
                  Clock.currentTimeMillis.pipe(Effect.flatMap((now) => run(core.reply(now, reply)))),
                ),
                // an unreachable node is handled like a timeout by the core's ticker
                Effect.catchTag("MemDSUnavailable", () => Effect.void),
                Effect.forkDaemon,
                Effect.asVoid,
              )
            },
            { discard: true },
          )

        const submit = (step: (now: number, reqId: number) => CacheOutput[]) =>
          Effect.gen(function* () {
            const reqId = nextReq++
            const d = yield* Deferred.make<RouteRange, RoutingError>()
            waiting.set(reqId, d)
            const now = yield* Clock.currentTimeMillis
            yield* run(step(now, reqId))
            return yield* Deferred.await(d)
          })

        yield* Clock.currentTimeMillis.pipe(
          Effect.flatMap((now) => run(core.tick(now))),
          Effect.repeat(Schedule.spaced(Duration.millis(CACHE_TICK_MS))),
          Effect.forkScoped,
        )

        return {
          route: (tableId, key) => submit((now, reqId) => core.request(now, reqId, tableId, key)),
          staleRoute: (tableId, key, staleEpoch, newer) =>
            submit((now, reqId) => core.staleRoute(now, reqId, tableId, key, staleEpoch, newer)),
          flush: Effect.sync(() => core.flush()),
          metrics: Effect.sync(() => core.metrics()),
        } satisfies RoutingCacheService
      }),
    )
  }
}

/** A node's message endpoint (structurally `@partita/sim`'s `SimEndpoint`, or a socket's). */
export interface MemDSEndpoint {
  readonly id: string
  send(to: string, msg: FleetMsg): Effect.Effect<boolean>
  readonly receive: Effect.Effect<{ readonly from: string; readonly msg: FleetMsg }>
}

/** How often a served MemDS node ticks (catch-up retries, gossip of its head). */
export const NODE_TICK_MS = 50

/**
 * Runs one MemDS node on an endpoint until interrupted: every received message is stepped
 * through the node's pure core and its outputs are sent; a fiber ticks it every `tickMs`.
 * Lookups from routers arrive the same way, so a node served like this answers `MemDS.overLink`.
 */
export const serveMemDSNode = (
  node: MemDSNode,
  endpoint: MemDSEndpoint,
  tickMs: number = NODE_TICK_MS,
): Effect.Effect<never> =>
  Effect.scoped(
    Effect.gen(function* () {
      const sendAll = (outs: ReadonlyArray<{ readonly to: string; readonly msg: FleetMsg }>) =>
        Effect.forEach(outs, (o) => endpoint.send(o.to, o.msg), { discard: true })
      yield* Clock.currentTimeMillis.pipe(
        Effect.flatMap((now) => sendAll(node.tick(now))),
        Effect.repeat(Schedule.spaced(Duration.millis(tickMs))),
        Effect.forkScoped,
      )
      return yield* endpoint.receive.pipe(
        Effect.flatMap(({ from, msg }) =>
          Clock.currentTimeMillis.pipe(Effect.flatMap((now) => sendAll(node.step(now, from, msg)))),
        ),
        Effect.forever,
      )
    }),
  )
