// The engine's only windows on the world. Live nodes pass real implementations
// (node/store, node/p2p, node/http, system clock and crypto randomness); the simulator passes
// deterministic ones, so many engines run in one process from one seed.
import type { Adapter, CardKey, Logger, PartnerDelivery } from '../../adapters/contract.js'
import type { ControlMessage, FeedMessage, PlatformHealth, ShopId } from '../../protocol/index.js'

// The adapter contract (Adapter, Logger and the records they carry) is owned by adapters/contract.ts,
// the one file adapters and the node share; re-exported so the engine names all its ports here.
export type { Adapter, CardKey, Logger, PartnerDelivery }

export interface TimerHandle {
  readonly id: number
}

export interface Clock {
  /** ms since the Unix epoch. */
  now(): number
  setTimer(delayMs: number, callback: () => void): TimerHandle
  clearTimer(handle: TimerHandle): void
}

export interface Rng {
  bytes(byteLength: number): Uint8Array
}

// ---- Store: a key-value store of JSON values in named sections, with atomic batches ----

export type Section =
  | 'meta' // small singletons: our feed head, epoch, fence
  | 'entries' // every feed entry we hold (ours and partners'), key author!seq
  | 'heads' // verified head per author
  | 'orders' // escrowed orders, key origin!order
  | 'acks' // highest seq of our feed each partner acknowledged
  | 'agreements' // terms hash → agreement
  | 'cards' // shop id → signed shop card
  | 'forks' // author → fork proof
  | 'incidents'
  | 'allotments'
  | 'keys'
  | 'peer-keys' // keys other origins consigned to co-partners, by id only: origin!keyId
  | 'ledger'
  | 'receipts' // receipts for orders, key origin!order!fulfiller
  | 'outbox' // buyer mails to send, key origin!order
  | 'authority' // takeover authority adopted per origin!epoch
  | 'held' // partners' receipts held until their epoch's authority is known, key origin!order!fulfiller
  | 'refusals' // what partners sent that we refused, per partner (evidence index for the operator)

export type StoreOp =
  | { readonly type: 'put'; readonly section: Section; readonly key: string; readonly value: unknown }
  | { readonly type: 'del'; readonly section: Section; readonly key: string }

export interface RangeOptions {
  readonly gt?: string
  readonly gte?: string
  readonly lt?: string
  readonly lte?: string
  readonly limit?: number
  readonly reverse?: boolean
  /** False: keys only, every value yielded as undefined (an index scan skips opening each value). */
  readonly values?: false
}

export interface Store {
  get<T = unknown>(section: Section, key: string): Promise<T | undefined>
  getMany<T = unknown>(section: Section, keys: readonly string[]): Promise<(T | undefined)[]>
  /** Atomic. `sync: true` before anything is acknowledged to anyone (docs/design.md §2, invariant 2). */
  write(ops: readonly StoreOp[], options: { readonly sync: boolean }): Promise<void>
  range<T = unknown>(section: Section, options: RangeOptions): AsyncIterable<[string, T]>
  close(): Promise<void>
}

// ---- Transport: authenticated messages to and from partners ----

export type Protocol = 'feed' | 'control'
export type WireMessage<P extends Protocol> = P extends 'feed' ? FeedMessage : ControlMessage

export interface InboundHandler {
  /**
   * `from` is the authenticated remote shop; the message already passed its wire schema. The
   * promise resolves once the engine has taken the message: a transport reads the partner's next
   * frame only then (backpressure), so a partner that sends faster than we apply waits for us.
   */
  onFeedMessage(from: ShopId, message: FeedMessage): Promise<void> | void
  onControlMessage(from: ShopId, message: ControlMessage): Promise<void> | void
  onPeerConnected(peer: ShopId): void
  onPeerDisconnected(peer: ShopId): void
}

export interface Transport {
  /** Queues a message; false when the peer is unreachable or its queue is full (caller retries later). */
  send(peer: ShopId, protocol: 'feed', message: FeedMessage): boolean
  send(peer: ShopId, protocol: 'control', message: ControlMessage): boolean
  isConnected(peer: ShopId): boolean
  setHandler(handler: InboundHandler): void
}

export interface MailMessage {
  readonly to: string
  readonly subject: string
  readonly text: string
  readonly html?: string
}

export interface Mailer {
  send(message: MailMessage): Promise<void>
}

export type { PlatformHealth }
