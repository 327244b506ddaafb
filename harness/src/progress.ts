import { wallMs } from "./realtime.ts"

/** Minimum run length before a progress bar is drawn (shorter runs stay quiet). */
export const PROGRESS_QUIET_MS = 1500
const REDRAW_MS_TTY = 200
const REDRAW_MS_LOG = 5000

/**
 * A progress bar on stderr with rate and ETA. On a terminal it redraws in place; in a log (CI) it
 * prints a line every few seconds. Runs shorter than PROGRESS_QUIET_MS print nothing.
 */
export class Progress {
  private readonly startedMs = wallMs()
  private lastDrawMs = 0
  private done = 0
  private drawn = false
  private readonly tty = Boolean((process.stderr as { isTTY?: boolean }).isTTY)
  constructor(
    readonly label: string,
    readonly total: number,
    readonly enabled = true,
  ) {}

  /** Marks `n` more units done. */
  tick(n = 1): void {
    this.done += n
    if (!this.enabled) return
    const now = wallMs()
    if (now - this.startedMs < PROGRESS_QUIET_MS) return
    if (now - this.lastDrawMs < (this.tty ? REDRAW_MS_TTY : REDRAW_MS_LOG)) return
    this.lastDrawMs = now
    this.draw(now)
  }

  private draw(now: number): void {
    const elapsedS = (now - this.startedMs) / 1000
    const frac = this.total > 0 ? Math.min(1, this.done / this.total) : 0
    const rate = this.done / Math.max(1e-3, elapsedS)
    const etaS = rate > 0 ? Math.max(0, (this.total - this.done) / rate) : 0
    const width = 24
    const filled = Math.round(frac * width)
    const bar = `${"#".repeat(filled)}${"-".repeat(width - filled)}`
    const line = `${this.label} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${this.done}/${this.total} ${formatRate(rate)}/s ETA ${etaS.toFixed(0)}s`
    process.stderr.write(this.tty ? `\r${line}\u001b[K` : `${line}\n`)
    this.drawn = true
  }

  /** Ends the bar (newline on a terminal if it was drawn). */
  finish(): void {
    if (this.drawn && this.tty) process.stderr.write("\n")
  }
}

function formatRate(r: number): string {
  if (r >= 1e6) return `${(r / 1e6).toFixed(2)}M`
  if (r >= 1e3) return `${(r / 1e3).toFixed(1)}k`
  return r.toFixed(1)
}
