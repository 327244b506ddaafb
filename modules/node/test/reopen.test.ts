/**
 * A data directory opened again by a later cluster (`localClusterWithDataDir`): the metadata
 * service's state from its file, every replica from its WAL and state files (spec, split base,
 * snapshots), and new request ids that never repeat the earlier ones.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Client, type LocalCluster, localClusterWithDataDir } from "@partita/node"

const TABLE = "reopened"
// A 1 s request-id window: the second life's writes come more than 1 s after the first's.
const config = {
  nodes: 3,
  routers: 1,
  timing: { compactEntries: 40, dedupeWindowMs: 1000 },
  archive: { entriesPerSegment: 8 },
}

/** Waits until every partition of the table has an established leader (or fails after ~10 s). */
const leadersUp = async (c: LocalCluster): Promise<void> => {
  for (let i = 0; i < 100; i++) {
    const map = c.meta.partitionMap(TABLE)
    if (map?.partitions.every((p) => c.leaderOf(p.id) !== undefined)) return
    await c.sleep(100)
  }
  assert.fail("the partitions did not all get a leader")
}

/** Every item of the table, by id, as `n` values (strongly consistent reads of `ids`, and a scan). */
const contents = async (db: Client, ids: Iterable<string>): Promise<Map<string, string>> => {
  const out = new Map<string, string>()
  for (const id of ids) {
    const r = await db.getItem({ TableName: TABLE, Key: { id: { S: id } }, ConsistentRead: true })
    if (r.Item !== undefined) out.set(id, (r.Item.n as { N: string }).N)
  }
  let scanned = 0
  let start: Record<string, unknown> | undefined
  do {
    const page = await db.scan({
      TableName: TABLE,
      ...(start === undefined ? {} : { ExclusiveStartKey: start }),
    } as never)
    scanned += page.Items?.length ?? 0
    start = page.LastEvaluatedKey as Record<string, unknown> | undefined
  } while (start !== undefined)
  assert.equal(scanned, out.size, "the scan and the reads disagree")
  return out
}

/** Creates the test table (on demand, keyed by a string `id`, `partitions` partitions). */
const createTable = (db: Client, partitions?: number) =>
  db.createTable({
    TableName: TABLE,
    KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
    AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
    BillingMode: "PAY_PER_REQUEST",
    ...(partitions === undefined ? {} : { Partitions: partitions }),
  })

/** Writes `n` = i to `ids[i mod ids.length]` for i in [from, to), one at a time, noting each in `expected`. */
const putRange = async (
  db: Client,
  ids: ReadonlyArray<string>,
  from: number,
  to: number,
  expected: Map<string, string>,
): Promise<void> => {
  for (let i = from; i < to; i++) {
    const id = ids[i % ids.length]!
    await db.putItem({ TableName: TABLE, Item: { id: { S: id }, n: { N: String(i) } } })
    expected.set(id, String(i))
  }
}

