/**
 * Bad input from outside, property-based: every data-plane operation of the client, given
 * arbitrary values where DynamoDB's request shapes expect strings, attribute values, expressions
 * and key maps, answers exactly once, with a success or a typed DynamoDB error that says what is
 * wrong; it never throws, never stops the cluster, and never changes what is stored elsewhere.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { CallbackClient, Client, type SimCluster, simCluster } from "@partita/node"
import fc from "fast-check"
import { createCompositeTable } from "./support.ts"

/** The operations under test, by name (each called with whatever the generator made). */
const OPS = [
  "getItem",
  "putItem",
  "updateItem",
  "deleteItem",
  "query",
  "scan",
  "batchGetItem",
  "batchWriteItem",
] as const
type Op = (typeof OPS)[number]

/** The typed errors a data-plane call may answer with. */
const KNOWN_ERRORS = new Set([
  "ValidationException",
  "ResourceNotFoundException",
  "ConditionalCheckFailedException",
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "ItemCollectionSizeLimitExceededException",
  "InternalServerError",
  "ServiceUnavailable",
  "TransactionConflictException",
])

/** Runs per operation (`PARTITA_FUZZ_RUNS`) and the generator's seed (`PARTITA_FUZZ_SEED`). */
const RUNS = Number(process.env.PARTITA_FUZZ_RUNS ?? 200)
const SEED = Number(process.env.PARTITA_FUZZ_SEED ?? 42)

const FUZZ = "fuzz"
const KEEP = "keep"

/** Values a JSON request could carry, near the shapes DynamoDB expects and far from them. */
const scalar = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.constantFrom(
    "",
    "1e400",
    "-0",
    "NaN",
    "0x10",
    " 1",
    "1.5e-131",
    "99999999999999999999999999999999999999999",
  ),
)
const attributeValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  av: fc.oneof(
    { depthSize: "small" },
    fc.record({ S: scalar }),
    fc.record({ N: scalar }),
    fc.record({ B: fc.oneof(scalar, fc.uint8Array({ maxLength: 8 })) }),
    fc.record({ BOOL: scalar }),
    fc.record({ NULL: scalar }),
    fc.record({ SS: fc.array(scalar, { maxLength: 3 }) }),
    fc.record({ NS: fc.array(scalar, { maxLength: 3 }) }),
    fc.record({ L: fc.oneof(fc.array(tie("av"), { maxLength: 3 }), scalar) }),
    fc.record({ M: fc.oneof(fc.dictionary(fc.string({ maxLength: 4 }), tie("av"), { maxKeys: 3 }), scalar) }),
    fc.record({ S: fc.string({ maxLength: 4 }), N: fc.string({ maxLength: 4 }) }),
    fc.constant({}),
    scalar,
  ),
})).av
const attributeName = fc.oneof(fc.constantFrom("pk", "sk", "v", "#n", ":v", ""), fc.string({ maxLength: 6 }))
const item = fc.dictionary(attributeName, attributeValue, { maxKeys: 4 })
/** Absent three times in four (so that some requests are valid), else anything `a` makes. */
const maybe = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: a, weight: 1 })
/** A valid key of the fuzz table (so that some requests get through and write or read). */
const validKey = fc.record({
  pk: fc.record({ S: fc.constantFrom("a", "b", "c") }),
  sk: fc.record({ N: fc.constantFrom("1", "2", "-3.5") }),
})
/** A key map: valid, valid with odd attributes beside it, or anything. */
const keyMap = fc.oneof(
  validKey,
  fc.tuple(validKey, item).map(([k, rest]) => ({ ...rest, ...k })),
  item,
  scalar,
)
const expression = fc.oneof(
  fc.constantFrom(
    "SET v = :v",
    "SET #n = :v REMOVE v",
    "ADD v :v",
    "attribute_exists(pk)",
    "pk = :v AND sk BETWEEN :a AND :b",
    "begins_with(sk, :v)",
    "size(v) > :v",
    "SET v = v + :v",
    "",
  ),
  fc.string({ maxLength: 20 }),
)
const tableName = fc.oneof(fc.constant(FUZZ), fc.constant(FUZZ), scalar)
const common = {
  TableName: tableName,
  ConditionExpression: maybe(expression),
  ExpressionAttributeNames: maybe(fc.oneof(fc.dictionary(fc.string({ maxLength: 3 }), scalar), scalar)),
  ExpressionAttributeValues: maybe(fc.oneof(item, scalar)),
  ReturnValues: maybe(fc.oneof(fc.constantFrom("NONE", "ALL_OLD", "ALL_NEW", "UPDATED_OLD"), scalar)),
  ReturnConsumedCapacity: maybe(fc.oneof(fc.constantFrom("TOTAL", "INDEXES", "NONE"), scalar)),
  ConsistentRead: maybe(fc.oneof(fc.boolean(), scalar)),
}
const request = (op: Op): fc.Arbitrary<unknown> => {
  switch (op) {
    case "getItem":
    case "deleteItem":
      return fc.record({ ...common, Key: keyMap, ProjectionExpression: maybe(expression) })
    case "putItem":
      return fc.record({ ...common, Item: keyMap })
    case "updateItem":
      return fc.record({ ...common, Key: keyMap, UpdateExpression: maybe(expression) })
    case "query":
    case "scan":
      return fc.record({
        ...common,
        KeyConditionExpression: maybe(expression),
        FilterExpression: maybe(expression),
        Limit: maybe(scalar),
        ExclusiveStartKey: maybe(keyMap),
        ScanIndexForward: maybe(scalar),
      })
    case "batchGetItem":
      return fc.record({
        RequestItems: fc.oneof(
          fc.dictionary(
            tableName.map(String),
            fc.record({ Keys: fc.oneof(fc.array(keyMap, { maxLength: 3 }), scalar) }),
          ),
          scalar,
        ),
      })
    case "batchWriteItem":
      return fc.record({
        RequestItems: fc.oneof(
          fc.dictionary(
            tableName.map(String),
            fc.oneof(
              fc.array(
                fc.oneof(
                  fc.record({ PutRequest: fc.oneof(fc.record({ Item: keyMap }), scalar) }),
                  fc.record({ DeleteRequest: fc.oneof(fc.record({ Key: keyMap }), scalar) }),
                  scalar,
                ),
                { maxLength: 3 },
              ),
              scalar,
            ),
          ),
          scalar,
        ),
      })
  }
}

