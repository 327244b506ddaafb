import type { Suite } from "../suite.ts"
import { availabilitySuite, availabilitySuiteRun } from "./availability.ts"
import { clusterExtra } from "./availability-cluster.ts"
import { constantWorkSuite } from "./constant-work.ts"
import { durabilitySuite } from "./durability.ts"
import { microSuite } from "./micro.ts"
import { scaleSuite, scaleSuiteRun } from "./scale.ts"
import { NodeClusterTarget } from "./scale-cluster.ts"
import { throttlingSuite } from "./throttling.ts"

/** Every suite `partita bench` knows, in the order `bench all` runs them. */
export const SUITES: ReadonlyArray<Suite> = [
  constantWorkSuite,
  throttlingSuite,
  // Availability: the Paxos group alone, then the same scenarios on the @partita/node cluster.
  { ...availabilitySuite, run: (ctx) => availabilitySuiteRun(ctx, undefined, clusterExtra) },
  durabilitySuite,
  // Scale: against the @partita/node cluster (real time, in process).
  { ...scaleSuite, run: (ctx) => scaleSuiteRun(ctx, undefined, (cfg) => NodeClusterTarget.start(cfg)) },
  microSuite,
]
