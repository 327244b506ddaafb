/**
 * Properties (fast-check): printing is the inverse of parsing; number arithmetic agrees with an
 * exact fixed-point BigInt reference; random update expressions on random items either give a
 * valid item or a ValidationException that leaves the item (and the store) unchanged.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { type AttributeValue, type Item, itemSize } from "@partita/core"
import {
  addNumbers,
  applyUpdateExpression,
  type ConditionAst,
  canonicalNumber,
  compareNumbers,
  deleteItem,
  getItem,
  InMemoryItemStore,
  itemBytesMax,
  type OperandAst,
  type PathAst,
  parseCondition,
  parseProjection,
  parseUpdate,
  printCondition,
  printProjection,
  printUpdate,
  putItem,
  query,
  scan,
  subtractNumbers,
  type UpdateActionAst,
  type UpdateAst,
  updateItem,
  validateItem,
} from "@partita/expressions"
import { Either } from "effect"
import fc from "fast-check"
import { show } from "./fixtures.ts"

const runs = Number(process.env.PARTITA_SEEDS ?? "300")

// ---------- syntax tree generators ----------

const attrName = fc.constantFrom("a", "b", "c1", "_x", "Foo", "longer_name", "n2")
const placeholderName = fc.constantFrom("#a", "#b", "#n0", "#status")
const valueName = fc.constantFrom(":v", ":w", ":x0", ":y_1")
const element = fc.oneof(attrName, placeholderName)
const pathArb: fc.Arbitrary<PathAst> = fc
  .tuple(element, fc.array(fc.oneof(element, fc.nat({ max: 20 })), { maxLength: 4 }))
  .map(([h, rest]) => [h, ...rest])
const pathOperand = pathArb.map((path): OperandAst => ({ k: "path", path }))
const valueOperand = valueName.map((name): OperandAst => ({ k: "value", name }))
const sizeOperand = pathArb.map(
  (path): OperandAst => ({ k: "call", fn: "size", args: [{ k: "path", path }] }),
)
const condOperand = fc.oneof(pathOperand, valueOperand, sizeOperand)

const leafCondition: fc.Arbitrary<ConditionAst> = fc.oneof(
  fc
    .tuple(fc.constantFrom("=", "<>", "<", "<=", ">", ">=" as const), condOperand, condOperand)
    .map(([op, l, r]): ConditionAst => ({ k: "cmp", op, l, r })),
  fc
    .tuple(condOperand, condOperand, condOperand)
    .map(([v, lo, hi]): ConditionAst => ({ k: "between", v, lo, hi })),
  fc
    .tuple(condOperand, fc.array(condOperand, { minLength: 1, maxLength: 4 }))
    .map(([v, list]): ConditionAst => ({ k: "in", v, list })),
  fc
    .tuple(fc.constantFrom("attribute_exists", "attribute_not_exists" as const), pathOperand)
    .map(([fn, p]): ConditionAst => ({ k: "fn", fn, args: [p] })),
  fc
    .tuple(pathOperand, valueOperand)
    .map(([p, v]): ConditionAst => ({ k: "fn", fn: "attribute_type", args: [p, v] })),
  fc
    .tuple(fc.constantFrom("begins_with", "contains" as const), pathOperand, condOperand)
    .map(([fn, p, o]): ConditionAst => ({ k: "fn", fn, args: [p, o] })),
)

const conditionArb: fc.Arbitrary<ConditionAst> = fc.letrec<{ c: ConditionAst }>((tie) => ({
  c: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leafCondition,
    fc
      .tuple(fc.constantFrom("and", "or" as const), tie("c"), tie("c"))
      .map(([k, l, r]): ConditionAst => ({ k, l, r })),
    tie("c").map((c): ConditionAst => ({ k: "not", c })),
  ),
})).c

const updOperand: fc.Arbitrary<OperandAst> = fc.letrec<{ o: OperandAst }>((tie) => ({
  o: fc.oneof(
    { depthSize: "small" },
    pathOperand,
    valueOperand,
    fc
      .tuple(pathOperand, tie("o"))
      .map(([p, d]): OperandAst => ({ k: "call", fn: "if_not_exists", args: [p, d] })),
    fc
      .tuple(tie("o"), tie("o"))
      .map(([l, r]): OperandAst => ({ k: "call", fn: "list_append", args: [l, r] })),
  ),
})).o

const actionFor = (kind: "SET" | "REMOVE" | "ADD" | "DELETE"): fc.Arbitrary<UpdateActionAst> => {
  switch (kind) {
    case "SET":
      return fc
        .tuple(
          pathArb,
          fc.oneof(
            updOperand,
            fc
              .tuple(fc.constantFrom("+", "-" as const), updOperand, updOperand)
              .map(([op, l, r]) => ({ k: "arith" as const, op, l, r })),
          ),
        )
        .map(([path, value]): UpdateActionAst => ({ k: "SET", path, value }))
    case "REMOVE":
      return pathArb.map((path): UpdateActionAst => ({ k: "REMOVE", path }))
    default:
      return fc.tuple(pathArb, valueName).map(([path, value]): UpdateActionAst => ({ k: kind, path, value }))
  }
}

const updateArb: fc.Arbitrary<UpdateAst> = fc
  .shuffledSubarray(["SET", "REMOVE", "ADD", "DELETE"] as const, { minLength: 1 })
  .chain((kinds) =>
    fc.tuple(
      ...kinds.map((kind) =>
        fc.array(actionFor(kind), { minLength: 1, maxLength: 3 }).map((actions) => ({ kind, actions })),
      ),
    ),
  )
  .map((clauses): UpdateAst => ({ clauses }))

const countOps = (c: ConditionAst): number => {
  switch (c.k) {
    case "and":
    case "or":
      return 1 + countOps(c.l) + countOps(c.r)
    case "not":
      return 1 + countOps(c.c)
    default:
      return 2
  }
}

describe("parse → print → parse", () => {
  it("is a fixed point for conditions", () => {
    fc.assert(
      fc.property(conditionArb, (ast) => {
        fc.pre(countOps(ast) < 250)
        const text = printCondition(ast)
        const r = parseCondition(text)
        assert.ok(Either.isRight(r), `${text}: ${show(r)}`)
        assert.deepEqual(r.right.ast, ast)
        assert.equal(printCondition(r.right.ast), text)
      }),
      { numRuns: runs },
    )
  })
  it("is a fixed point for updates", () => {
    fc.assert(
      fc.property(updateArb, (ast) => {
        const text = printUpdate(ast)
        const r = parseUpdate(text)
        assert.ok(Either.isRight(r), `${text}: ${show(r)}`)
        assert.deepEqual(r.right.ast, ast)
        assert.equal(printUpdate(r.right.ast), text)
      }),
      { numRuns: runs },
    )
  })
  it("is a fixed point for projections", () => {
    fc.assert(
      fc.property(fc.array(pathArb, { minLength: 1, maxLength: 6 }), (ast) => {
        const text = printProjection(ast)
        const r = parseProjection(text)
        assert.ok(Either.isRight(r), `${text}: ${show(r)}`)
        assert.deepEqual(r.right.ast, ast)
      }),
      { numRuns: runs },
    )
  })
  it("normalises free-form text: print(parse(s)) parses to the same tree", () => {
    const samples = [
      "a=:v AND(b<>:w OR NOT c.d[3] BETWEEN :x0 AND :y_1)",
      "NOT NOT attribute_exists(#a) or size ( b ) in (:v,:w)",
      "((a = :v OR b = :v) AND c = :v) OR d = :v",
      "a = :v AND b = :v AND c = :v OR d = :v",
    ]
    for (const s of samples) {
      const first = parseCondition(s)
      assert.ok(Either.isRight(first), show(first))
      const again = parseCondition(printCondition(first.right.ast))
      assert.ok(Either.isRight(again))
      assert.deepEqual(again.right.ast, first.right.ast)
    }
  })
})

// ---------- numbers against a fixed-point BigInt reference ----------

/** Reference numbers: integers scaled by 10^SCALE (enough for 1E-130 with 38 digits and more). */
const SCALE = 200
const toScaled = (text: string): bigint => {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text)!
  const digits = (m[2] ?? "") + (m[3] ?? "")
  const e = Number(m[4] ?? "0") - (m[3] ?? "").length + SCALE
  const mag = e >= 0 ? BigInt(digits || "0") * 10n ** BigInt(e) : BigInt(digits || "0") / 10n ** BigInt(-e)
  return m[1] === "-" ? -mag : mag
}
/** Formats a scaled reference value, or undefined when DynamoDB cannot represent it. */
const fromScaled = (v: bigint): string | undefined => {
  if (v === 0n) return "0"
  const neg = v < 0n
  const s = (neg ? -v : v).toString().padStart(SCALE + 1, "0")
  const int = s.slice(0, s.length - SCALE).replace(/^0+(?=\d)/, "")
  const frac = s.slice(s.length - SCALE).replace(/0+$/, "")
  const sig = (int === "0" ? frac.replace(/^0+/, "") : (int + frac).replace(/0+$/, "")).length
  const lead = int !== "0" ? int.length - 1 : -(frac.length - frac.replace(/^0+/, "").length) - 1
  if (sig > 38 || lead > 125 || lead < -130) return undefined
  return `${neg ? "-" : ""}${int}${frac === "" ? "" : `.${frac}`}`
}

