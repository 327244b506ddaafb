import { Either, ParseResult, Schema } from "effect"
import {
  HotspotKeys,
  type KeyChooser,
  LatestKeys,
  ScrambledZipfianKeys,
  SequentialKeys,
  SingleHotKey,
  type Uniform,
  UniformKeys,
  ZipfianKeys,
} from "./keys.ts"
import { drawSize, type OpKind, OpChooser, type OpMix, YCSB_MIXES } from "./shapes.ts"

const Fraction = Schema.Number.pipe(Schema.between(0, 1))
const Theta = Schema.Number.pipe(Schema.greaterThan(0), Schema.lessThan(1))
const PositiveInt = Schema.Number.pipe(Schema.int(), Schema.positive())
const NonNegative = Schema.Number.pipe(Schema.nonNegative())

/** Key distribution, as data. */
export const KeyDistSchema = Schema.Union(
  Schema.Struct({ kind: Schema.Literal("uniform") }),
  Schema.Struct({ kind: Schema.Literal("sequential") }),
  Schema.Struct({ kind: Schema.Literal("zipfian"), theta: Schema.optional(Theta) }),
  Schema.Struct({ kind: Schema.Literal("scrambled-zipfian"), theta: Schema.optional(Theta) }),
  Schema.Struct({ kind: Schema.Literal("latest"), theta: Schema.optional(Theta) }),
  Schema.Struct({ kind: Schema.Literal("hotspot"), hotKeyFraction: Fraction, hotOpFraction: Fraction }),
  Schema.Struct({ kind: Schema.Literal("hot-key"), hotFraction: Fraction }),
)
export type KeyDist = typeof KeyDistSchema.Type

const OpMixSchema = Schema.Struct({
  read: Schema.optional(Fraction),
  update: Schema.optional(Fraction),
  insert: Schema.optional(Fraction),
  scan: Schema.optional(Fraction),
  rmw: Schema.optional(Fraction),
})

const SizeDistSchema = Schema.Union(
  Schema.Struct({ kind: Schema.Literal("constant"), bytes: PositiveInt }),
  Schema.Struct({ kind: Schema.Literal("uniform"), min: PositiveInt, max: PositiveInt }),
  Schema.Struct({
    kind: Schema.Literal("lognormal"),
    median: PositiveInt,
    sigma: NonNegative,
    max: PositiveInt,
  }),
)

const TimeShapeSchema = Schema.Union(
  Schema.Struct({ kind: Schema.Literal("constant"), rate: NonNegative }),
  Schema.Struct({
    kind: Schema.Literal("step"),
    steps: Schema.Array(Schema.Struct({ atMs: NonNegative, rate: NonNegative })),
  }),
  Schema.Struct({
    kind: Schema.Literal("spike"),
    rate: NonNegative,
    spikeRate: NonNegative,
    startMs: NonNegative,
    durationMs: NonNegative,
  }),
  Schema.Struct({
    kind: Schema.Literal("diurnal"),
    minRate: NonNegative,
    maxRate: NonNegative,
    periodMs: PositiveInt,
  }),
)

/** A workload declared as data: users add their own as JSON files without writing code. */
export const WorkloadConfigSchema = Schema.Struct({
  name: Schema.String.pipe(Schema.minLength(1)),
  description: Schema.optional(Schema.String),
  seed: Schema.Number.pipe(Schema.int()),
  table: Schema.optionalWith(Schema.String, { default: () => "usertable" }),
  keyCount: PositiveInt,
  keys: KeyDistSchema,
  mix: Schema.Union(Schema.Literal("A", "B", "C", "D", "E", "F"), OpMixSchema),
  itemSize: SizeDistSchema,
  shape: TimeShapeSchema,
  durationMs: PositiveInt,
  maxOps: PositiveInt,
})
export type WorkloadConfig = typeof WorkloadConfigSchema.Type
export type WorkloadConfigInput = typeof WorkloadConfigSchema.Encoded

/** Decodes a workload config from unknown JSON; the error names the offending field. */
export function decodeWorkloadConfig(input: unknown): Either.Either<WorkloadConfig, string> {
  return Schema.decodeUnknownEither(WorkloadConfigSchema)(input).pipe(
    Either.mapLeft((e) => ParseResult.TreeFormatter.formatErrorSync(e)),
  )
}

/** Builds the key chooser a distribution describes. */
export function keyChooser(dist: KeyDist, keyCount: number): KeyChooser {
  switch (dist.kind) {
    case "uniform":
      return new UniformKeys(keyCount)
    case "sequential":
      return new SequentialKeys(keyCount)
    case "zipfian":
      return new ZipfianKeys(keyCount, dist.theta ?? 0.99)
    case "scrambled-zipfian":
      return new ScrambledZipfianKeys(keyCount, dist.theta ?? 0.99)
    case "latest":
      return new LatestKeys(keyCount, dist.theta ?? 0.99)
    case "hotspot":
      return new HotspotKeys(keyCount, dist.hotKeyFraction, dist.hotOpFraction)
    case "hot-key":
      return new SingleHotKey(keyCount, dist.hotFraction)
  }
}

/** One generated request. */
export interface GeneratedOp {
  readonly op: OpKind
  readonly key: number
  readonly size: number
}

/** A running workload: draws operations from its config with the given random source. */
export class Workload {
  readonly keys: KeyChooser
  readonly ops: OpChooser
  constructor(
    readonly config: WorkloadConfig,
    private readonly rng: Uniform,
  ) {
    this.keys = keyChooser(config.keys, config.keyCount)
    const mix: OpMix = typeof config.mix === "string" ? YCSB_MIXES[config.mix] : config.mix
    this.ops = new OpChooser(mix)
  }
  next(): GeneratedOp {
    const op = this.ops.next(this.rng)
    const key = op === "insert" && this.keys.insert ? this.keys.insert() : this.keys.next(this.rng)
    return { op, key, size: drawSize(this.config.itemSize, this.rng) }
  }
}

/** The item key name for a key index, as YCSB names its records. */
export function keyName(index: number): string {
  return `user${index.toString().padStart(10, "0")}`
}
