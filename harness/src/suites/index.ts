import type { Suite } from "../suite.ts"
import { availabilitySuite } from "./availability.ts"
import { constantWorkSuite } from "./constant-work.ts"
import { durabilitySuite } from "./durability.ts"
import { microSuite } from "./micro.ts"
import { scaleSuite } from "./scale.ts"
import { throttlingSuite } from "./throttling.ts"

/** Every suite `partita bench` knows, in the order `bench all` runs them. */
export const SUITES: ReadonlyArray<Suite> = [
  constantWorkSuite,
  throttlingSuite,
  availabilitySuite,
  durabilitySuite,
  scaleSuite,
  microSuite,
]
