/**
 * Every bound and unit of the admission module, in one place.
 *
 * Units used throughout:
 * - capacity is counted in **milli-units** (1 RCU or WCU = 1000 milli-units), so the half unit of an
 *   eventually consistent read (500) is an exact integer;
 * - rates are **milli-units per second** (a 100 RCU table has rate 100_000);
 * - time is an integer count of **milliseconds** supplied by the caller (`now`).
 */

/** Milli-units in one capacity unit (RCU or WCU). */
export const MILLI_PER_UNIT = 1000
/** Bytes covered by one read capacity unit (strongly consistent read). */
export const READ_UNIT_BYTES = 4096
/** Bytes covered by one write capacity unit. */
export const WRITE_UNIT_BYTES = 1024

/** Unused partition capacity is kept this long as burst credit (paper §4.1.1: 300 s). */
export const BURST_WINDOW_MS = 300_000
/** The allocated partition bucket holds this much of its rate before unused tokens spill to burst credit. */
export const PARTITION_BUCKET_CAPACITY_MS = 1000
/** A node bucket holds this much of the node's rate. */
export const NODE_BUCKET_CAPACITY_MS = 1000
/** The partition maximum (AWS documentation): 3,000 RCU per partition. */
export const PARTITION_MAX_RCU = 3000
/** The partition maximum (AWS documentation): 1,000 WCU per partition. */
export const PARTITION_MAX_WCU = 1000
/** The leader collects the node-level capacity of the other replicas' nodes this often (our choice). */
export const PEER_CAPACITY_COLLECT_INTERVAL_MS = 1000

/** Adaptive capacity runs its controller this often (our choice; the paper gives no figure). */
export const ADAPTIVE_INTERVAL_MS = 5000
/** Proportional gain of the adaptive controller, in per-mille (1000 = boost by the whole throttled rate). */
export const ADAPTIVE_GAIN_PERMILLE = 1000

/** Routers replenish their table buckets from GAC this often ("in the order of few seconds"). */
export const GAC_REPLENISH_INTERVAL_MS = 2000
/** GAC tokens expire this long after the router received them (our choice: survives two lost reports). */
export const GAC_GRANT_VALID_MS = 6000
/** A router's local table bucket holds this much of its granted rate (small: it bounds overshoot). */
export const ROUTER_BUCKET_CAPACITY_MS = 200
/** GAC forgets a router that has not reported for this long. */
export const GAC_ROUTER_ACTIVE_MS = 5000
/** A GAC bucket younger than this (fresh table or restarted server) keeps the rate each router already holds
 * (two and a half replenish intervals: every router has reported at least twice). */
export const GAC_WARMUP_MS = 5000
/** A router whose grant expired runs at this fraction (per-mille) of min(last grant, its fair share). */
export const GAC_DEGRADED_PERMILLE = 500
/** A router re-sends an unanswered report to the next GAC server on the ring after this long. */
export const GAC_REQUEST_TIMEOUT_MS = 500
/** Virtual nodes per GAC server on the hash ring. */
export const GAC_RING_VNODES = 64
/** A GAC server sweeps silent routers and idle buckets once per this many reports. */
export const GAC_SWEEP_EVERY_REPORTS = 1024
/** Upper bound on routers tracked per GAC bucket. */
export const GAC_ROUTERS_PER_BUCKET_MAX = 10_000

/** New on-demand tables may use 12,000 read request units at once (AWS documentation). */
export const ON_DEMAND_INITIAL_RRU = 12_000
/** New on-demand tables may use 4,000 write request units at once (AWS documentation). */
export const ON_DEMAND_INITIAL_WRU = 4000
/** On-demand measures its peak over windows of this length. */
export const ON_DEMAND_WINDOW_MS = 1000
/** On-demand admits up to this multiple of the previous peak (paper §4.5: double). */
export const ON_DEMAND_PEAK_MULTIPLE = 2

/** Largest rate a bucket accepts: 1 M units/s. */
export const RATE_MAX_MILLI_PER_SEC = 1_000_000_000
/** Largest bucket capacity: 1 G units. With the rate bound, any refill too large for exact double
 * arithmetic (rate × ms ≥ 2^53) is far above this, so such a bucket is simply full. */
export const CAPACITY_MAX_MILLI = 1_000_000_000_000
