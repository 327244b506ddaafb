import { describe, it } from "node:test"
import assert from "node:assert/strict"
import {
  ConditionalCheckFailedException,
  type DynamoDBError,
  DynamoDBErrorTags,
  InternalServerError,
  isDynamoDBError,
  ItemCollectionSizeLimitExceededException,
  LimitExceededException,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ResourceInUseException,
  ResourceNotFoundException,
  ThrottlingException,
  toWireError,
  TransactionCanceledException,
  TransactionConflictException,
  ValidationException,
} from "@partita/core"
import { Effect, Either } from "effect"

const all: ReadonlyArray<DynamoDBError> = [
  new ValidationException({ message: "m" }),
  new ConditionalCheckFailedException({ message: "m" }),
  new ProvisionedThroughputExceededException({ message: "m" }),
  new ThrottlingException({ message: "m" }),
  new ResourceNotFoundException({ message: "m" }),
  new ResourceInUseException({ message: "m" }),
  new ItemCollectionSizeLimitExceededException({ message: "m" }),
  new TransactionConflictException({ message: "m" }),
  new TransactionCanceledException({ message: "m", cancellationReasons: [{ code: "None" }] }),
  new RequestLimitExceeded({ message: "m" }),
  new LimitExceededException({ message: "m" }),
  new InternalServerError({ message: "m" }),
]

describe("DynamoDB errors", () => {
  it("are tagged with DynamoDB's names and carry the message", () => {
    assert.deepEqual(
      all.map((e) => e._tag),
      [...DynamoDBErrorTags],
    )
    for (const e of all) {
      assert.equal(e.message, "m")
      assert.ok(e instanceof Error)
      assert.ok(isDynamoDBError(e))
    }
    assert.equal(isDynamoDBError(new Error("x")), false)
  })

  it("mark as retryable exactly the throttling, conflict and server errors", () => {
    const retryable = all.filter((e) => e.retryable).map((e) => e._tag)
    assert.deepEqual(retryable, [
      "ProvisionedThroughputExceededException",
      "ThrottlingException",
      "ItemCollectionSizeLimitExceededException",
      "TransactionConflictException",
      "RequestLimitExceeded",
      "LimitExceededException",
      "InternalServerError",
    ])
    assert.equal(new InternalServerError({ message: "x" }).status, 500)
  })

  it("can be caught by tag in Effect", () => {
    const program = Effect.fail(new ThrottlingException({ message: "slow down" })).pipe(
      Effect.catchTag("ThrottlingException", (e) => Effect.succeed(`retry: ${e.message}`)),
    )
    assert.equal(Effect.runSync(program), "retry: slow down")
    const r = Effect.runSync(Effect.either(Effect.fail(new ValidationException({ message: "bad" }))))
    assert.ok(Either.isLeft(r) && r.left._tag === "ValidationException")
  })

  it("serialize to DynamoDB's wire form", () => {
    assert.deepEqual(
      toWireError(new ResourceNotFoundException({ message: "Requested resource not found" })),
      {
        __type: "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
        message: "Requested resource not found",
      },
    )
    assert.equal(
      toWireError(new ValidationException({ message: "x" })).__type,
      "com.amazon.coral.validate#ValidationException",
    )
  })
})
