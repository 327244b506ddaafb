import type { Suite } from "../suite.ts"
import { throttlingSuite } from "./throttling.ts"

/** Every suite `partita bench` knows, in the order `bench all` runs them. */
export const SUITES: ReadonlyArray<Suite> = [throttlingSuite]
