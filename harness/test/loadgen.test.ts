import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { setImmediate } from "node:timers"
import { closedLoop, type LoadClock, openLoop, Recorder } from "@partita/harness"
import { intendedStarts } from "@partita/workloads"

/** A tiny discrete-event virtual clock: sleepers wake in time order; no real time passes. */
class VirtualClock implements LoadClock {
  private t = 0
  private seq = 0
  private readonly queue: Array<{ at: number; seq: number; wake: () => void }> = []
  now(): number {
    return this.t
  }
  sleepUntil(ms: number): Promise<void> {
    return new Promise((wake) => this.queue.push({ at: Math.max(ms, this.t), seq: this.seq++, wake }))
  }
  /** Runs until `done` settles, waking sleepers in (time, sequence) order. Bounded by `maxEvents`. */
  async drive<T>(done: Promise<T>, maxEvents = 1_000_000): Promise<T> {
    let settled = false
    done.then(
      () => (settled = true),
      () => (settled = true),
    )
    for (let n = 0; n < maxEvents && !settled; n++) {
      await new Promise((r) => setImmediate(r))
      if (settled) break
      if (this.queue.length === 0) continue
      this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq)
      const next = this.queue.shift()!
      this.t = next.at
      next.wake()
    }
    return done
  }
}

/** A server with 0.1 ms service time that stalls (answers nothing) from 500 ms to 600 ms. */
function stallingServer(clock: VirtualClock) {
  const stallFrom = 500
  const stallTo = 600
  return async () => {
    const now = clock.now()
    const start = now >= stallFrom && now < stallTo ? stallTo : now
    await clock.sleepUntil(start + 0.1)
    return "ok" as const
  }
}

describe("load generation", () => {
  it("open loop shows a 100 ms server stall in p99 (latency from intended start)", async () => {
    const clock = new VirtualClock()
    const server = stallingServer(clock)
    const recorder = new Recorder(100)
    const run = openLoop({
      clock,
      starts: intendedStarts({ kind: "constant", rate: 1000 }, 1000, 10_000),
      issue: () => ({ op: "read", result: server() }),
      recorder,
      bounds: { maxOps: 10_000, maxDurationMs: 1000 },
    })
    const { issued } = await clock.drive(run)
    assert.ok(Math.abs(issued - 1000) <= 1)
    const s = recorder.summary()
    // 100 of 1000 requests fall in the stall, waiting 100, 99, …, 1 ms: the 10th slowest (p99) waited ~90 ms.
    assert.ok(s.p99Us >= 85_000, `p99 ${s.p99Us} µs should show the 100 ms stall`)
    assert.ok(s.p50Us < 1000, `p50 ${s.p50Us} µs`)
    assert.ok(s.maxUs >= 99_000 && s.maxUs <= 101_000, `max ${s.maxUs}`)
  })

  it("closed loop with one client hides the stall (coordinated omission), as expected", async () => {
    const clock = new VirtualClock()
    const server = stallingServer(clock)
    const recorder = new Recorder(100)
    const run = closedLoop({
      clock,
      clients: 1,
      issue: () => ({ op: "read", result: server() }),
      recorder,
      bounds: { maxOps: 20_000, maxDurationMs: 1000 },
    })
    await clock.drive(run)
    const s = recorder.summary()
    assert.ok(s.p99Us < 1000, `closed-loop p99 ${s.p99Us} µs`)
    assert.ok(s.maxUs >= 99_000, "the one stalled request is still seen as max")
  })

  it("loops are bounded in count", async () => {
    const clock = new VirtualClock()
    const recorder = new Recorder()
    const run = closedLoop({
      clock,
      clients: 4,
      issue: () => ({ op: "w", result: "ok" }),
      recorder,
      bounds: { maxOps: 100, maxDurationMs: Number.POSITIVE_INFINITY },
    })
    const { issued } = await clock.drive(run)
    assert.equal(issued, 100)
    assert.equal(recorder.ok, 100)
  })

  it("records throttles and errors separately from latencies", () => {
    const r = new Recorder(1000)
    r.record("get", 10, 500, "ok")
    r.record("get", 20, 500, "throttled")
    r.record("get", 1500, 500, "error")
    r.count("memdsLookups", 1500, 3)
    assert.equal(r.summary().count, 1)
    const s = r.series()
    assert.equal(s.length, 2)
    assert.equal(s[0]!.throttled, 1)
    assert.equal(s[1]!.errors, 1)
    assert.equal(s[1]!.extra.memdsLookups, 3)
  })
})
