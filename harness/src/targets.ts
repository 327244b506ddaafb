import type { Outcome } from "./measure.ts"

/** One request as a target sees it. */
export interface TargetRequest {
  readonly op: "read" | "update" | "insert" | "scan" | "rmw" | "delete"
  readonly table: string
  readonly key: string
  readonly size: number
}

/** Something load can be sent to: a module, an in-process cluster, or a remote endpoint. */
export interface Target {
  readonly name: string
  readonly description: string
  send(req: TargetRequest): Promise<Outcome> | Outcome
  close?(): Promise<void> | void
}

/** The trivial target: an in-memory Map of values; measures the harness's own overhead. */
export function memoryTarget(): Target {
  const data = new Map<string, Uint8Array>()
  return {
    name: "memory",
    description: "a plain Map (harness overhead baseline)",
    send(req) {
      const k = `${req.table}\u0000${req.key}`
      switch (req.op) {
        case "read":
        case "scan":
          data.get(k)
          return "ok"
        case "delete":
          data.delete(k)
          return "ok"
        default:
          data.set(k, new Uint8Array(req.size))
          return "ok"
      }
    },
  }
}

/** Target factories by name, for `partita replay --target`. Suites register more as modules land. */
export const TARGETS: Record<string, () => Target | Promise<Target>> = {
  memory: memoryTarget,
}
