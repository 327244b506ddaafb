import type { Suite } from "../suite.ts"

/** Every suite `partita bench` knows, in the order `bench all` runs them. */
export const SUITES: ReadonlyArray<Suite> = []
