/**
 * etcd-raft style interaction environment: a handful of cores, a FIFO network, commands read
 * from text files in test/testdata/*.txt, and a compact log of what every replica did.
 *
 * File format: blocks of `command args...` lines, then `----`, then the expected output, then a
 * blank line. Run with PARTITA_REWRITE=1 to rewrite the expected outputs after a protocol change
 * (then read the diff).
 */
import { PaxosCore } from "../../src/internal/core.ts"
import type { Entry, Member, Membership, Message, ReplicaId } from "../../src/internal/types.ts"
import { ENTRY_CONFIG, ENTRY_NOOP, decodeMembership, showBallot } from "../../src/internal/types.ts"

const enc = new TextEncoder()
const dec = new TextDecoder()

const showEntry = (e: Entry): string =>
  `${e.slot}@${showBallot(e.ballot)}:${
    e.kind === ENTRY_NOOP
      ? "noop"
      : e.kind === ENTRY_CONFIG
        ? `cfg[${decodeMembership(e.data)
            .members.map((m) => `${m.id}${m.role === "log" ? "L" : ""}${m.learner === true ? "~" : ""}`)
            .join(",")}]`
        : dec.decode(e.data)
  }`

export const showMessage = (m: Message): string => {
  const head = `${m.from}->${m.to} ${m.type}`
  switch (m.type) {
    case "prevote":
      return `${head} commit=${m.commit}`
    case "prevote-reply":
      return `${head} granted=${m.granted} leaderAlive=${m.leaderAlive}${m.behind ? " behind" : ""}`
    case "prepare":
      return `${head} b=${showBallot(m.ballot)} from=${m.fromSlot}${m.handoverOf ? ` handoverOf=${showBallot(m.handoverOf)}` : ""}`
    case "promise":
      return m.ok
        ? `${head} b=${showBallot(m.ballot)} commit=${m.commit} lease=${m.leaseRemainingMs.toFixed(0)} [${m.entries.map(showEntry).join(" ")}]`
        : `${head} b=${showBallot(m.ballot)} REJECT promised=${showBallot(m.promised)}`
    case "accept":
      return `${head} b=${showBallot(m.ballot)} start=${m.start} commit=${m.commit} [${m.entries.map(showEntry).join(" ")}]`
    case "accepted":
      return m.ok
        ? `${head} b=${showBallot(m.ballot)} matched=${m.matched}${m.gap ? " gap" : ""}`
        : `${head} b=${showBallot(m.ballot)} REJECT promised=${showBallot(m.promised)}`
    case "snapshot":
      return `${head} index=${m.snapshot.index}${m.snapshot.data === null ? " (marker)" : ""}`
    case "handover":
      return `${head} b=${showBallot(m.ballot)}`
    case "catchup":
      return `${head} commit=${m.commit}`
    case "learn":
      return `${head} commit=${m.commit} [${m.entries.map(showEntry).join(" ")}]`
  }
}

/** The interaction environment. */
export class Interaction {
  readonly cores = new Map<ReplicaId, PaxosCore>()
  readonly applied = new Map<ReplicaId, string[]>()
  private queue: Message[] = []
  private readonly down = new Set<ReplicaId>()
  private readonly cut = new Set<string>()
  private clock = 0
  private readId = 0

  private out: string[] = []
  private stamp = false

