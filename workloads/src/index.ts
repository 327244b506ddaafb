/**
 * @partita/workloads — seeded workload generators declared as data: key distributions (uniform,
 * YCSB's Zipfian and scrambled Zipfian, hotspot, single hot key, latest, sequential), YCSB
 * operation mixes A–F, item size distributions and time shapes (constant, step, spike, diurnal).
 */
export {
  decodeWorkloadConfig,
  type GeneratedOp,
  type KeyDist,
  KeyDistSchema,
  keyChooser,
  keyName,
  Workload,
  type WorkloadConfig,
  type WorkloadConfigInput,
  WorkloadConfigSchema,
} from "./internal/config.ts"
export {
  HotspotKeys,
  type KeyChooser,
  LatestKeys,
  ScrambledZipfianKeys,
  SequentialKeys,
  SingleHotKey,
  scramble32,
  type Uniform,
  UniformKeys,
  ZipfianKeys,
  zeta,
} from "./internal/keys.ts"
export {
  drawSize,
  intendedStarts,
  type OpKind,
  OpChooser,
  type OpMix,
  rateAt,
  type SizeDist,
  type TimeShape,
  YCSB_MIXES,
} from "./internal/shapes.ts"
