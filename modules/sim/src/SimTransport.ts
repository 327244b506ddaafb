/**
 * An Effect face over `SimNetwork` for nodes written as fibers: each endpoint has a bounded inbox
 * (`Queue`) filled by the network's handler; `receive` waits on virtual time. The plain
 * `SimNetwork` API stays primary; this is a convenience for Effect shells.
 */
import { Effect, Queue } from "effect"
import type { NodeId, SimNetwork } from "./Network.ts"

/** Default inbox bound per endpoint (messages beyond it are dropped, like a full socket buffer). */
export const DEFAULT_INBOX_MESSAGES_MAX = 4096

/** A received message. */
export interface Envelope<M> {
  readonly from: NodeId
  readonly msg: M
}

/** One node's view of the simulated network as Effects. */
export interface SimEndpoint<M> {
  readonly id: NodeId
  /** Send (fire and forget); succeeds with false when dropped at send time. */
  send(to: NodeId, msg: M): Effect.Effect<boolean>
  /** Wait for the next message. */
  readonly receive: Effect.Effect<Envelope<M>>
  /** Messages dropped because the inbox was full. */
  readonly overflow: () => number
}

/**
 * Attach an endpoint to node `id` of `net` (replacing the node's handler). The node must exist
 * (`net.addNode(id, az)`).
 */
export const makeEndpoint = <M>(
  net: SimNetwork<M>,
  id: NodeId,
  inboxMessagesMax = DEFAULT_INBOX_MESSAGES_MAX,
): Effect.Effect<SimEndpoint<M>> =>
  Effect.gen(function* () {
    const inbox = yield* Queue.bounded<Envelope<M>>(inboxMessagesMax)
    let overflow = 0
    net.setHandler(id, (msg, from) => {
      if (!Queue.unsafeOffer(inbox, { from, msg })) overflow++
    })
    return {
      id,
      send: (to, msg) => Effect.sync(() => net.send(id, to, msg)),
      receive: Queue.take(inbox),
      overflow: () => overflow,
    }
  })