const numberText = fc
  .tuple(
    fc.constantFrom("", "-", "+"),
    fc.stringMatching(/^[1-9][0-9]{0,37}$/),
    fc.integer({ min: -140, max: 100 }),
    fc.constantFrom("plain", "exp"),
  )
  .map(([sign, digits, shift, style]) => {
    if (style === "exp") return `${sign}${digits}e${shift}`
    if (shift >= 0) return `${sign}${digits}${"0".repeat(Math.min(shift, 60))}`
    const d = digits.padStart(-shift + 1, "0")
    return `${sign}${d.slice(0, d.length + shift)}.${d.slice(d.length + shift)}`
  })
  .filter((t) => fromScaled(toScaled(t)) !== undefined && fromScaled(toScaled(t)) !== "0")

describe("decimal arithmetic", () => {
  it("canonical text keeps the value", () => {
    fc.assert(
      fc.property(numberText, (a) => {
        const c = canonicalNumber(a)
        assert.ok(Either.isRight(c))
        assert.equal(c.right, fromScaled(toScaled(a)))
      }),
      { numRuns: runs * 3 },
    )
  })
  it("add and subtract agree with the reference (or fail exactly when it cannot be represented)", () => {
    fc.assert(
      fc.property(numberText, numberText, (a, b) => {
        for (const [r, ref] of [
          [addNumbers(a, b), fromScaled(toScaled(a) + toScaled(b))],
          [subtractNumbers(a, b), fromScaled(toScaled(a) - toScaled(b))],
        ] as const) {
          if (ref === undefined) {
            assert.ok(Either.isLeft(r), `${a} ± ${b}: expected an error, got ${show(r)}`)
            assert.equal(r.left._tag, "ValidationException")
          } else {
            assert.ok(Either.isRight(r), `${a} ± ${b}: ${show(r)}`)
            assert.equal(r.right, ref)
          }
        }
      }),
      { numRuns: runs * 3 },
    )
  })
  it("small integers (the exact fast path) agree with BigInt", () => {
    const int = fc.bigInt({ min: -(10n ** 15n) + 1n, max: 10n ** 15n - 1n })
    fc.assert(
      fc.property(int, int, (a, b) => {
        assert.equal(Either.getOrThrow(addNumbers(String(a), String(b))), String(a + b))
        assert.equal(Either.getOrThrow(subtractNumbers(String(a), String(b))), String(a - b))
      }),
      { numRuns: runs * 3 },
    )
  })
  it("compare agrees with the reference", () => {
    fc.assert(
      fc.property(numberText, numberText, (a, b) => {
        const x = toScaled(a)
        const y = toScaled(b)
        const want = x < y ? -1 : x > y ? 1 : 0
        assert.equal(Either.getOrThrow(compareNumbers(a, b)), want)
        // Canonical texts take the allocation-free path; it must agree too.
        const ca = Either.getOrThrow(canonicalNumber(a))
        const cb = Either.getOrThrow(canonicalNumber(b))
        assert.equal(Either.getOrThrow(compareNumbers(ca, cb)), want)
      }),
      { numRuns: runs * 3 },
    )
  })
})

