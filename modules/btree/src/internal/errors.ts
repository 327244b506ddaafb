import { Data } from "effect"

/** A checkpoint file failed verification: `page` 0 is the header, the last page the footer. */
export class CheckpointCorrupt extends Data.TaggedError("CheckpointCorrupt")<{
  readonly path: string
  readonly page: number
  readonly reason: string
}> {
  override get message(): string {
    return `checkpoint ${this.path} is corrupt at page ${this.page}: ${this.reason}`
  }
}
