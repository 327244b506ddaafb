import { runGacSim, convergence } from "./support/gacSim.ts"
const R = 10000
for (const n of [10, 100]) {
  const base = { seed: 7, routers: n, servers: 3, provisionedUnits: R, durationMs: 40000, lossRate: 0.02 }
  const skew = (r: number, t: number) => (t < 10000 ? (0.5 * R) / n : r === 0 ? 0.6 * R : (0.6 * R) / (n - 1))
  const a = runGacSim({ ...base, demand: skew })
  console.log(n, "skew", a.admitted.join(" "), convergence(a.admitted, R, 10000))
  console.log(" r0", a.perRouter[0]!.join(" "))
  const under = (r: number, t: number) => (r === 0 ? 0.5 * R : (0.4 * R) / (n - 1))
  const b = runGacSim({ ...base, demand: under })
  console.log(n, "under", b.admitted.join(" "), b.demanded.join(" "))
  const c = runGacSim({ ...base, demand: skew, restartOwnerAtMs: 20000 })
  console.log(n, "restart", c.admitted.join(" "))
  const d = runGacSim({ ...base, demand: skew, cut: { router: 1, fromMs: 20000, toMs: 40000 } })
  console.log(n, "cut", d.admitted.join(" "))
  console.log(" r1 rate", d.rateOf[1]!.join(" "))
  console.log(" r1 adm", d.perRouter[1]!.join(" "))
}
