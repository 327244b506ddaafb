import assert from "node:assert/strict"
import { describe, it } from "node:test"
import fc from "fast-check"
import {
  type CacheOutput,
  compareBytes,
  type FleetMsg,
  hashFromBigInt,
  MemDSNode,
  RoutingCacheCore,
  routingKey,
  runCacheExperiment,
} from "../src/index.ts"

describe("constant-work routing cache", () => {
  it("sends 1.0 (± 1 %) MemDS lookups per request for any hit rate, through a full flush", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer(),
        (hitRate, latencyMs, requestsPerMs, seed) => {
          const r = runCacheExperiment({
            mode: "constant-work",
            hitRate,
            requests: 3000,
            requestsPerMs,
            latencyMs,
            flushAtRequest: 1500,
            windowRequests: 500,
            seed,
          })
          assert.ok(
            Math.abs(r.metrics.lookupsPerRequest - 1) <= 0.01,
            `lookups/request ${r.metrics.lookupsPerRequest}`,
          )
          // flat in every window, including the one holding the flush
          for (const w of r.windows)
            assert.ok(Math.abs(w.lookupsPerRequest - 1) <= 0.01, `window ${w.lookupsPerRequest}`)
          assert.equal(r.answered, 3000)
          assert.equal(r.failed, 0)
        },
      ),
      { numRuns: 25 },
    )
  })

  it("at the extremes 0 % and 100 % hit rate", () => {
    for (const hitRate of [0, 1]) {
      const r = runCacheExperiment({
        mode: "constant-work",
        hitRate,
        requests: 4000,
        requestsPerMs: 10,
        latencyMs: 2,
        seed: 3,
      })
      assert.equal(r.metrics.memdsLookups, r.metrics.requests)
      assert.ok(hitRate === 0 ? r.metrics.hitRate === 0 : r.metrics.hitRate > 0.99)
    }
  })
})

describe("conventional routing cache", () => {
  it("sends lookups only on misses, so its MemDS load tracks the miss rate", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer(), (hitRate, seed) => {
        const n = 3000
        const r = runCacheExperiment({
          mode: "conventional",
          hitRate,
          requests: n,
          requestsPerMs: 5,
          latencyMs: 2,
          seed,
        })
        assert.equal(r.metrics.memdsLookups, r.metrics.misses)
        const missRate = 1 - r.metrics.hitRate
        // the miss rate follows the workload's (binomial tolerance, 5 sigma, plus warm-up slack)
        const sigma = Math.sqrt((hitRate * (1 - hitRate)) / n)
        assert.ok(
          Math.abs(missRate - (1 - hitRate)) <= 5 * sigma + 0.01,
          `miss ${missRate} vs ${1 - hitRate}`,
        )
        assert.ok(Math.abs(r.metrics.lookupsPerRequest - missRate) < 1e-9)
      }),
      { numRuns: 25 },
    )
  })

  it("surges after a flush where the constant-work cache stays flat", () => {
    const base = {
      hitRate: 0.9975,
      requests: 20_000,
      requestsPerMs: 20,
      latencyMs: 5,
      flushAtRequest: 10_000,
      windowRequests: 1000,
      hotPartitions: 2000,
      seed: 9,
    } as const
    const conv = runCacheExperiment({ ...base, mode: "conventional" })
    const cw = runCacheExperiment({ ...base, mode: "constant-work" })
    const before = conv.windows.slice(5, 10).reduce((s, w) => s + w.lookups, 0) / 5
    const after = conv.windows[10]!.lookups
    assert.ok(
      after > 20 * Math.max(1, before),
      `conventional window after flush ${after} vs before ${before}`,
    )
    const cwBefore = cw.windows[9]!.lookups
    const cwAfter = cw.windows[10]!.lookups
    assert.equal(cwBefore, 1000)
    assert.equal(cwAfter, 1000)
  })
})

