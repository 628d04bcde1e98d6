// Engine events: what happened, in order, with the engine's own clock. The node logs them; the
// simulator and the deterministic tests compare them across runs.
import type { ShopId } from '../../protocol/index.js'

export type EngineEvent =
  | { kind: 'own-append'; seq: number; records: number }
  | { kind: 'entries-stored'; author: ShopId; fromSeq: number; toSeq: number; records: number }
  | { kind: 'entry-rejected'; author: ShopId; from: ShopId; code: string; reason: string }
  | { kind: 'gap'; author: ShopId; afterSeq: number; askedFrom: ShopId }
  | { kind: 'fork'; author: ShopId; seq: number }
  | { kind: 'ack'; partner: ShopId; seq: number }
  | { kind: 'heartbeat'; from: ShopId; platform: string }
  | { kind: 'message-rejected'; from: ShopId; code: string; reason: string }

export type EventSink = (at: number, event: EngineEvent) => void
