import { Clock, Context, Data, Effect, Layer } from "effect"
import { ProvisionedThroughputExceededException } from "./errors.ts"
import {
  type GacGrant,
  type GacOptions,
  type GacReport,
  GacRing,
  GacServerCore,
  RouterAdmissionCore,
  defaultGacOptions,
} from "./internal/gac.ts"
import { MILLI_PER_UNIT } from "./internal/constants.ts"

/** The Clock's time as the integer milliseconds every core expects (simulated clocks may be fractional). */
const clockMs: Effect.Effect<number> = Effect.map(Clock.currentTimeMillis, Math.floor)

/** The GAC server could not be reached (lost message, timeout, server down). */
export class GacUnreachable extends Data.TaggedError("GacUnreachable")<{ readonly server: string }> {}

/**
 * How a router reaches GAC servers. `request` sends one report; it answers with the grant when the
 * transport is synchronous (in-process), or `null` when the grant will arrive as a message, to be
 * handed to `GlobalAdmissionService.deliver` (a simulated or real network). Lost reports need no
 * handling here: the router core re-sends them after a timeout.
 */
export interface GacTransportService {
  readonly request: (server: string, report: GacReport) => Effect.Effect<GacGrant | null, GacUnreachable>
}

/** Tag of the router → GAC transport. */
export class GacTransport extends Context.Tag("@partita/admission/GacTransport")<
  GacTransport,
  GacTransportService
>() {
  /** In-process GAC servers (see `makeInProcessGac`), timed by Effect's Clock. */
  static inProcess(
    servers: ReadonlyArray<string>,
    options: GacOptions = defaultGacOptions,
  ): Layer.Layer<GacTransport> {
    return Layer.effect(
      GacTransport,
      Effect.map(clockMs, (now) => makeInProcessGac(servers, now, options).transport),
    )
  }
}

/** In-process GAC servers with test controls: restart one (fresh, empty state) or make it unreachable. */
export interface InProcessGac {
  readonly transport: GacTransportService
  readonly restart: (server: string, nowMs: number) => void
  readonly setDown: (server: string, down: boolean) => void
  readonly servers: ReadonlyMap<string, GacServerCore>
}

/** Builds in-process GAC servers on a hash ring; `request` reads the time from Effect's Clock. */
export function makeInProcessGac(
  servers: ReadonlyArray<string>,
  nowMs: number,
  options: GacOptions = defaultGacOptions,
): InProcessGac {
  const ring = new GacRing(servers)
  const cores = new Map(
    servers.map((s) => [s, new GacServerCore(s, nowMs - options.warmupMs, options, ring)]),
  )
  const down = new Set<string>()
  return {
    servers: cores,
    transport: {
      request: (server, report) =>
        Effect.flatMap(clockMs, (t) => {
          const core = cores.get(server)
          if (core === undefined || down.has(server)) return Effect.fail(new GacUnreachable({ server }))
          return Effect.succeed(core.onReport(report, t))
        }),
    },
    restart: (server, t) => {
      cores.set(server, new GacServerCore(server, t, options, ring))
    },
    setDown: (server, isDown) => {
      if (isDown) down.add(server)
      else down.delete(server)
    },
  }
}

/** A table as the router knows it from metadata: its provisioned rates. */
export interface TableRates {
  readonly id: string
  readonly readCapacityUnits: number
  readonly writeCapacityUnits: number
}

/** Configuration of one router's global admission. */
export interface GlobalAdmissionConfig {
  readonly routerId: string
  readonly servers: ReadonlyArray<string>
  readonly tables: ReadonlyArray<TableRates>
  /** Routers expected per table before GAC answers (start rate = provisioned / hint). */
  readonly routerHint?: number
  readonly options?: Partial<GacOptions>
}

/** A router's global admission: a local bucket per table and kind, refilled from GAC. */
export interface GlobalAdmissionService {
  /**
   * Plain hot-path check: takes `costMilli` from the table's local bucket if it can; returns
   * whether the request is admitted. No Effect, no allocation.
   */
  readonly tryAdmit: (table: string, kind: "read" | "write", costMilli: number, nowMs: number) => boolean
  /** Effect form of `tryAdmit` using the Clock; fails with ProvisionedThroughputExceededException. */
  readonly admit: (
    table: string,
    kind: "read" | "write",
    costMilli: number,
  ) => Effect.Effect<void, ProvisionedThroughputExceededException>
  /** One round of GAC traffic: sends due reports over the transport and applies the grants. */
  readonly tick: Effect.Effect<void>
  /** Applies a grant that arrived as a message (asynchronous transports); false if stale. */
  readonly deliver: (grant: GacGrant, nowMs: number) => boolean
  /** The pure router core (slots, rates, grants), for metrics and tests. */
  readonly core: RouterAdmissionCore
}

/** Tag of the router-side global admission service. */
export class GlobalAdmission extends Context.Tag("@partita/admission/GlobalAdmission")<
  GlobalAdmission,
  GlobalAdmissionService
>() {
  /** The service over a GacTransport. */
  static layer(config: GlobalAdmissionConfig): Layer.Layer<GlobalAdmission, never, GacTransport> {
    return Layer.effect(
      GlobalAdmission,
      Effect.gen(function* () {
        const transport = yield* GacTransport
        const now = yield* clockMs
        return makeGlobalAdmission(config, transport, now)
      }),
    )
  }
}

function makeGlobalAdmission(
  config: GlobalAdmissionConfig,
  transport: GacTransportService,
  nowMs: number,
): GlobalAdmissionService {
  const options = { ...defaultGacOptions, ...config.options }
  const core = new RouterAdmissionCore(config.routerId, new GacRing(config.servers), options)
  const slots = new Map<string, number>()
  for (const t of config.tables) {
    slots.set(
      `${t.id}/r`,
      core.addBucket(`${t.id}/r`, t.readCapacityUnits * MILLI_PER_UNIT, nowMs, config.routerHint),
    )
    slots.set(
      `${t.id}/w`,
      core.addBucket(`${t.id}/w`, t.writeCapacityUnits * MILLI_PER_UNIT, nowMs, config.routerHint),
    )
  }
  const tryAdmit = (table: string, kind: "read" | "write", costMilli: number, now: number): boolean => {
    const slot = slots.get(kind === "read" ? `${table}/r` : `${table}/w`)
    if (slot === undefined) return false
    if (!core.canTake(slot, costMilli, now)) {
      core.noteThrottled(slot, costMilli)
      return false
    }
    core.take(slot, costMilli, now)
    return true
  }
  return {
    core,
    tryAdmit,
    deliver: (grant, now) => core.onGrant(grant, now),
    admit: (table, kind, costMilli) =>
      Effect.flatMap(clockMs, (now) =>
        tryAdmit(table, kind, costMilli, now)
          ? Effect.void
          : Effect.fail(
              new ProvisionedThroughputExceededException({
                message: "The level of configured provisioned throughput for the table was exceeded.",
                reason:
                  kind === "read"
                    ? "TableReadProvisionedThroughputExceeded"
                    : "TableWriteProvisionedThroughputExceeded",
                resource: table,
              }),
            ),
      ),
    tick: Effect.gen(function* () {
      const now = yield* clockMs
      for (const o of core.tick(now)) {
        const grant = yield* Effect.either(transport.request(o.to, o.report))
        if (grant._tag === "Right" && grant.right !== null) core.onGrant(grant.right, yield* clockMs)
      }
    }),
  }
}