// ---------- random updates on random items ----------

const names = ["a", "b", "c", "d"] as const
const scalar: fc.Arbitrary<AttributeValue> = fc.oneof(
  fc.constantFrom("x", "y", "", "zz").map((S) => ({ S })),
  fc.integer({ min: -50, max: 50 }).map((n) => ({ N: String(n) })),
  fc.constantFrom("0.5", "1e3", "-2.25").map((N) => ({ N })),
  fc.boolean().map((BOOL) => ({ BOOL })),
  fc.constant({ NULL: true as const }),
)
const valueArb: fc.Arbitrary<AttributeValue> = fc.letrec<{ v: AttributeValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small" },
    scalar,
    fc.uniqueArray(fc.constantFrom("x", "y", "z"), { minLength: 1, maxLength: 3 }).map((SS) => ({ SS })),
    fc.uniqueArray(fc.constantFrom("1", "2", "3.5"), { minLength: 1, maxLength: 3 }).map((NS) => ({ NS })),
    fc.array(tie("v"), { maxLength: 3 }).map((L) => ({ L })),
    fc.dictionary(fc.constantFrom(...names), tie("v"), { maxKeys: 3 }).map((M) => ({ M })),
  ),
})).v
const itemArb: fc.Arbitrary<Item> = fc.dictionary(fc.constantFrom(...names), valueArb, { maxKeys: 4 })