  run(cmd: string, args: string[]): string {
    this.out = []
    this.stamp = false
    const n = (i: number) => Number(args[i])
    switch (cmd) {
      case "add-nodes": {
        const count = n(0)
        const members: Member[] = []
        for (let i = 0; i < count; i++) members.push({ id: i, role: "storage", zone: `az${i + 1}` })
        for (const m of members) this.addCore(m.id, "storage", { members })
        break
      }
      case "add-log-replica":
        this.addCore(n(0), "log", null)
        break
      case "tick": {
        // tick <ms>: advance every clock, then run timers
        this.clock += n(0)
        for (const [id, c] of this.cores) if (!this.down.has(id)) c.tick(this.clock)
        this.collect()
        break
      }
      case "run": {
        this.stamp = true
        // run <ms>: 10 ms steps of tick + deliver; prints only role changes and applied entries
        const until = this.clock + n(0)
        const roles = new Map([...this.cores].map(([id, c]) => [id, c.state as string]))
        while (this.clock < until) {
          this.clock += 10
          for (const [id, c] of this.cores) if (!this.down.has(id)) c.tick(this.clock)
          this.stabilize(true)
          for (const [id, c] of this.cores) {
            const st = this.down.has(id) ? "down" : c.state
            if (roles.get(id) !== st) {
              this.out.push(
                `t=${this.clock} r${id} ${roles.get(id)} -> ${st}${st === "leader" ? ` ballot ${showBallot(c.ballot)}` : ""}`,
              )
              roles.set(id, st)
            }
          }
        }
        break
      }
      case "campaign":
        this.core(n(0)).campaign()
        this.collect()
        break
      case "propose": {
        const r = this.core(n(0)).propose(enc.encode(args[1] ?? "x"))
        this.out.push(r.ok ? `proposed slot ${r.slot}` : `rejected: ${r.reason}`)
        this.collect()
        break
      }
      case "read": {
        const st = this.core(n(0)).requestRead(++this.readId)
        this.out.push(`read ${this.readId}: ${st}`)
        this.collect()
        break
      }
      case "transfer":
        this.out.push(`transfer: ${this.core(n(0)).transferLeadership(n(1))}`)
        this.collect()
        break
      case "add-member": {
        // add-member <leader> <id> <storage|log> (creates the joining replica if needed)
        const c = this.core(n(0))
        if (!this.cores.has(n(1))) this.addCore(n(1), args[2] === "log" ? "log" : "storage", null)
        const cfg = c.latestConfig()
        const next: Membership = {
          members: [...cfg.members, { id: n(1), role: args[2] === "log" ? "log" : "storage", zone: "az9" }],
        }
        this.proposeConfig(c, next)
        break
      }
      case "add-learner": {
        // add-learner <leader> <id> <storage|log>: joins without a vote (shown as `3~`)
        const c = this.core(n(0))
        const role = args[2] === "log" ? "log" : "storage"
        if (!this.cores.has(n(1))) this.addCore(n(1), role, null)
        const cfg = c.latestConfig()
        this.proposeConfig(c, { members: [...cfg.members, { id: n(1), role, zone: "az9", learner: true }] })
        break
      }
      case "promote": {
        // promote <leader> <id>: the learner becomes a voter
        const c = this.core(n(0))
        const cfg = c.latestConfig()
        this.proposeConfig(c, {
          members: cfg.members.map((m) => (m.id === n(1) ? { id: m.id, role: m.role, zone: m.zone } : m)),
        })
        break
      }
      case "remove-member": {
        const c = this.core(n(0))
        const cfg = c.latestConfig()
        this.proposeConfig(c, { members: cfg.members.filter((m) => m.id !== n(1)) })
        break
      }
      case "compact": {
        const c = this.core(n(0))
        c.compact(c.commitIndex, c.role === "storage" ? enc.encode(`state@${c.commitIndex}`) : null)
        this.out.push(`r${n(0)} log now starts at ${c.firstLogIndex()}`)
        break
      }
      case "isolate":
        for (const id of this.cores.keys()) {
          if (id === n(0)) continue
          this.cut.add(`${id}>${n(0)}`)
          this.cut.add(`${n(0)}>${id}`)
        }
        break
      case "cut":
        // cut <from> <to>: one direction only
        this.cut.add(`${n(0)}>${n(1)}`)
        break
      case "heal":
        this.cut.clear()
        break
      case "crash":
        this.down.add(n(0))
        break
      case "stabilize":
        this.stabilize()
        break
      case "status":
        for (const id of args.length > 0 ? args.map(Number) : [...this.cores.keys()])
          this.out.push(this.status(id))
        break
      default:
        throw new Error(`unknown command ${cmd}`)
    }
    return this.out.join("\n")
  }

