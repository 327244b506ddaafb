import assert from "node:assert/strict"
import { describe, it } from "node:test"
import {
  decodeWorkloadConfig,
  drawSize,
  HotspotKeys,
  intendedStarts,
  LatestKeys,
  OpChooser,
  rateAt,
  ScrambledZipfianKeys,
  SingleHotKey,
  type Uniform,
  UniformKeys,
  Workload,
  YCSB_MIXES,
  ZipfianKeys,
} from "@partita/workloads"

/** splitmix32-seeded xorshift128+ style source for tests (the sim kit's Prng does this in runs). */
function rng(seed: number): Uniform {
  let a = seed >>> 0 || 1
  let b = (seed * 2654435761) >>> 0 || 2
  return {
    next() {
      let t = a ^ (a << 11)
      a = b
      b = b ^ (b >>> 19) ^ (t ^ (t >>> 8))
      t = (b + a) >>> 0
      return t / 4294967296
    },
  }
}

/** Pearson's chi-square statistic of observed counts against expected counts. */
function chiSquare(observed: ArrayLike<number>, expected: ArrayLike<number>): number {
  let x = 0
  for (let i = 0; i < observed.length; i++) x += (observed[i]! - expected[i]!) ** 2 / expected[i]!
  return x
}
// Upper critical values of chi-square at p = 0.001.
const CHI2_P001_DOF99 = 148.23
const CHI2_P001_DOF50 = 86.66
const CHI2_P001_DOF4 = 18.47

describe("key distributions", () => {
  it("uniform passes a chi-square test over 100 bins", () => {
    const keys = new UniformKeys(1000)
    const r = rng(7)
    const counts = new Array(100).fill(0)
    const n = 200_000
    for (let i = 0; i < n; i++) counts[Math.floor(keys.next(r) / 10)]++
    const x2 = chiSquare(counts, new Array(100).fill(n / 100))
    assert.ok(x2 < CHI2_P001_DOF99, `chi-square ${x2}`)
  })

  it("zipfian (theta 0.99) matches 1/k^theta on the top 50 ranks and the tail", () => {
    const keys = new ZipfianKeys(10_000, 0.99)
    const r = rng(11)
    const n = 300_000
    const counts = new Array(51).fill(0)
    for (let i = 0; i < n; i++) {
      const k = keys.next(r)
      counts[Math.min(k, 50)]++
    }
    const expected = new Array(51).fill(0)
    let head = 0
    for (let k = 0; k < 50; k++) {
      expected[k] = n * keys.probability(k)
      head += keys.probability(k)
    }
    expected[50] = n * (1 - head)
    const x2 = chiSquare(counts, expected)
    assert.ok(x2 < CHI2_P001_DOF50, `chi-square ${x2}`)
  })

  it("a wrong theta fails the same zipfian test (the test has power)", () => {
    const keys = new ZipfianKeys(10_000, 0.8)
    const ref = new ZipfianKeys(10_000, 0.99)
    const r = rng(11)
    const n = 300_000
    const counts = new Array(51).fill(0)
    for (let i = 0; i < n; i++) counts[Math.min(keys.next(r), 50)]++
    const expected = new Array(51).fill(0)
    let head = 0
    for (let k = 0; k < 50; k++) {
      expected[k] = n * ref.probability(k)
      head += ref.probability(k)
    }
    expected[50] = n * (1 - head)
    assert.ok(chiSquare(counts, expected) > CHI2_P001_DOF50)
  })

  it("scrambled zipfian keeps zipfian popularity but scatters the hot keys", () => {
    const keys = new ScrambledZipfianKeys(10_000, 0.99)
    const r = rng(3)
    const n = 200_000
    const counts = new Map<number, number>()
    for (let i = 0; i < n; i++) {
      const k = keys.next(r)
      counts.set(k, (counts.get(k) ?? 0) + 1)
    }
    const hottest = keys.keyOfRank(0)
    const share = (counts.get(hottest) ?? 0) / n
    const expect = new ZipfianKeys(10_000, 0.99).probability(0)
    assert.ok(Math.abs(share - expect) < 0.01, `hottest share ${share} vs ${expect}`)
    // The ten hottest keys are not clustered at the start of the key space.
    const top = Array.from({ length: 10 }, (_, i) => keys.keyOfRank(i))
    assert.ok(Math.max(...top) - Math.min(...top) > 1000, `top keys ${top}`)
    assert.equal(new Set(top).size, 10)
  })

  it("hotspot sends x % of traffic to y % of keys", () => {
    const keys = new HotspotKeys(1000, 0.1, 0.9)
    const r = rng(5)
    let hot = 0
    const n = 100_000
    for (let i = 0; i < n; i++) if (keys.next(r) < 100) hot++
    assert.ok(Math.abs(hot / n - 0.9) < 0.01, `${hot / n}`)
  })

  it("single hot key takes its fraction plus its uniform share", () => {
    const keys = new SingleHotKey(1000, 0.5)
    const r = rng(9)
    let hot = 0
    const n = 100_000
    for (let i = 0; i < n; i++) if (keys.next(r) === 0) hot++
    assert.ok(Math.abs(hot / n - (0.5 + 0.5 / 1000)) < 0.01)
  })

  it("latest favours the newest keys and follows inserts", () => {
    const keys = new LatestKeys(1000, 0.99)
    const r = rng(13)
    let newest = 0
    for (let i = 0; i < 10_000; i++) if (keys.next(r) === 999) newest++
    assert.ok(newest > 500, `${newest}`)
    assert.equal(keys.insert(), 1000)
    let after = 0
    for (let i = 0; i < 10_000; i++) if (keys.next(r) === 1000) after++
    assert.ok(after > 500)
  })
})

