import { hashKeyInto, PartitionMap } from "../src/index.ts"
const n = Number(process.argv[2] ?? 100000)
const config = {
  table: "b",
  hash: "murmur3" as const,
  policy: "per-partition-limit" as const,
  provisioned: { rcu: 0, wcu: 0 },
}
const map = PartitionMap.make(config, n)
const keys = Array.from({ length: 4096 }, (_, i) => `user#${String((i * 2654435761) % 1e8).padStart(8, "0")}`)
const out = new Uint32Array(4)
const tasks: Record<string, (k: number) => number> = {
  hash: (k) => {
    let x = 0
    for (let i = 0; i < k; i++) {
      hashKeyInto("murmur3", keys[i & 4095]!, out, 0)
      x ^= out[0]!
    }
    return x
  },
  hashLocateEpoch: (k) => {
    let x = 0
    for (let i = 0; i < k; i++) {
      hashKeyInto("murmur3", keys[i & 4095]!, out, 0)
      x ^= map.partitions[map.locate(out[0]!, out[1]!, out[2]!, out[3]!)]!.epoch
    }
    return x
  },
  route: (k) => {
    let x = 0
    for (let i = 0; i < k; i++) x ^= map.route(keys[i & 4095]!).epoch
    return x
  },
}
for (let r = 0; r < 7; r++) {
  const line: string[] = []
  for (const [name, f] of Object.entries(tasks)) {
    const t0 = performance.now()
    f(1_000_000)
    line.push(`${name} ${(performance.now() - t0).toFixed(0)}ns`)
  }
  console.log(line.join("  "))
}