describe("routing cache bounds and staleness", () => {
  const key = (i: bigint) => routingKey("t", hashFromBigInt(i << 100n))
  const memds = () => {
    const m = new MemDSNode({ id: "m", peers: [], sequencer: true })
    for (let i = 0n; i < 8n; i++)
      m.publish([
        {
          kind: "put",
          key: key(i * 4n),
          entry: {
            partitionId: `p${i}`,
            epoch: 1,
            replicas: [{ nodeId: "sn1", az: "a" }],
            leaderHint: "sn1",
          },
        },
      ])
    return m
  }
  const sends = (outs: ReadonlyArray<CacheOutput>) =>
    outs.filter((o) => o.type === "send") as Extract<CacheOutput, { type: "send" }>[]

  it("when MemDS is slow, hits still answer from the cache and outstanding lookups stay bounded", () => {
    const m = memds()
    const c = new RoutingCacheCore({
      mode: "constant-work",
      memdsNodes: ["m"],
      inFlightMax: 8,
      waitersMax: 4,
      lookupTimeoutMs: 1e9,
    })
    // warm one range
    const [s0] = sends(c.request(0, 0, "t", key(1n)))
    c.reply(0, m.lookup(s0!.msg.id, s0!.msg.key, s0!.msg.minVersion))
    // MemDS stops answering; 1,000 requests to the warm range
    let answered = 0
    for (let r = 1; r <= 1000; r++)
      for (const o of c.request(r, r, "t", key(2n))) if (o.type === "answer" && o.fromCache) answered++
    const mt = c.metrics()
    assert.equal(answered, 1000)
    assert.equal(mt.outstanding, 8)
    assert.ok(mt.outstandingMax <= 8)
    assert.equal(mt.refreshesSkipped, 1000 - 8)
    // misses queue up to waitersMax, then fail fast instead of piling up
    const fails = []
    for (let r = 0; r < 10; r++)
      for (const o of c.request(2000, 5000 + r, "t", key(17n))) if (o.type === "fail") fails.push(o.reason)
    assert.equal(fails.length, 6)
    assert.ok(fails.every((f) => f === "RoutingUnavailable"))
    assert.equal(c.metrics().outstanding, 8)
  })

  it("a timed-out lookup frees its slot and the waiting miss retries another node", () => {
    const m = memds()
    const c = new RoutingCacheCore({ mode: "conventional", memdsNodes: ["m", "m2"], lookupTimeoutMs: 100 })
    const [s0] = sends(c.request(0, 1, "t", key(1n)))
    assert.equal(s0!.to, "m")
    const outs = c.tick(150)
    const [s1] = sends(outs)
    assert.equal(s1!.to, "m2")
    assert.equal(c.metrics().timeouts, 1)
    const done = c.reply(160, m.lookup(s1!.msg.id, s1!.msg.key, s1!.msg.minVersion))
    assert.equal(done[0]?.type, "answer")
    // the late reply to the abandoned lookup is ignored
    assert.deepEqual(c.reply(170, m.lookup(s0!.msg.id, s0!.msg.key, s0!.msg.minVersion)), [])
  })

  it("a storage node's epoch check refreshes a stale route, with or without the newer membership", () => {
    for (const mode of ["constant-work", "conventional"] as const) {
      const m = memds()
      const c = new RoutingCacheCore({ mode, memdsNodes: ["m"] })
      const ask = (outs: ReadonlyArray<CacheOutput>, now: number): CacheOutput[] => {
        const res: CacheOutput[] = outs.filter((o) => o.type !== "send")
        for (const s of sends(outs))
          res.push(...ask(c.reply(now, m.lookup(s.msg.id, s.msg.key, s.msg.minVersion)), now))
        return res
      }
      const first = ask(c.request(0, 1, "t", key(1n)), 0)
      assert.equal(first[0]?.type === "answer" && first[0].range.entry.epoch, 1)
      // membership changes at the storage node; MemDS learns it
      const newer = { partitionId: "p0", epoch: 2, replicas: [{ nodeId: "sn2", az: "b" }], leaderHint: "sn2" }
      m.publish([{ kind: "put", key: key(0n), entry: newer }])
      // the router still routes with epoch 1 from its cache (conventional: no refresh at all)
      const cached = c.request(1, 2, "t", key(1n)).find((o) => o.type === "answer")
      if (mode === "conventional") assert.equal(cached?.type === "answer" && cached.range.entry.epoch, 1)
      // (a) the node answers with the newer membership: installed, no MemDS lookup
      const fromNode = m.store.route(key(1n))!
      const a = c.staleRoute(2, 3, "t", key(1n), 1, fromNode)
      assert.equal(a.length, 1)
      assert.equal(a[0]?.type === "answer" && a[0].range.entry.epoch, 2)
      // (b) the node only errors: the router drops the range and asks MemDS again
      m.publish([{ kind: "put", key: key(0n), entry: { ...newer, epoch: 3 } }])
      const b = ask(c.staleRoute(3, 4, "t", key(1n), 2), 3)
      assert.equal(b[0]?.type === "answer" && b[0].range.entry.epoch, 3)
      const mt = c.metrics()
      assert.equal(mt.stalenessDetected, 2)
    }
  })

  it("over entriesMax, evicts the oldest range not refreshed since eviction last passed it", () => {
    const m = memds()
    const c = new RoutingCacheCore({ mode: "constant-work", memdsNodes: ["m"], entriesMax: 2 })
    let req = 0
    /** Requests `k` and answers its lookups; returns whether the cache answered by itself. */
    const hit = (k: bigint, now: number): boolean => {
      const outs = c.request(now, req++, "t", key(k))
      const fromCache = outs.some((o) => o.type === "answer" && o.fromCache)
      for (const s of sends(outs)) c.reply(now, m.lookup(s.msg.id, s.msg.key, s.msg.minVersion))
      return fromCache
    }
    assert.equal(hit(1n, 0), false) // p0 installed
    assert.equal(hit(5n, 1), false) // p1 installed
    assert.equal(hit(1n, 2), true) // p0 refreshed (a hit; constant work still asks MemDS)
    assert.equal(hit(9n, 3), false) // p2 installed: p0 is older but refreshed, so p1 goes
    assert.equal(c.cachedRanges, 2)
    assert.equal(hit(1n, 4), true)
    assert.equal(hit(9n, 5), true)
    assert.equal(hit(5n, 6), false) // p1 was evicted; installing it again evicts one of the others
    assert.equal(c.cachedRanges, 2)
  })

  it("a re-lookup after a stale route does not accept the same stale epoch from a lagging MemDS", () => {
    const m = memds()
    const c = new RoutingCacheCore({ mode: "conventional", memdsNodes: ["m"], retriesMax: 2 })
    const outs = c.staleRoute(0, 1, "t", key(1n), 1)
    let pending = sends(outs)
    const results: CacheOutput[] = []
    while (pending.length > 0) {
      const next: typeof pending = []
      for (const s of pending) {
        const r = c.reply(0, m.lookup(s.msg.id, s.msg.key, s.msg.minVersion) as FleetMsg)
        results.push(...r.filter((o) => o.type !== "send"))
        next.push(...sends(r))
      }
      pending = next
    }
    assert.deepEqual(
      results.map((o) => o.type),
      ["fail"],
    )
    assert.equal(c.metrics().retries, 2)
  })
})

