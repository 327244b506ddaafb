/**
 * Typed errors of the simulation kit. They extend `Data.TaggedError`, so they can be thrown from the
 * plain API and yielded or caught by tag in Effect code.
 */
import { Data } from "effect"

/** A run exceeded its step budget (a livelock, or a budget set too low). */
export class SimStepLimitError extends Data.TaggedError("SimStepLimitError")<{
  readonly limit: number
  readonly nowMs: number
}> {
  override get message(): string {
    return `simulation exceeded its step limit of ${this.limit} events at virtual time ${this.nowMs} ms`
  }
}

/** `runSim`: the program is waiting but no simulated event can ever wake it. */
export class SimDeadlockError extends Data.TaggedError("SimDeadlockError")<{ readonly nowMs: number }> {
  override get message(): string {
    return `simulated program is blocked with no pending events at virtual time ${this.nowMs} ms (deadlock, or it awaits something outside the simulation)`
  }
}

/** A simulated disk operation failed (injected fsync error, missing file, bad range). */
export class SimDiskError extends Data.TaggedError("SimDiskError")<{
  readonly op: "fsync" | "read" | "write" | "rename" | "remove" | "truncate"
  readonly file: string
  readonly reason: string
}> {
  override get message(): string {
    return `simulated disk ${this.op} on "${this.file}" failed: ${this.reason}`
  }
}
