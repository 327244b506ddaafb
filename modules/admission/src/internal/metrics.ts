/** Counters for one capacity kind (reads or writes) of one table, partition, node or router. */
export interface KindCounters {
  /** Requests admitted. */
  admitted: number
  /** Capacity consumed by admitted requests, milli-units. */
  consumedMilli: number
  /** Requests throttled. */
  throttled: number
  /** Capacity the throttled requests asked for, milli-units. */
  throttledMilli: number
  /** Capacity admitted from burst credit, milli-units. */
  burstMilli: number
  /** GAC grants received (routers) or issued (tables). */
  gacGrants: number
}

/** Read and write counters of one entity. */
export interface Counters {
  readonly id: string
  readonly read: KindCounters
  readonly write: KindCounters
}

/** Plain counters per table, partition, node and router; indices match the topology's order. */
export interface AdmissionMetrics {
  readonly tables: ReadonlyArray<Counters>
  readonly partitions: ReadonlyArray<Counters>
  readonly nodes: ReadonlyArray<Counters>
  readonly routers: ReadonlyArray<Counters>
}

/** Fresh zeroed counters for one kind. */
export function kindCounters(): KindCounters {
  return { admitted: 0, consumedMilli: 0, throttled: 0, throttledMilli: 0, burstMilli: 0, gacGrants: 0 }
}

/** Fresh zeroed counters for one entity. */
export function counters(id: string): Counters {
  return { id, read: kindCounters(), write: kindCounters() }
}