const textPath = fc
  .tuple(
    fc.constantFrom(...names),
    fc.array(fc.oneof(fc.constantFrom(...names), fc.nat({ max: 3 })), { maxLength: 2 }),
  )
  .map(([h, rest]) => h + rest.map((e) => (typeof e === "number" ? `[${e}]` : `.${e}`)).join(""))
const textOperand = fc.oneof(
  textPath,
  fc.constantFrom(":n", ":s", ":l", ":ss", ":ns"),
  fc.tuple(textPath, fc.constantFrom(":n", ":l")).map(([p, v]) => `if_not_exists(${p}, ${v})`),
  fc.tuple(textPath, fc.constantFrom(":l")).map(([p, v]) => `list_append(${p}, ${v})`),
)
const textAction = fc.oneof(
  fc.tuple(textPath, textOperand).map(([p, o]) => `SET ${p} = ${o}`),
  fc
    .tuple(textPath, textOperand, fc.constantFrom("+", "-"), textOperand)
    .map(([p, l, op, r]) => `SET ${p} = ${l} ${op} ${r}`),
  textPath.map((p) => `REMOVE ${p}`),
  fc.tuple(textPath, fc.constantFrom(":n", ":ss", ":ns", ":s")).map(([p, v]) => `ADD ${p} ${v}`),
  fc.tuple(textPath, fc.constantFrom(":ss", ":ns", ":n")).map(([p, v]) => `DELETE ${p} ${v}`),
)
const updateText = fc.array(textAction, { minLength: 1, maxLength: 4 }).map((actions) => {
  // Group actions of one kind into one clause (a repeated clause is itself a tested error).
  const byKind = new Map<string, string[]>()
  for (const a of actions) {
    const sp = a.indexOf(" ")
    const kind = a.slice(0, sp)
    byKind.set(kind, [...(byKind.get(kind) ?? []), a.slice(sp + 1)])
  }
  return [...byKind].map(([k, xs]) => `${k} ${xs.join(", ")}`).join(" ")
})
const updateValues: Record<string, AttributeValue> = {
  ":n": { N: "1.5" },
  ":s": { S: "s" },
  ":l": { L: [{ N: "1" }] },
  ":ss": { SS: ["x", "q"] },
  ":ns": { NS: ["1", "7"] },
}
const valuesFor = (text: string): Record<string, AttributeValue> =>
  Object.fromEntries(
    Object.entries(updateValues).filter(([k]) => new RegExp(`${k}(?![A-Za-z0-9_])`).test(text)),
  )

