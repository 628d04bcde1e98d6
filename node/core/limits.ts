// Every timing and limit of the engine, named with its unit, in one place (TigerBeetle's style: a
// bound on everything, and a reader can see them all at once). What the terms set per federation
// (heartbeat, suspect window, takeover delay, …) is in the signed terms, not here; the protocol's
// own limits (frame sizes, records per entry) are in protocol/limits.ts. These are this node's.

// ---- time ----

/** One hour, for the terms' hourly value limits (takeover value per hour). */
export const HOUR_MS = 3_600_000
/** An own order pending longer than this is stuck: an auto-delivery shop delivers in seconds. */
export const STUCK_AFTER_MS = 10 * 60_000
/**
 * Times we show an origin our certificate for an epoch it also asked for, after it handed that
 * epoch back (one per suspectAfterMs, on its heartbeats): each showing can be lost, and without
 * one the origin holds our receipts dated before its own request (failover.ts).
 */
export const MAX_CERTIFICATE_SHOWINGS_AFTER_HANDBACK = 8
/** Multiple of suspectAfterMs before a partner never heard from since our start is suspected. */
export const NEVER_HEARD_GRACE_FACTOR = 10
/** Heartbeat ticks between checks whether a statement is due (a period is hours; a tick ~1 s). */
export const STATEMENT_CHECK_EVERY_TICKS = 8
/** Heartbeat ticks between handback rounds that found nothing to do (receipts may arrive late). */
export const HANDBACK_RETRY_EVERY_TICKS = 8

// ---- feed and replication ----

/** Entries asked for at once when a partner's heartbeat shows its feed ahead of our copy. */
export const CATCH_UP_ENTRIES = 256
/** Our own feed's writer: records per entry, entries per synced flush, records queued at most. */
export const FEED_WRITER_LIMITS = {
  maxRecordsPerEntry: 1_000,
  maxEntriesPerFlush: 16,
  maxQueuedRecords: 100_000,
} as const
/** Replication towards each partner (see ReplicationLimits in replication.ts for each field). */
export const REPLICATION_LIMITS = {
  maxUnackedEntries: 64,
  maxFrameEntryBytes: 1024 * 1024,
  resendAfterMs: 1_000,
  recentEntries: 256,
} as const

/**
 * A restored node asks a partner that has not confirmed its feed again after this long: a partner
 * answers one feed.get at a time and drops the rest (peer-work.ts), so one ask may go unanswered.
 */
export const REJOIN_ASK_AGAIN_MS = 2_000

// ---- what one partner can make us do (peer-work.ts) ----

/** Feed pushes from one partner being applied at once; the next frame is read only then. */
export const INBOUND_FRAMES_PER_PEER = 2
/** Frames from one partner waiting beyond those; past this they are dropped (it resends). */
export const WAITING_FRAMES_PER_PEER = 16
/** feed.get answers per second per partner (token bucket) and the bucket's size. */
export const READS_PER_SECOND = 20
export const READ_BURST = 40
/** Other tasks (acks, claims, fork proofs) one partner's messages run at once. */
export const TASKS_PER_PEER = 32
/** Dropped work is logged on the first drop and then once per this many. */
export const DROPS_PER_LOG_LINE = 1_000

// ---- what we keep per partner ----

/** Receipts held per fulfiller until their epoch's authority is known. */
export const MAX_HELD_RECEIPTS_PER_PEER = 10_000
/** Refused messages kept per partner as evidence for the operator. */
export const MAX_REFUSALS_KEPT_PER_PEER = 1_000
/** Epochs per origin kept in memory; older ones stay on disk (a partner can sign takeovers of itself without end). */
export const MAX_EPOCHS_IN_MEMORY_PER_ORIGIN = 256

// ---- takeover and fulfilment ----

/** Orders reserved and receipted per batch: one claim entry and one receipt entry each. */
export const MAX_ORDERS_PER_FULFIL_BATCH = 500
/**
 * Orders we hold claimed but not yet reserved, at most: a claim holds orders against other
 * partners only for claimTtlMs, so we claim no more than we reserve within a few steps.
 */
export const MAX_ORDERS_CLAIMED_AHEAD = 4 * MAX_ORDERS_PER_FULFIL_BATCH
/**
 * Passes over the waiting orders in one fulfilment step: a pass whose picked orders had been
 * settled meanwhile (a co-partner delivered them) frees their keys for the next pass.
 */
export const MAX_CLAIM_PASSES_PER_STEP = 16
/** Heartbeats a takeover that reached a limit of the terms waits before it looks again. */
export const LIMITED_RECHECK_HEARTBEATS = 4
/** Heartbeats a takeover out of keys for an order waits before it looks for newly arrived keys. */
export const OUT_OF_KEYS_RECHECK_HEARTBEATS = 4
/** Deliveries written back to the shop per adapter call at handback. */
export const MAX_WRITE_BACKS_PER_CALL = 500

// ---- buyer mail (outbox.ts) ----

/** Mails read from the outbox per round; a full round schedules the next at once. */
export const MAX_MAILS_PER_ROUND = 500
/**
 * Mails handed to the mailer at once. Its pool bounds the SMTP connections (config.json
 * smtp.maxConnections, at most 32) and queues the rest, so each connection has its next message
 * ready when the relay answers.
 */
export const MAILS_IN_FLIGHT = 32
/** Attempts per mail before giving up (the claim page still shows the key). */
export const MAX_MAIL_ATTEMPTS = 10
/** Backoff after the n-th failed attempt: MAIL_BACKOFF_BASE_MS · 2ⁿ, at most MAX_MAIL_BACKOFF_MS. */
export const MAIL_BACKOFF_BASE_MS = 1_000
export const MAX_MAIL_BACKOFF_MS = 10 * 60_000

// ---- incident reports and admin views ----

/** Timeline entries per incident report, and duplicate deliveries listed in one. */
export const MAX_TIMELINE_ENTRIES = 500
export const MAX_DUPLICATES_LISTED = 1_000
/** Stuck orders counted at most, and own order rows read at most to count them (one status call). */
export const MAX_STUCK_COUNTED = 10_000
export const MAX_ROWS_READ_FOR_STUCK = 200_000
/** Held receipts listed in one refusals view. */
export const MAX_HELD_SHOWN = 1_000