const makeCluster = (): SimCluster => {
  const c = simCluster(17, { nodes: 6, routers: 2 })
  for (const name of [FUZZ, KEEP]) createCompositeTable(c, name, ["pk", "S"], ["sk", "N"], 2)
  c.runFor(3000)
  return c
}

/** Calls `op` with `input`; returns how many times the callback ran and what it got. */
const call = (c: SimCluster, client: CallbackClient, op: Op, input: unknown) => {
  const answers: Array<{ ok: boolean; error?: { _tag?: string; message?: string } }> = []
  const f = client[op] as (i: unknown, cb: (r: (typeof answers)[number]) => void) => void
  let returned = false
  f.call(client, input, (r) => {
    // Every answer comes after the call returns (a caller retrying from its callback must not
    // recurse), bad input included.
    if (!returned) throw new Error(`${op} answered inside the call for ${JSON.stringify(input)}`)
    answers.push(r)
  })
  returned = true
  c.runFor(200)
  return answers
}

describe("bad input to the data plane (fast-check)", () => {
  it(`answers every operation exactly once, with a success or a typed error, and leaves other data alone (${RUNS} inputs per operation)`, () => {
    const c = makeCluster()
    const client = new CallbackClient(c.meta, c.routers)
    // Items the fuzz never addresses (another table): they must read back unchanged at the end.
    const kept = Array.from({ length: 5 }, (_, i) => ({
      pk: { S: `kept-${i}` },
      sk: { N: String(i) },
      v: { L: [{ S: "x".repeat(i) }, { N: `${i}.5` }, { M: { b: { BOOL: i % 2 === 0 } } }] },
    }))
    for (const Item of kept) {
      const a = call(c, client, "putItem", { TableName: KEEP, Item })
      assert.deepEqual(
        a.map((x) => x.ok),
        [true],
      )
    }
    const tags = new Map<string, number>()
    let ok = 0
    for (const op of OPS) {
      fc.assert(
        fc.property(request(op), (input) => {
          let answers: ReturnType<typeof call>
          try {
            answers = call(c, client, op, input)
          } catch (e) {
            throw new Error(`${op} threw ${String(e)} for ${JSON.stringify(input)}`)
          }
          assert.equal(answers.length, 1, `${op}: ${answers.length} answers for ${JSON.stringify(input)}`)
          const a = answers[0]!
          if (a.ok) ok++
          else {
            const tag = a.error?._tag ?? "(none)"
            tags.set(tag, (tags.get(tag) ?? 0) + 1)
            assert.ok(KNOWN_ERRORS.has(tag), `${op}: unknown error ${tag} for ${JSON.stringify(input)}`)
            assert.ok(
              typeof a.error?.message === "string" && a.error.message.length > 0,
              `${op}: ${tag} without a message`,
            )
          }
        }),
        { numRuns: RUNS, seed: SEED },
      )
    }
    // Most inputs are wrong (a validation error names what), some are right: both paths ran.
    assert.ok((tags.get("ValidationException") ?? 0) > 100, JSON.stringify([...tags]))
    assert.ok(ok > 20, `only ${ok} successes`)
    // The cluster still serves, and what it held is intact, the same on every replica.
    for (const Item of kept) {
      const a = call(c, client, "getItem", {
        TableName: KEEP,
        Key: { pk: Item.pk, sk: Item.sk },
        ConsistentRead: true,
      })
      assert.equal(a.length, 1)
      assert.ok(a[0]!.ok)
      assert.deepEqual((a[0] as unknown as { value: { Item: unknown } }).value.Item, Item)
    }
    c.runFor(2000)
    for (const name of [FUZZ, KEEP])
      for (const p of c.meta.partitionMap(name)!.partitions) {
        const sums = new Set(
          c
            .replicasOf(p.id)
            .filter((x) => x.replica.spec.role === "storage")
            .map((x) => `${x.replica.summary().checksum}/${x.replica.summary().items}`),
        )
        assert.equal(sums.size, 1, `${p.id}: replicas differ ${[...sums].join(" ")}`)
      }
  })

  it(`answers control-plane calls with a result or a typed error, and every table it creates works (${RUNS} inputs)`, async () => {
    const c = simCluster(23, { nodes: 3, routers: 1 })
    const db = new Client(c.meta, c.routers)
    const keyEntry = fc.record({
      AttributeName: fc.oneof(fc.constantFrom("pk", "sk", "pk"), scalar),
      KeyType: fc.oneof(fc.constantFrom("HASH", "RANGE"), scalar),
    })
    const definition = fc.record({
      AttributeName: fc.oneof(fc.constantFrom("pk", "sk"), scalar),
      AttributeType: fc.oneof(fc.constantFrom("S", "N", "B"), scalar),
    })
    const units = fc.oneof(fc.integer({ min: 1, max: 50 }), scalar)
    const create = fc.record({
      TableName: fc.oneof(fc.constantFrom("t-one", "t-two", "t-three"), scalar),
      KeySchema: fc.oneof(fc.array(keyEntry, { maxLength: 3 }), scalar),
      AttributeDefinitions: fc.oneof(fc.array(definition, { maxLength: 3 }), scalar),
      BillingMode: maybe(fc.oneof(fc.constantFrom("PAY_PER_REQUEST", "PROVISIONED"), scalar)),
      ProvisionedThroughput: maybe(
        fc.oneof(fc.record({ ReadCapacityUnits: units, WriteCapacityUnits: units }), scalar),
      ),
      Partitions: maybe(scalar),
    })
    // Valid ones too (a random one rarely is): hash key, maybe a range key, types from S, N, B.
    const validCreate = fc
      .record({
        TableName: fc.constantFrom("t-one", "t-two", "t-three"),
        types: fc.array(fc.constantFrom("S", "N", "B"), { minLength: 1, maxLength: 2 }),
        billing: fc.boolean(),
      })
      .map(({ TableName, types, billing }) => ({
        TableName,
        KeySchema: types.map((_, i) => ({
          AttributeName: i === 0 ? "pk" : "sk",
          KeyType: i === 0 ? "HASH" : "RANGE",
        })),
        AttributeDefinitions: types.map((t, i) => ({
          AttributeName: i === 0 ? "pk" : "sk",
          AttributeType: t,
        })),
        ...(billing
          ? { BillingMode: "PAY_PER_REQUEST" }
          : { ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } }),
      }))
    const named = fc.record({ TableName: fc.oneof(fc.constantFrom("t-one", "t-two"), scalar) })
    const update = fc.record({
      TableName: fc.oneof(fc.constantFrom("t-one", "t-two"), scalar),
      ProvisionedThroughput: maybe(
        fc.oneof(fc.record({ ReadCapacityUnits: units, WriteCapacityUnits: units }), scalar),
      ),
    })
    const call = fc.oneof(
      fc.record({ op: fc.constant("createTable" as const), input: fc.oneof(create, validCreate) }),
      fc.record({ op: fc.constantFrom("describeTable" as const, "deleteTable" as const), input: named }),
      fc.record({ op: fc.constant("updateTable" as const), input: update }),
    )
    let created = 0
    await fc.assert(
      fc.asyncProperty(call, async ({ op, input }) => {
        let outcome: { ok: true; value: unknown } | { ok: false; error: unknown }
        try {
          const f = db[op] as (i: unknown) => Promise<unknown>
          outcome = await f.call(db, input).then(
            (value) => ({ ok: true as const, value }),
            (error: unknown) => ({ ok: false as const, error }),
          )
        } catch (e) {
          throw new Error(`${op} threw ${String(e)} for ${JSON.stringify(input)}`)
        }
        if (!outcome.ok) {
          const tag = (outcome.error as { _tag?: string })._tag ?? "(none)"
          assert.ok(
            [
              "ValidationException",
              "ResourceNotFoundException",
              "ResourceInUseException",
              "LimitExceededException",
            ].includes(tag),
            `${op}: ${String(outcome.error)} for ${JSON.stringify(input)}`,
          )
          return
        }
        if (op !== "createTable") return
        // A table it created works: its key schema is one that items can be written under.
        created++
        const d = (
          outcome.value as {
            TableDescription: {
              TableName: string
              KeySchema: Array<{ AttributeName: string; KeyType: string }>
              AttributeDefinitions: Array<{ AttributeName: string; AttributeType: string }>
            }
          }
        ).TableDescription
        const typeOf = (n: string) => d.AttributeDefinitions.find((a) => a.AttributeName === n)!.AttributeType
        const value = (t: string) =>
          t === "S" ? { S: "k" } : t === "N" ? { N: "7" } : { B: new Uint8Array([1]) }
        const Item = Object.fromEntries(
          d.KeySchema.map((k) => [k.AttributeName, value(typeOf(k.AttributeName))]),
        )
        // (The simulation runs only when told to: start each request, run it, then await it.)
        const run = <A>(p: Promise<A>): Promise<A> => {
          c.runFor(500)
          return p
        }
        c.runFor(3000)
        await run(db.putItem({ TableName: d.TableName, Item }))
        const got = await run(db.getItem({ TableName: d.TableName, Key: Item, ConsistentRead: true }))
        assert.deepEqual(got.Item, Item)
        await db.deleteTable({ TableName: d.TableName })
      }),
      { numRuns: RUNS, seed: SEED },
    )
    assert.ok(created > 0, "no table was ever created")
  })
})