describe("random update expressions on random items", () => {
  it("give a valid item or a ValidationException, never anything else, never mutating the input", () => {
    let applied = 0
    let rejected = 0
    fc.assert(
      fc.property(itemArb, updateText, (raw, text) => {
        const item = Either.getOrThrow(validateItem(raw)) // stored items hold canonical numbers
        const snapshot = show(item)
        const r = applyUpdateExpression(text, item, { values: valuesFor(text) })
        assert.equal(show(item), snapshot)
        if (Either.isLeft(r)) {
          rejected++
          assert.equal(r.left._tag, "ValidationException")
          return
        }
        applied++
        const v = validateItem(r.right)
        assert.ok(
          Either.isRight(v),
          `${text} on ${snapshot} gave an invalid item: ${show(r.right)} (${show(v)})`,
        )
        assert.equal(show(v.right), show(r.right), "numbers in the result are canonical")
        assert.ok(itemSize(r.right) <= itemBytesMax)
      }),
      { numRuns: runs * 3 },
    )
    assert.ok(applied > 0 && rejected > 0, `both outcomes occur (applied ${applied}, rejected ${rejected})`)
  })
  it("through updateItem, a rejected update leaves the stored item unchanged", () => {
    fc.assert(
      fc.property(itemArb, updateText, (item, text) => {
        const store = new InMemoryItemStore({ partitionKey: { name: "pk", type: "S" } })
        const full = { ...item, pk: { S: "k" } }
        assert.ok(Either.isRight(putItem(store, { Item: full })))
        const before = show(Either.getOrThrow(getItem(store, { Key: { pk: { S: "k" } } })).Item)
        const r = updateItem(store, {
          Key: { pk: { S: "k" } },
          UpdateExpression: text,
          ExpressionAttributeValues: valuesFor(text),
        })
        const after = show(Either.getOrThrow(getItem(store, { Key: { pk: { S: "k" } } })).Item)
        if (Either.isLeft(r)) assert.equal(after, before)
        else assert.equal(after, show(r.right.write.image))
      }),
      { numRuns: runs },
    )
  })
})

