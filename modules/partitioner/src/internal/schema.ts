/**
 * Schemas for partition maps arriving from outside (the metadata store, the network): decode,
 * then check the map's invariants; bad input is a typed failure, never an exception.
 */
import { Data, Either, type ParseResult, Schema } from "effect"
import { PartitionMap } from "./map.ts"
import type { PartitionMapData } from "./types.ts"

const PositionSchema = Schema.String.pipe(Schema.pattern(/^[0-9a-f]{32}$/))

const BoundarySchema = Schema.Struct({
  hash: PositionSchema,
  sortKey: Schema.optional(Schema.String),
})

const ThroughputSchema = Schema.Struct({
  rcu: Schema.Number.pipe(Schema.nonNegative()),
  wcu: Schema.Number.pipe(Schema.nonNegative()),
})

const PartitionSchema = Schema.Struct({
  id: Schema.String,
  epoch: Schema.Int.pipe(Schema.positive()),
  start: BoundarySchema,
  end: Schema.optionalWith(Schema.UndefinedOr(BoundarySchema), { default: () => undefined }),
  allocation: ThroughputSchema,
  parent: Schema.optionalWith(Schema.UndefinedOr(Schema.String), { default: () => undefined }),
})

/** Schema of `PartitionMapData` (JSON shape: absent `end`/`parent`/`sortKey` mean undefined). */
export const PartitionMapDataSchema = Schema.Struct({
  table: Schema.String,
  hash: Schema.Literal("md5", "murmur3"),
  policy: Schema.Literal("even", "per-partition-limit"),
  provisioned: ThroughputSchema,
  partitionLimit: ThroughputSchema,
  version: Schema.Int.pipe(Schema.positive()),
  nextPartition: Schema.Int.pipe(Schema.nonNegative()),
  partitions: Schema.Array(PartitionSchema).pipe(Schema.minItems(1)),
  idPrefix: Schema.optional(Schema.String),
})

/** Well-formed data whose partitions do not cover the key space exactly (gap, overlap, order, ids). */
export class InvalidPartitionMap extends Data.TaggedError("InvalidPartitionMap")<{
  readonly reason: string
}> {}

/** Decodes outside input into a checked `PartitionMap`. */
export function decodePartitionMap(
  input: unknown,
): Either.Either<PartitionMap, ParseResult.ParseError | InvalidPartitionMap> {
  const decoded = Schema.decodeUnknownEither(PartitionMapDataSchema)(input)
  if (Either.isLeft(decoded)) return Either.left(decoded.left)
  const data: PartitionMapData = decoded.right
  try {
    return Either.right(PartitionMap.fromData(data))
  } catch (e) {
    return Either.left(new InvalidPartitionMap({ reason: e instanceof Error ? e.message : String(e) }))
  }
}