  /** Proposes a configuration on `c` and reports the outcome. */
  private proposeConfig(c: PaxosCore, next: Membership): void {
    const r = c.proposeConfig(next)
    this.out.push(r.ok ? `config proposed at slot ${r.slot}` : `rejected: ${r.reason}`)
    this.collect()
  }

  private addCore(id: ReplicaId, role: "storage" | "log", config: Membership | null): void {
    this.cores.set(
      id,
      new PaxosCore({
        id,
        role,
        initialConfig: config,
        electionTimeoutMs: 1000,
        heartbeatMs: 100,
        leaseMs: 800,
        driftBound: 0.01,
        jitterSeed: 1,
      }),
    )
    this.applied.set(id, [])
    this.cores.get(id)!.tick(this.clock)
  }

  private core(id: ReplicaId): PaxosCore {
    const c = this.cores.get(id)
    if (c === undefined) throw new Error(`no replica ${id}`)
    return c
  }

  /** Persists (instantly), applies and queues messages for every replica with a Ready. */
  private collect(): void {
    for (const [id, c] of this.cores) {
      if (this.down.has(id)) continue
      if (c.state === "leader") c.flush()
      while (c.hasReady()) {
        const r = c.readyOutputs()
        for (const e of r.committed) {
          this.applied.get(id)!.push(showEntry(e))
          this.out.push(`${this.stamp ? `t=${this.clock} ` : ""}r${id} applied ${showEntry(e)}`)
        }
        for (const rd of r.reads) this.out.push(`r${id} answers read ${rd.id} at index ${rd.index}`)
        for (const m of r.messages) this.queue.push(m)
        c.advance()
      }
    }
  }

  private stabilize(quiet = false): void {
    for (let round = 0; round < 1000; round++) {
      this.collect()
      if (this.queue.length === 0) return
      const q = this.queue
      this.queue = []
      for (const m of q) {
        if (this.down.has(m.to) || this.cut.has(`${m.from}>${m.to}`)) {
          if (!quiet) this.out.push(`${showMessage(m)} DROPPED`)
          continue
        }
        if (!quiet) this.out.push(showMessage(m))
        const c = this.cores.get(m.to)
        if (c === undefined) continue
        c.tick(this.clock)
        c.step(m)
      }
    }
    throw new Error("stabilize did not converge")
  }

  status(id: ReplicaId): string {
    const c = this.core(id)
    if (this.down.has(id)) return `r${id}: down`
    const lease = c.state === "leader" ? ` lease=${c.canServeReads() ? "valid" : "none"}` : ""
    return `r${id}: ${c.state} promised=${showBallot(c.promised)} commit=${c.commitIndex} last=${c.lastIndex()}${lease}`
  }
}

/** One datadriven case. */
export interface DataCase {
  readonly line: number
  readonly command: string
  readonly args: string[]
  readonly expected: string
}

/** Parses a datadriven file: `cmd args` lines, `----`, expected output, blank line. */
export const parseDataFile = (text: string): DataCase[] => {
  const lines = text.split("\n")
  const out: DataCase[] = []
  let i = 0
  while (i < lines.length) {
    const l = lines[i]!.trim()
    if (l === "" || l.startsWith("#")) {
      i++
      continue
    }
    const [command, ...args] = l.split(/\s+/)
    const line = i + 1
    i++
    if (lines[i]?.trim() !== "----") throw new Error(`line ${i + 1}: expected ----`)
    i++
    const exp: string[] = []
    while (i < lines.length && lines[i]!.trim() !== "") exp.push(lines[i++]!)
    out.push({ line, command: command!, args, expected: exp.join("\n") })
  }
  return out
}

/** Renders cases back into the file format (for PARTITA_REWRITE). */
export const renderDataFile = (header: string, cases: Array<DataCase & { actual: string }>): string =>
  header +
  cases
    .map((c) => `${[c.command, ...c.args].join(" ")}\n----\n${c.actual === "" ? "ok" : c.actual}\n`)
    .join("\n")