describe("malformed requests", () => {
  it("every operation returns a value (never throws) for arbitrary request shapes", () => {
    const store = new InMemoryItemStore({ partitionKey: { name: "pk", type: "S" } })
    assert.ok(Either.isRight(putItem(store, { Item: { pk: { S: "k" }, a: { N: "1" } } })))
    const junk = fc.oneof(
      fc.anything(),
      valueArb,
      itemArb,
      fc.constantFrom("a = :v", "SET a = :v", "pk = :v", ""),
    )
    const request = fc.record(
      {
        Key: fc.oneof(junk, fc.constant({ pk: { S: "k" } })),
        Item: fc.oneof(
          junk,
          itemArb.map((i) => ({ ...i, pk: { S: "k" } })),
        ),
        ConditionExpression: junk,
        UpdateExpression: junk,
        KeyConditionExpression: fc.oneof(junk, fc.constant("pk = :v")),
        FilterExpression: junk,
        ProjectionExpression: junk,
        ExpressionAttributeNames: junk,
        ExpressionAttributeValues: fc.oneof(junk, fc.dictionary(fc.constantFrom(":v", ":w", "#x"), junk)),
        ReturnValues: fc.oneof(
          junk,
          fc.constantFrom("NONE", "ALL_OLD", "ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"),
        ),
        Limit: junk,
        Segment: junk,
        TotalSegments: junk,
        ExclusiveStartKey: junk,
        ScanIndexForward: junk,
      },
      { requiredKeys: [] },
    )
    fc.assert(
      fc.property(request, (req) => {
        const r = req as never
        for (const op of [getItem, putItem, deleteItem, updateItem, query, scan]) {
          const out = (op as (s: typeof store, r: never) => Either.Either<unknown, { _tag: string }>)(
            store,
            r,
          )
          assert.ok(Either.isEither(out))
          if (Either.isLeft(out)) {
            assert.ok(["ValidationException", "ConditionalCheckFailedException"].includes(out.left._tag))
          }
        }
      }),
      { numRuns: runs * 3 },
    )
  })
})

describe("key order", () => {
  const utf8 = new TextEncoder()
  const byBytes = (a: Uint8Array, b: Uint8Array): number => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!
    return a.length - b.length
  }
  it("string sort keys come back in UTF-8 byte order (checked against TextEncoder)", () => {
    const codePoint = fc
      .integer({ min: 0x20, max: 0x10ffff })
      .filter((c) => c < 0xd800 || c > 0xdfff) // no lone surrogates: keys are well-formed text
      .map((c) => String.fromCodePoint(c))
    const unit = fc.oneof(
      fc.constantFrom("a", "z", "\uFFFD", "\uE000", "é", "\u{10000}", "\u{1F600}"),
      codePoint,
    )
    const s = fc.string({ unit, minLength: 1, maxLength: 6 })
    fc.assert(
      fc.property(fc.uniqueArray(s, { minLength: 1, maxLength: 20 }), (keys) => {
        const t = new InMemoryItemStore({
          partitionKey: { name: "pk", type: "S" },
          sortKey: { name: "sk", type: "S" },
        })
        for (const k of keys)
          assert.ok(Either.isRight(putItem(t, { Item: { pk: { S: "p" }, sk: { S: k } } })))
        const r = Either.getOrThrow(
          query(t, { KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": { S: "p" } } }),
        )
        const got = r.Items.map((i) => (i.sk as { S: string }).S)
        const want = [...keys].sort((a, b) => byBytes(utf8.encode(a), utf8.encode(b)))
        assert.deepEqual(got, want)
      }),
      { numRuns: runs },
    )
  })
  it("number sort keys come back in numeric order (checked against the BigInt reference)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(numberText, { minLength: 1, maxLength: 20, selector: (t) => fromScaled(toScaled(t)) }),
        (keys) => {
          const t = new InMemoryItemStore({
            partitionKey: { name: "pk", type: "S" },
            sortKey: { name: "sk", type: "N" },
          })
          for (const k of keys)
            assert.ok(Either.isRight(putItem(t, { Item: { pk: { S: "p" }, sk: { N: k } } })))
          const r = Either.getOrThrow(
            query(t, {
              KeyConditionExpression: "pk = :p",
              ExpressionAttributeValues: { ":p": { S: "p" } },
              ScanIndexForward: false,
            }),
          )
          const got = r.Items.map((i) => toScaled((i.sk as { N: string }).N))
          const want = keys.map(toScaled).sort((a, b) => (a < b ? 1 : a > b ? -1 : 0))
          assert.deepEqual(got, want)
        },
      ),
      { numRuns: runs },
    )
  })
})
