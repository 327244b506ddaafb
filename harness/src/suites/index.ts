import type { Suite } from "../suite.ts"
import { availabilitySuite } from "./availability.ts"
import { constantWorkSuite } from "./constant-work.ts"
import { btreeDurabilitySuite } from "./durability-btree.ts"
import { microSuite } from "./micro.ts"
import { scaleSuite } from "./scale.ts"
import { throttlingSuite } from "./throttling.ts"

/** Every suite `partita bench` knows, in the order `bench all` runs them. */
export const SUITES: ReadonlyArray<Suite> = [
  constantWorkSuite,
  throttlingSuite,
  availabilitySuite,
  // @partita/scrubber has not landed on main: durability runs on B-tree checksums directly.
  btreeDurabilitySuite,
  scaleSuite,
  microSuite,
]
