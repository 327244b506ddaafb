import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { Clock, Duration, Effect, Fiber, Random } from "effect"
import {
  Buggify,
  buggify,
  Prng,
  runSim,
  Scheduler,
  Sim,
  SimDeadlockError,
  SimNetwork,
  SimService,
  SimStepLimitError,
  Zipf,
  makeEndpoint,
  simLayer,
  seedsFromEnv,
  forEachSeed,
} from "../src/index.ts"

describe("Prng", () => {
  it("is xoshiro128**: matches the reference outputs from state (1, 2, 3, 4)", () => {
    const p = new Prng(0)
    p.restore([1, 2, 3, 4])
    const got = Array.from({ length: 8 }, () => p.nextU32())
    assert.deepEqual(got, [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849])
  })

  it("gives the same stream for the same seed and a different one for another seed", () => {
    const a = new Prng(42)
    const b = new Prng(42)
    const c = new Prng(43)
    const xs = Array.from({ length: 100 }, () => a.nextU32())
    const ys = Array.from({ length: 100 }, () => b.nextU32())
    const zs = Array.from({ length: 100 }, () => c.nextU32())
    assert.deepEqual(xs, ys)
    assert.notDeepEqual(xs, zs)
    assert.notDeepEqual(new Prng("a").nextU32(), new Prng("b").nextU32())
  })

  it("forks substreams that depend on the seed and label, not on how far the parent advanced", () => {
    const a = new Prng(7)
    const f1 = a.fork("net").nextU32()
    a.nextU32()
    a.nextU32()
    assert.equal(a.fork("net").nextU32(), f1)
    assert.notEqual(a.fork("disk").nextU32(), f1)
    assert.notEqual(new Prng(8).fork("net").nextU32(), f1)
  })

  it("draws bounded integers uniformly and in range", () => {
    const p = new Prng(1)
    const counts = new Array(10).fill(0)
    for (let i = 0; i < 100_000; i++) counts[p.int(10)]++
    for (const c of counts) assert.ok(c > 9_500 && c < 10_500, `count ${c}`)
    for (let i = 0; i < 1000; i++) {
      const r = p.range(-3, 3)
      assert.ok(r >= -3 && r <= 3 && Number.isInteger(r))
      const f = p.next()
      assert.ok(f >= 0 && f < 1)
    }
  })

  it("has distributions with the right means", () => {
    const p = new Prng(3)
    const n = 200_000
    let e = 0
    let g = 0
    let g2 = 0
    for (let i = 0; i < n; i++) {
      e += p.exponential(5)
      const x = p.normal(10, 2)
      g += x
      g2 += x * x
    }
    assert.ok(Math.abs(e / n - 5) < 0.1)
    assert.ok(Math.abs(g / n - 10) < 0.05)
    assert.ok(Math.abs(Math.sqrt(g2 / n - (g / n) ** 2) - 2) < 0.05)
    const z = new Zipf(100, 0.99)
    const counts = new Array(100).fill(0)
    for (let i = 0; i < 100_000; i++) counts[z.sample(p)]++
    assert.ok(counts[0] > counts[1] && counts[1] > counts[10] && counts[10] > counts[99])
  })

  it("shuffles to a permutation and picks members", () => {
    const p = new Prng(9)
    const xs = p.shuffle([1, 2, 3, 4, 5, 6, 7, 8])
    assert.deepEqual([...xs].sort(), [1, 2, 3, 4, 5, 6, 7, 8])
    assert.ok([1, 2, 3].includes(p.pick([1, 2, 3])))
  })
})

describe("Scheduler", () => {
  it("runs events in (time, scheduling order) and advances now", () => {
    const s = new Scheduler()
    const log: string[] = []
    s.schedule(10, () => log.push(`b@${s.now}`))
    s.schedule(5, () => log.push(`a@${s.now}`))
    s.schedule(10, () => log.push(`c@${s.now}`))
    const id = s.schedule(7, () => log.push("cancelled"))
    assert.equal(s.cancel(id), true)
    assert.equal(s.cancel(id), false)
    assert.equal(s.runUntilIdle(), 3)
    assert.deepEqual(log, ["a@5", "b@10", "c@10"])
    assert.equal(s.now, 10)
  })

  it("runUntil stops at the target time and leaves later events pending", () => {
    const s = new Scheduler()
    let n = 0
    s.schedule(5, () => n++)
    s.schedule(15, () => n++)
    s.runUntil(10)
    assert.equal(n, 1)
    assert.equal(s.now, 10)
    assert.equal(s.pending, 1)
  })

  it("bounds runs by a step limit", () => {
    const s = new Scheduler()
    const tick = (): void => {
      s.schedule(1, tick)
    }
    tick()
    assert.throws(() => s.runUntilIdle(1000), SimStepLimitError)
  })
})

describe("Buggify", () => {
  it("never fires outside simulation", () => {
    for (let i = 0; i < 100; i++) {
      assert.equal(buggify(undefined, "x"), false)
      assert.equal(buggify(Buggify.off, "x"), false)
    }
  })

  it("activates about 1/4 of sites per seed and fires active ones about 1/4 of passes", () => {
    let active = 0
    let fired = 0
    let passes = 0
    for (let seed = 0; seed < 400; seed++) {
      const sim = new Sim(seed)
      if (sim.buggify.isActive("site")) {
        active++
        for (let i = 0; i < 100; i++) {
          passes++
          if (buggify(sim, "site")) fired++
        }
      } else {
        for (let i = 0; i < 10; i++) assert.equal(buggify(sim, "site"), false)
      }
    }
    assert.ok(active > 70 && active < 130, `active ${active}`)
    assert.ok(Math.abs(fired / passes - 0.25) < 0.03, `rate ${fired / passes}`)
  })
})

