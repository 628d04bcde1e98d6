// Every size and count the protocol accepts has a ceiling here, so a peer can never make another
// node allocate without bound. Changing a limit changes what the wire accepts: bump PROTOCOL_VERSION.
export const PROTOCOL_VERSION = 1
/**
 * Additions within PROTOCOL_VERSION that an older node of the same major does without (D96): new
 * message types, each named in MESSAGE_SINCE_MINOR. 0 is the wire of Standin 0.1.0; 1 added
 * `feed.held` (D92), `card` (D93) and `hello`; 2 added `terms.ask` (D97); 3 added terms carrying
 * a `succession` (D99), which an older node's strict schema refuses. Nodes tell each other theirs
 * in `hello`.
 */
export const PROTOCOL_MINOR = 3

export const LIMITS = {
  /** Largest encoded frame on any stream, and the largest signed document. */
  maxFrameBytes: 4 * 1024 * 1024,
  /** Largest HTTP body the node reads. */
  maxHttpBodyBytes: 1024 * 1024,
  /** Records one feed entry may carry (batching is what makes escrow fast). */
  maxRecordsPerEntry: 2_000,
  /** Entries in one catch-up response. */
  maxEntriesPerResponse: 256,
  /** Card keys in one consignment. */
  maxKeysPerAllotment: 5_000,
  /** Bytes of one card key (codes, links, activation strings). */
  maxCardKeyBytes: 1_024,
  /** Parties to one agreement. */
  maxParties: 16,
  /** SKUs one agreement covers. */
  maxSkus: 1_000,
  /** Receipt lines in one statement. */
  maxStatementLines: 5_000,
  /** Lines one dispute names. */
  maxDisputeLines: 10_000,
  /** Receipts one handback or receipt.ack acknowledges. */
  maxAcksPerRecord: 10_000,
  /** Recipients a sealed box is addressed to. */
  maxRecipients: 32,
  /** Down-votes in one certificate. */
  maxVotes: 16,
  /** Multiaddrs in a shop card. */
  maxAddrs: 16,
  /** Bytes of a short identifier (order id, sku, allotment id, key id). */
  maxIdChars: 128,
  /** Characters of a human-readable name or reason. */
  maxTextChars: 500,
  /** Characters of a URL. */
  maxUrlChars: 2_048,
  /** Largest ciphertext in one sealed box (base64url characters). */
  maxSealedChars: 4 * 1024 * 1024,
  /** Largest quantity of one order. */
  maxOrderQty: 1_000,
  /** Largest amount in minor units (safe for integer arithmetic with bigint headroom). */
  maxMinorUnits: Number.MAX_SAFE_INTEGER,
  /** Fee basis points ceiling: 100 %. */
  maxFeeBps: 10_000,
} as const
