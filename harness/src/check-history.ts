import { spawnSync } from "node:child_process"
import { join } from "node:path"

/** `partita check-history`: runs the sim kit's checker CLI and returns its exit code. */
export function checkHistoryMain(args: string[]): number {
  const cli = join(import.meta.dirname, "../../modules/sim/bin/check-history.ts")
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: "inherit" })
  return r.status ?? 2
}