describe("Effect on virtual time", () => {
  it("an hour of Effect.sleep completes at once with now advanced by an hour", () => {
    const sim = new Sim({ seed: 1, startMs: 1000 })
    const wallStart = performance.now()
    const out = runSim(
      sim,
      Effect.gen(function* () {
        const t0 = yield* Clock.currentTimeMillis
        yield* Effect.sleep(Duration.hours(1))
        const t1 = yield* Clock.currentTimeMillis
        return t1 - t0
      }),
    )
    assert.equal(out, 3_600_000)
    assert.equal(sim.now, 1000 + 3_600_000)
    assert.ok(performance.now() - wallStart < 1000)
  })

  it("interleaves concurrent fibers by virtual time and supports timeouts", () => {
    const r = runSim(
      7,
      Effect.gen(function* () {
        const log: string[] = []
        const f = (name: string, ms: number) =>
          Effect.sleep(ms).pipe(Effect.zipRight(Effect.sync(() => log.push(name))))
        yield* Effect.all([f("slow", 30), f("fast", 10), f("mid", 20)], { concurrency: "unbounded" })
        const timedOut = yield* Effect.sleep(Duration.seconds(10)).pipe(
          Effect.timeout(Duration.seconds(1)),
          Effect.option,
        )
        const sim = yield* SimService
        return { log, timedOut: timedOut._tag, now: sim.now }
      }),
    )
    assert.deepEqual(r.log, ["fast", "mid", "slow"])
    assert.equal(r.timedOut, "None")
    assert.equal(r.now, 30 + 1000)
  })

  it("Random is seeded: same seed, same values", () => {
    const draw = (seed: number) =>
      runSim(seed, Effect.all([Random.next, Random.nextIntBetween(0, 100), Random.nextBoolean]))
    assert.deepEqual(draw(5), draw(5))
    assert.notDeepEqual(draw(5), draw(6))
  })

  it("reports a deadlock instead of hanging", () => {
    assert.throws(() => runSim(1, Effect.never), SimDeadlockError)
  })

  it("fibers can wait on plain simulated events (network delivery)", () => {
    const sim = new Sim(3)
    const net = new SimNetwork<string>(sim)
    net.addNode("a", "az1").addNode("b", "az2")
    const got = runSim(
      sim,
      Effect.async<string>((resume) => {
        net.setHandler("b", (m, from) => resume(Effect.succeed(`${from}:${m}`)))
        net.send("a", "b", "hi")
      }),
    )
    assert.equal(got, "a:hi")
    assert.ok(sim.now > 0)
  })

  it("forked fibers and Fiber.join work", () => {
    const v = runSim(
      2,
      Effect.gen(function* () {
        const f = yield* Effect.fork(Effect.sleep(50).pipe(Effect.as(42)))
        return yield* Fiber.join(f)
      }),
    )
    assert.equal(v, 42)
  })
})

describe("SimEndpoint (Effect face of the network)", () => {
  it("ping-pong between two fiber nodes on virtual time", () => {
    const sim = new Sim(11)
    const net = new SimNetwork<number>(sim)
    net.addNode("a", "az1").addNode("b", "az2")
    const out = runSim(
      sim,
      Effect.gen(function* () {
        const a = yield* makeEndpoint(net, "a")
        const b = yield* makeEndpoint(net, "b")
        const echo = Effect.gen(function* () {
          for (;;) {
            const { from, msg } = yield* b.receive
            yield* b.send(from, msg + 1)
          }
        })
        yield* Effect.fork(echo)
        let v = 0
        for (let i = 0; i < 10; i++) {
          yield* a.send("b", v)
          v = (yield* a.receive).msg
        }
        return v
      }),
    )
    assert.equal(out, 10)
    assert.equal(net.stats.delivered, 20)
    assert.ok(sim.now > 0)
  })
})

describe("runSim on one Sim, twice", () => {
  it("continues the Random stream and the clock instead of restarting them", () => {
    const sim = new Sim(21)
    const a = runSim(sim, Effect.zipLeft(Random.next, Effect.sleep(10)))
    const b = runSim(sim, Random.next)
    assert.notEqual(a, b)
    assert.equal(sim.now, 10)
    const layered = Effect.runSync(
      Effect.provide(
        Effect.gen(function* () {
          return { t: yield* Clock.currentTimeMillis, s: yield* SimService }
        }),
        simLayer(sim),
      ),
    )
    assert.equal(layered.t, 10)
    assert.equal(layered.s, sim)
  })
})

describe("seed sweeps", () => {
  it("reads counts, ranges and lists, and names the failing seed", () => {
    assert.deepEqual(seedsFromEnv(3, undefined), [1, 2, 3])
    assert.deepEqual(seedsFromEnv(3, "5"), [1, 2, 3, 4, 5])
    assert.deepEqual(seedsFromEnv(3, "10-12"), [10, 11, 12])
    assert.deepEqual(seedsFromEnv(3, "7, 42"), [7, 42])
    assert.throws(() => seedsFromEnv(3, "x"), RangeError)
    assert.throws(
      () =>
        forEachSeed([1, 2, 3], (s) => {
          if (s === 2) throw new Error("boom")
        }),
      /seed 2 failed \(replay: PARTITA_SEEDS=2\): boom/,
    )
  })
})

describe("runSim cleanup", () => {
  it("interrupts child fibers when the program ends, cancelling their pending sleeps", () => {
    const sim = new Sim(1)
    const v = runSim(
      sim,
      Effect.gen(function* () {
        yield* Effect.fork(Effect.forever(Effect.sleep(1000)))
        yield* Effect.sleep(10)
        return "done"
      }),
    )
    assert.equal(v, "done")
    assert.equal(sim.scheduler.pending, 0)
  })
})