describe("operation mixes, sizes and time shapes", () => {
  it("YCSB mixes A–F sum to one and draw in proportion (chi-square)", () => {
    for (const [name, mix] of Object.entries(YCSB_MIXES)) {
      const chooser = new OpChooser(mix)
      const r = rng(name.charCodeAt(0))
      const n = 50_000
      const kinds = ["read", "update", "insert", "scan", "rmw"] as const
      const counts = [0, 0, 0, 0, 0]
      for (let i = 0; i < n; i++) counts[kinds.indexOf(chooser.next(r))]!++
      const obs: number[] = []
      const exp: number[] = []
      kinds.forEach((k, i) => {
        const p = mix[k] ?? 0
        if (p > 0) {
          obs.push(counts[i]!)
          exp.push(n * p)
        } else assert.equal(counts[i], 0, `${name} drew ${k}`)
      })
      if (obs.length > 1) assert.ok(chiSquare(obs, exp) < CHI2_P001_DOF4, name)
    }
  })

  it("rejects a mix that does not sum to one", () => {
    assert.throws(() => new OpChooser({ read: 0.5 }), /sum to 1/)
  })

  it("lognormal sizes have the configured median and stay within bounds", () => {
    const r = rng(21)
    const sizes = Array.from({ length: 20_001 }, () =>
      drawSize({ kind: "lognormal", median: 900, sigma: 0.5, max: 400_000 }, r),
    ).sort((a, b) => a - b)
    const median = sizes[10_000]!
    assert.ok(Math.abs(median - 900) < 30, `median ${median}`)
    assert.ok(sizes[0]! >= 1 && sizes[sizes.length - 1]! <= 400_000)
  })

  it("time shapes give the rate at each moment", () => {
    assert.equal(rateAt({ kind: "constant", rate: 5 }, 123), 5)
    const step = {
      kind: "step",
      steps: [
        { atMs: 0, rate: 1 },
        { atMs: 100, rate: 9 },
      ],
    } as const
    assert.equal(rateAt(step, 99), 1)
    assert.equal(rateAt(step, 100), 9)
    const spike = { kind: "spike", rate: 1, spikeRate: 50, startMs: 10, durationMs: 5 } as const
    assert.deepEqual([rateAt(spike, 9), rateAt(spike, 10), rateAt(spike, 15)], [1, 50, 1])
    const d = { kind: "diurnal", minRate: 10, maxRate: 30, periodMs: 1000 } as const
    assert.equal(rateAt(d, 0), 10)
    assert.equal(rateAt(d, 500), 30)
  })

  it("intended starts follow the rate and are bounded in count and time", () => {
    const starts = [...intendedStarts({ kind: "constant", rate: 1000 }, 1000, 1_000_000)]
    assert.ok(Math.abs(starts.length - 1000) <= 1)
    assert.ok(starts.every((t, i) => i === 0 || t >= starts[i - 1]!))
    assert.equal([...intendedStarts({ kind: "constant", rate: 1000 }, 1000, 10)].length, 10)
  })
})

describe("workloads as data", () => {
  const base = {
    name: "zipf-a",
    seed: 1,
    keyCount: 1000,
    keys: { kind: "scrambled-zipfian", theta: 0.99 },
    mix: "A",
    itemSize: { kind: "constant", bytes: 900 },
    shape: { kind: "constant", rate: 1000 },
    durationMs: 1000,
    maxOps: 1000,
  }
  it("decodes a valid config and generates operations", () => {
    const cfg = decodeWorkloadConfig(base)
    assert.ok(cfg._tag === "Right")
    const w = new Workload(cfg.right, rng(1))
    const op = w.next()
    assert.ok(op.key >= 0 && op.key < 1000)
    assert.equal(op.size, 900)
    assert.equal(cfg.right.table, "usertable")
  })
  it("rejects a bad config naming the field", () => {
    const bad = decodeWorkloadConfig({ ...base, keys: { kind: "zipfian", theta: 1.5 } })
    assert.ok(bad._tag === "Left")
    assert.match(bad.left, /theta/)
    const bad2 = decodeWorkloadConfig({ ...base, keyCount: -3 })
    assert.ok(bad2._tag === "Left")
    assert.match(bad2.left, /keyCount/)
  })
})
