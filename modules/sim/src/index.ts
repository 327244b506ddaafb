/**
 * @partita/sim — the deterministic simulation kit: seeded PRNG, discrete-event scheduler over virtual
 * time (with Effect `Clock`/`Random` layers), simulated network and disk with fault injection,
 * buggify, trace hash, history recorder and a Porcupine-style linearizability checker.
 *
 * modules/sim is the one place allowed to touch real time; nothing inside a simulation does.
 */
export { Prng, Zipf, type Seed } from "./Prng.ts"
export { TraceHash } from "./TraceHash.ts"
export { Scheduler, DEFAULT_STEPS_MAX, type TimerId } from "./Scheduler.ts"
export { Sim, type SimOptions } from "./Sim.ts"
export {
  Buggify,
  buggify,
  type BuggifyContext,
  BUGGIFY_FIRE_PROBABILITY,
  BUGGIFY_SITE_ACTIVE_PROBABILITY,
} from "./Buggify.ts"
export {
  SimNetwork,
  Delay,
  DEFAULT_CROSS_AZ_DELAY,
  DEFAULT_INTRA_AZ_DELAY,
  type Handler,
  type LinkProps,
  type NetworkOptions,
  type NetworkStats,
  type NodeId,
  type PartitionId,
} from "./Network.ts"
export {
  SimService,
  makeSimClock,
  makeSimRandom,
  simLayer,
  SimFiberScheduler,
  runSim,
  runSimExit,
  DEFAULT_FIBER_TASKS_MAX,
  type RunSimOptions,
} from "./SimEffect.ts"
export { SimDeadlockError, SimDiskError, SimStepLimitError } from "./Errors.ts"
export {
  History,
  toOperations,
  toJepsenLog,
  toKvEdn,
  type EventType,
  type HistoryEvent,
  type OpHandle,
  type OpInput,
  type OpOutput,
  type Operation,
  type ToOperationsOptions,
} from "./History.ts"
export {
  parseHistory,
  parseJepsenLog,
  parseKvEdn,
  detectFormat,
  HistoryFormatError,
  type HistoryFormat,
} from "./formats.ts"
export {
  checkOperations,
  checkHistory,
  casRegisterModel,
  registerModel,
  kvModel,
  modelByName,
  partitionByKey,
  Illegal,
  DEFAULT_CHECK_STEPS_MAX,
  type CheckOptions,
  type CheckResult,
  type Model,
  type RegisterValue,
  type Verdict,
} from "./Linearizability.ts"
export {
  SimDisk,
  DEFAULT_SECTOR_BYTES,
  type CrashMode,
  type DiskOptions,
  type DiskStats,
} from "./Disk.ts"
export {
  makeEndpoint,
  DEFAULT_INBOX_MESSAGES_MAX,
  type Envelope,
  type SimEndpoint,
} from "./SimTransport.ts"
export { seedsFromEnv, forEachSeed, SEEDS_ENV } from "./Seeds.ts"