describe("routing cache contents", () => {
  const K = (i: number) => routingKey("t", hashFromBigInt(BigInt(i) << 120n))
  const cmp = compareBytes
  type Step = { kind: "request" | "split" | "merge"; at: number } | { kind: "flush" }
  const stepArb: fc.Arbitrary<Step> = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({ kind: fc.constant("request" as const), at: fc.integer({ min: 0, max: 255 }) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant("split" as const), at: fc.integer({ min: 1, max: 255 }) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant("merge" as const), at: fc.integer({ min: 1, max: 255 }) }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("flush" as const) }) },
  )

  it("stay sorted and non-overlapping, and every answer's range holds its key, through splits and merges", () => {
    let answers = 0
    let maxCached = 0
    fc.assert(
      fc.property(
        fc.constantFrom("constant-work" as const, "conventional" as const),
        fc.array(stepArb, { minLength: 50, maxLength: 300 }),
        (mode, steps) => {
          const m = new MemDSNode({ id: "m", peers: [], sequencer: true })
          let epoch = 1
          for (let i = 0; i < 256; i += 16)
            m.publish([
              {
                kind: "put",
                key: K(i),
                entry: { partitionId: `p${i}`, epoch, replicas: [], leaderHint: null },
              },
            ])
          const c = new RoutingCacheCore({ mode, memdsNodes: ["m"] })
          let req = 0
          const run = (outs: ReadonlyArray<CacheOutput>, key: Uint8Array): void => {
            for (const o of outs) {
              if (o.type === "send")
                run(c.reply(0, m.lookup(o.msg.id, o.msg.key, o.msg.minVersion)), o.msg.key)
              if (o.type === "answer") {
                answers++
                assert.ok(cmp(o.range.start, key) <= 0 && (o.range.end === null || cmp(key, o.range.end) < 0))
                if (!o.fromCache)
                  assert.equal(o.range.entry.partitionId, m.store.route(key)!.entry.partitionId)
              }
            }
          }
          for (const st of steps) {
            if (st.kind === "request") run(c.request(0, req++, "t", K(st.at)), K(st.at))
            else if (st.kind === "split")
              m.publish([
                {
                  kind: "put",
                  key: K(st.at),
                  entry: { partitionId: `p${st.at}`, epoch: ++epoch, replicas: [], leaderHint: null },
                },
              ])
            else if (st.kind === "merge") m.publish([{ kind: "delete", key: K(st.at) }])
            else c.flush()
            const ranges = c.cached("t")
            maxCached = Math.max(maxCached, ranges.length)
            for (let i = 0; i + 1 < ranges.length; i++) {
              const a = ranges[i]!
              const b = ranges[i + 1]!
              assert.ok(cmp(a.start, b.start) < 0)
              assert.ok(a.end !== null && cmp(a.end, b.start) <= 0, "cached ranges overlap")
            }
          }
        },
      ),
      { numRuns: 150 },
    )
    assert.ok(answers > 1000 && maxCached > 5, `answers ${answers}, most cached ranges ${maxCached}`)
  })
})
