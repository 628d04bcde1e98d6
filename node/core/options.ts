// What a live node or the simulator hands the engine: identity, terms, and the ports.
import type { Agreement, BoxKeyPair, Identity, ShopCard, Signed } from '../../protocol/index.js'
import type { EventSink } from './events.js'
import type { Adapter, Clock, Logger, Mailer, Rng, Store, Transport } from './ports.js'

export interface EngineOptions {
  readonly identity: Identity
  readonly box: BoxKeyPair
  /** Box key pairs rotated out, newest first (D93): what was sealed to them still opens. */
  readonly previousBoxes?: readonly BoxKeyPair[]
  readonly name: string
  readonly addrs: () => string[]
  /** Base URL of our public pages (claim page, outage notice), or null. */
  readonly publicUrl?: string | null
  readonly agreement: Agreement
  /** Earlier agreements between the same parties: receipts made under them are judged by them. */
  readonly earlierAgreements?: readonly Agreement[]
  readonly cards: readonly Signed<ShopCard>[]
  readonly clock: Clock
  readonly rng: Rng
  readonly store: Store
  readonly transport: Transport
  readonly logger: Logger
  readonly adapter: Adapter
  readonly mailer: Mailer
  readonly emit?: EventSink
  /** A fire drill with every partner this often (node/core/drill.ts); null or absent: only when asked. */
  readonly drillEveryMs?: number | null
  /**
   * A deliberately planted bug, for the simulator's canary tests only (never set in a real node):
   * 'reuse-keys' hands out free keys without taking them off the free list; 'lone-receipts'
   * treats every epoch as adopted, so a partner's receipts need no takeover (issue 16's attack 1);
   * 'no-rejoin' ignores a restore's marker, so a restored node writes at once from its old head;
   * 'no-keyring' forgets rotated-out box keys, so what was sealed to them no longer opens;
   * 'seal-to-revoked' goes on sealing to a party a quorum revoked (D94).
   */
  readonly canary?: 'reuse-keys' | 'lone-receipts' | 'no-rejoin' | 'no-keyring' | 'seal-to-revoked'
}