/** Runs `body` with a new temporary data directory, removed afterwards. */
const withDataDir = async (body: (dir: string) => Promise<void>): Promise<void> => {
  const dir = mkdtempSync(join(tmpdir(), "partita-reopen-"))
  try {
    await body(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * A first life of `dir`: the table with `partitions` partitions, `n` = i written to
 * `ids[i mod ids.length]` for i in [0, n) (noted in `expected`), then a clean stop. Returns the
 * table's first partition id.
 */
const firstLife = async (
  dir: string,
  cfg: Parameters<typeof localClusterWithDataDir>[1],
  partitions: number,
  ids: ReadonlyArray<string>,
  n: number,
  expected: Map<string, string>,
): Promise<string> => {
  const c = await localClusterWithDataDir(dir, cfg)
  try {
    const db = new Client(c.meta, c.routers)
    await createTable(db, partitions)
    await leadersUp(c)
    await putRange(db, ids, 0, n, expected)
    return c.meta.partitionMap(TABLE)!.partitions[0]!.id
  } finally {
    c.stop()
  }
}

describe("a data directory opened again", () => {
  it("gives back every acknowledged write after a restart, across compactions and a split, and takes new ones", async () => {
    await withDataDir(async (dir) => {
      const expected = new Map<string, string>()
      const ids = Array.from({ length: 60 }, (_, i) => `k${i}`)
      // First life: a table of two partitions, writes (overwrites and deletes), compactions, a split.
      const c1 = await localClusterWithDataDir(dir, config)
      let mapBefore: string[]
      try {
        const db = new Client(c1.meta, c1.routers)
        await createTable(db, 2)
        await leadersUp(c1)
        await putRange(db, ids, 0, 300, expected)
        for (const id of ids.slice(0, 5)) {
          await db.deleteItem({ TableName: TABLE, Key: { id: { S: id } } })
          expected.delete(id)
        }
        const first = c1.meta.partitionMap(TABLE)!.partitions[0]!.id
        assert.ok(c1.meta.split(TABLE, first), "split refused")
        for (let i = 0; i < 100 && c1.meta.pendingSplitCount() > 0; i++) await c1.sleep(100)
        assert.equal(c1.meta.pendingSplitCount(), 0, "the split was not adopted")
        await leadersUp(c1)
        await putRange(db, ids, 300, 400, expected)
        assert.deepEqual(await contents(db, ids), expected)
        mapBefore = c1.meta.partitionMap(TABLE)!.partitions.map((p) => `${p.id}@${p.epoch}`)
        assert.equal(mapBefore.length, 3)
        // Compactions happened: snapshot files beside the WALs.
        const state = readdirSync(join(dir, "nodes", "sn0", "state"))
        assert.ok(
          state.some((f) => f.includes(".snap.")),
          state.join(", "),
        )
        assert.ok(
          state.some((f) => f.endsWith(".base")),
          state.join(", "),
        )
      } finally {
        c1.stop()
      }
      assert.ok(existsSync(join(dir, "metadata.json")))

      // Second life: the same table, map and items; writes go on (new request ids: an id the
      // first life used would be taken for a retry and not applied).
      const c2 = await localClusterWithDataDir(dir, config)
      try {
        assert.deepEqual(c2.unreadable, [])
        assert.deepEqual(
          c2.meta.partitionMap(TABLE)!.partitions.map((p) => `${p.id}@${p.epoch}`),
          mapBefore,
        )
        const db = new Client(c2.meta, c2.routers)
        assert.deepEqual((await db.listTables()).TableNames, [TABLE])
        await leadersUp(c2)
        assert.deepEqual(await contents(db, ids), expected)
        await putRange(db, ids, 400, 460, expected)
        assert.deepEqual(await contents(db, ids), expected)
        // Write stamps go on from the first life's (wall-clock based): its ids have left the
        // window, and only this life's router prefix is held. (With a clock that restarts at 0,
        // the first life's newest stamp would hold the window still for as long as it ran.)
        for (const n of c2.nodes.values())
          for (const r of n.replicas.values()) {
            if (r.retired || r.spec.role !== "storage") continue
            const held = r.dedupeSnapshot().ids
            const prefixes = new Set(held.map((id) => id.slice(0, id.lastIndexOf(":"))))
            assert.equal(prefixes.size, 1, `${n.nodeId}/${r.partitionId}: ${[...prefixes].join(", ")}`)
          }
      } finally {
        c2.stop()
      }

      // Third life: what the second wrote is there too.
      const c3 = await localClusterWithDataDir(dir, config)
      try {
        await leadersUp(c3)
        assert.deepEqual(await contents(new Client(c3.meta, c3.routers), ids), expected)
      } finally {
        c3.stop()
      }
    })
  })

  it("rebuilds a node whose files were lost while the cluster was down", async () => {
    await withDataDir(async (dir) => {
      const ids = Array.from({ length: 30 }, (_, i) => `k${i}`)
      const expected = new Map<string, string>()
      const lossConfig = { ...config, nodes: 4, failureDetectMs: 1000 }
      await firstLife(dir, lossConfig, 2, ids, 120, expected)
      // A node that hosted replicas loses its disk while the cluster is down.
      const lost = ["sn0", "sn1", "sn2", "sn3"].find(
        (n) => readdirSync(join(dir, "nodes", n, "state")).length > 0,
      )!
      rmSync(join(dir, "nodes", lost), { recursive: true, force: true })
      const c2 = await localClusterWithDataDir(dir, lossConfig)
      try {
        await leadersUp(c2)
        const db = new Client(c2.meta, c2.routers)
        assert.deepEqual(await contents(db, ids), expected)
        // Healed as after a wipe: every partition has three storage replicas again, identical.
        let healed = false
        for (let i = 0; i < 150 && !healed; i++) {
          await c2.sleep(100)
          healed = c2.meta.partitionMap(TABLE)!.partitions.every((p) => {
            const reps = c2.replicasOf(p.id).filter((x) => x.replica.spec.role === "storage")
            const sums = new Set(
              reps.map((x) => `${x.replica.summary().checksum}/${x.replica.summary().items}`),
            )
            return reps.length === 3 && sums.size === 1 && c2.meta.pendingHealCount() === 0
          })
        }
        assert.ok(healed, `not healed: ${c2.meta.pendingHealCount()} heals pending`)
        assert.deepEqual(await contents(db, ids), expected)
      } finally {
        c2.stop()
      }
    })
  })

  it("after a clean stop, finds rot in a WAL's last frame as corruption (the stop recorded the WAL lengths)", async () => {
    await withDataDir(async (dir) => {
      const ids = Array.from({ length: 20 }, (_, i) => `k${i}`)
      const expected = new Map<string, string>()
      const pid = await firstLife(dir, config, 1, ids, 50, expected)
      // One bit of the last frame of sn1's log flips while the cluster is down.
      const wal = join(dir, "nodes", "sn1", "wal", pid)
      const bytes = readFileSync(wal)
      bytes[bytes.length - 3]! ^= 0x10
      writeFileSync(wal, bytes)
      const c2 = await localClusterWithDataDir(dir, config)
      try {
        const rec = c2.nodes.get("sn1")!.walRecoveries
        assert.equal(rec.length, 1)
        // A torn write could not be there (every length was fsynced at the stop): corruption.
        assert.equal(rec[0]!.corrupt, true, JSON.stringify(rec))
        await leadersUp(c2)
        assert.deepEqual(await contents(new Client(c2.meta, c2.routers), ids), expected)
        let same = false
        for (let i = 0; i < 50 && !same; i++) {
          await c2.sleep(100)
          same = new Set(c2.replicasOf(pid).map((x) => x.replica.summary().checksum)).size === 1
        }
        assert.ok(same, "the damaged replica was not repaired")
      } finally {
        c2.stop()
      }
      // The lengths are taken at the opening: a crash later must not read them.
      assert.equal(
        existsSync(join(dir, "nodes", "sn1", "state", "wal-lengths")),
        true,
        "the second stop records them again",
      )
    })
  })

  it("drops the replicas of a table whose creation was not recorded, and a table made again is new", async () => {
    await withDataDir(async (dir) => {
      const orphan = await firstLife(dir, config, 1, ["old"], 1, new Map())
      // As if the process had been killed between the replicas' creation and the table's record:
      // the metadata file without the table (the table's number was recorded first).
      const file = join(dir, "metadata.json")
      const state = JSON.parse(readFileSync(file, "utf8")) as { tables: unknown[] }
      state.tables = []
      writeFileSync(file, JSON.stringify(state))
      const c2 = await localClusterWithDataDir(dir, config)
      try {
        for (const n of c2.nodes.values())
          assert.equal(n.replicas.has(orphan), false, `${n.nodeId} hosts ${orphan}`)
        for (const n of ["sn0", "sn1", "sn2"])
          assert.deepEqual(
            readdirSync(join(dir, "nodes", n, "state")).filter((f) => f.startsWith(`${orphan}.`)),
            [],
          )
        const db = new Client(c2.meta, c2.routers)
        await createTable(db, 1)
        const fresh = c2.meta.partitionMap(TABLE)!.partitions[0]!.id
        assert.notEqual(fresh, orphan)
        await leadersUp(c2)
        assert.deepEqual(await contents(db, ["old"]), new Map())
        await db.putItem({ TableName: TABLE, Item: { id: { S: "new" }, n: { N: "2" } } })
        assert.deepEqual(await contents(db, ["old", "new"]), new Map([["new", "2"]]))
      } finally {
        c2.stop()
      }
    })
  })

  it("refuses a directory made for other nodes, with a clear error", async () => {
    await withDataDir(async (dir) => {
      const c = await localClusterWithDataDir(dir, config)
      await createTable(new Client(c.meta, c.routers))
      c.stop()
      await assert.rejects(
        localClusterWithDataDir(dir, { ...config, nodes: 4 }),
        /metadata state is for nodes/,
      )
    })
  })
})
