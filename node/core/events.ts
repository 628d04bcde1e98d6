// Engine events: what happened, in order, with the engine's own clock. The node logs them; the
// simulator and the deterministic tests compare them across runs.
import type { ShopId, UnservedReason } from '../../protocol/index.js'

export type EngineEvent =
  | { kind: 'own-append'; seq: number; records: number }
  | { kind: 'entries-stored'; author: ShopId; fromSeq: number; toSeq: number; records: number }
  | { kind: 'entry-rejected'; author: ShopId; from: ShopId; code: string; reason: string }
  | { kind: 'gap'; author: ShopId; afterSeq: number; askedFrom: ShopId }
  | { kind: 'fork'; author: ShopId; seq: number }
  | { kind: 'rejoin'; phase: 'started' | 'done'; reason: 'restored' | 'recovered'; seq: number }
  | { kind: 'ack'; partner: ShopId; seq: number }
  /** A party's signed revocation of `partner` is durable here (revocations.ts); `reached`: with it the quorum is. */
  | { kind: 'revocation'; partner: ShopId; by: ShopId; reason: string; reached: boolean }
  /** `partner` is revoked (a quorum signed, D94); `us`: the federation revoked this shop. The node restarts the engine without it. */
  | { kind: 'partner-revoked'; partner: ShopId; by: ShopId[]; us: boolean }
  | { kind: 'heartbeat'; from: ShopId; platform: string }
  | { kind: 'message-rejected'; from: ShopId; code: string; reason: string }
  | { kind: 'suspect'; origin: ShopId; epoch: number; reason: string; lastHeartbeatAt: number | null }
  | { kind: 'vote'; origin: ShopId; voter: ShopId; epoch: number }
  | { kind: 'certified'; origin: ShopId; epoch: number; voters: { voter: ShopId; time: number }[] }
  | { kind: 'taken-over'; origin: ShopId; epoch: number }
  /** Partners took over our orders; `pending`: paid orders not delivered, now theirs to deliver. */
  | { kind: 'own-takeover'; epoch: number; how: 'certificate' | 'request'; voters: { voter: ShopId; time: number }[]; pending: number }
  | { kind: 'fence'; fenced: boolean }
  /** The shop's adapter sent no health report for `silentMs`: our platform is now `unknown`. */
  | { kind: 'platform-silent'; silentMs: number }
  /** A partner failed the fire drill (drill.ts): it could not show keys it holds, or would not serve. */
  | { kind: 'drill-failed'; partner: ShopId; reason: string }
  /** Orders just escrowed that no partner could serve now (coverage.ts); `orders` lists at most MAX_UNSERVED_PER_EVENT of `count`. */
  | { kind: 'order-unserved'; sku: string; reason: UnservedReason; orders: string[]; count: number }
  /** A buyer's mail failed (outbox.ts); `gaveUp` once the last attempt failed (the claim page still shows the key). */
  | { kind: 'mail-failing'; origin: ShopId; order: string; attempts: number; gaveUp: boolean }
  /** A partner's statement to us arrived (settlement.ts); `mismatches` lines do not match our books. */
  | { kind: 'statement-received'; from: ShopId; statement: string; lines: number; mismatches: number }
  /** A partner disputed lines of a statement we issued. */
  | { kind: 'statement-disputed'; by: ShopId; statement: string; lines: number }
  /** What `origin` owes us reached the credit limit: we take over no more of it until it settles (fulfilment.ts). */
  | { kind: 'credit-limit'; origin: ShopId; owedMinorUnits: number; limitMinorUnits: number }
  | { kind: 'claim'; origin: ShopId; orders: number; claimant: ShopId }
  | { kind: 'delivered'; origin: ShopId; order: string; fulfiller: ShopId; keyIds: string[]; epoch: number; paidAt?: number }
  | { kind: 'duplicate'; origin: ShopId; order: string; fulfillers: ShopId[] }
  | { kind: 'handback'; origin: ShopId; epoch: number; receipts: number }
  | { kind: 'refused'; from: ShopId; what: string; origin: ShopId | null; order: string | null; epoch: number | null; reason: string }

export type EventSink = (at: number, event: EngineEvent) => void
