import { z } from 'zod'
import { LIMITS, PROTOCOL_VERSION } from '../limits.js'
import { Currency, DurationMs, Hash, Id, Money, PartySignature, ShopId, TimeMs } from './primitives.js'
import { signedSchema } from './signed.js'

/** One shop's sku that the federation covers, with the cap on keys any one partner may hold. */
export const SkuTerms = z.strictObject({
  shop: ShopId,
  sku: Id,
  /** Most keys of this sku one holder may have consigned and not yet delivered or returned. */
  allotmentCap: z
    .number()
    .int()
    .nonnegative()
    .max(LIMITS.maxKeysPerAllotment * 100),
  /** Value of one key, used in settlement when a partner delivers it. */
  unitValue: Money,
})
export type SkuTerms = z.infer<typeof SkuTerms>

/**
 * Timings in ms. The rule `takeoverDelayMs >= leaseTtlMs + maxClockSkewMs + maxMessageDelayMs`
 * guarantees that an origin which lost its lease has fenced itself before partners may deliver.
 */
export const Timing = z.strictObject({
  heartbeatMs: DurationMs.min(10),
  suspectAfterMs: DurationMs,
  leaseTtlMs: DurationMs,
  maxClockSkewMs: DurationMs,
  maxMessageDelayMs: DurationMs,
  takeoverDelayMs: DurationMs,
  /** How long a paid order may wait before a partner fulfils it. */
  graceMs: DurationMs,
  /** How long each lower-ranked partner waits per rank before claiming. */
  claimTimeoutMs: DurationMs.min(1),
  /** How often a shop's adapter repeats its health report (absent: DEFAULT_HEALTH_REPORT_MS). */
  healthReportMs: DurationMs.min(100).optional(),
  /**
   * Reports missed in a row before the origin's node calls its platform `unknown` and warns the
   * operator (absent: DEFAULT_MISSED_HEALTH_REPORTS). Silence alone never starts a takeover
   * (adapters/README.md, "Silence").
   */
  missedHealthReports: z.number().int().min(1).max(1_000).optional(),
})
export type Timing = z.infer<typeof Timing>

/** adapters/README.md asks for a health report "every minute or so". */
export const DEFAULT_HEALTH_REPORT_MS = 60_000
export const DEFAULT_MISSED_HEALTH_REPORTS = 3

/** How long the shop may send no health report before its platform counts as `unknown`. */
export function healthSilenceMs(t: Timing): number {
  return (t.healthReportMs ?? DEFAULT_HEALTH_REPORT_MS) * (t.missedHealthReports ?? DEFAULT_MISSED_HEALTH_REPORTS)
}

export const OutageLimits = z.strictObject({
  maxOrdersPerOutage: z.number().int().nonnegative().max(10_000_000),
  maxValuePerOutage: Money,
  maxOrdersPerHour: z.number().int().nonnegative().max(10_000_000),
  maxValuePerHour: Money,
})
export type OutageLimits = z.infer<typeof OutageLimits>

export const Fee = z.strictObject({
  bps: z.number().int().nonnegative().max(LIMITS.maxFeeBps),
  fixed: Money,
})
export type Fee = z.infer<typeof Fee>

export const SettlementTerms = z.strictObject({
  currency: Currency,
  periodMs: DurationMs.min(60_000),
  settleThreshold: Money,
  creditLimit: Money,
})
export type SettlementTerms = z.infer<typeof SettlementTerms>

/** Smallest quorum that keeps invariant 4 (docs/design.md §2): never one partner alone, always a majority of partners. */
export function minimumQuorum(partyCount: number): number {
  const partnersOfAnOrigin = partyCount - 1
  return Math.max(2, Math.floor(partnersOfAnOrigin / 2) + 1)
}

/**
 * Leases an origin must hold to keep delivering escrowed orders. A certificate needs `quorum` of
 * the origin's partners; while `partners - quorum + 1` of them still grant it a lease (and so
 * have not voted), no certificate can form. Zero when certificates are impossible (two parties).
 */
export function leaseQuorum(terms: { parties: readonly string[]; quorum: number }): number {
  return Math.max(0, terms.parties.length - 1 - terms.quorum + 1)
}

/**
 * Parties other than `partner` whose signed `partner.revoked` records revoke it everywhere (D94):
 * the certificate quorum, or every other party when there are fewer (two parties: the other one).
 */
export function revocationQuorum(terms: { parties: readonly string[]; quorum: number }): number {
  return Math.min(terms.quorum, terms.parties.length - 1)
}

/**
 * A shop's identity key handing over to a new one (D99). The predecessor signs it; it travels in
 * the revision that puts the successor in the predecessor's place, which the successor signs as a
 * party: both keys consent. It names the terms it follows, so it serves that one revision only.
 */
export const Succession = z.strictObject({
  predecessor: ShopId,
  successor: ShopId,
  /** Hash of the terms in force that the revision carrying it supersedes. */
  supersedes: Hash,
  at: TimeMs,
})
export type Succession = z.infer<typeof Succession>
export const SignedSuccession = signedSchema(Succession)

const TermsShape = z.strictObject({
  protocol: z.literal(PROTOCOL_VERSION),
  /** Name of this federation's agreement; revisions keep it. */
  id: Id,
  revision: z.number().int().min(1),
  /** Hash of the terms this revision replaces, null for the first. */
  supersedes: Hash.nullable(),
  /** Sorted, distinct. */
  parties: z.array(ShopId).min(2).max(LIMITS.maxParties),
  skus: z.array(SkuTerms).max(LIMITS.maxSkus),
  /** Down-votes from an origin's partners needed to certify it down. */
  quorum: z.number().int().min(2).max(LIMITS.maxParties),
  timing: Timing,
  limits: OutageLimits,
  fee: Fee,
  settlement: SettlementTerms,
  createdAt: TimeMs,
  expiresAt: TimeMs,
  /** Only in a revision that hands a party's place to its new identity (D99; protocol minor 3). */
  succession: SignedSuccession.optional(),
})

/** The mutual-aid terms every party signs; every record refers to their hash. */
export const Terms = TermsShape.superRefine((terms, ctx) => {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message })
  const sorted = [...terms.parties].sort()
  if (new Set(terms.parties).size !== terms.parties.length) issue(['parties'], 'must be distinct')
  else if (sorted.some((p, i) => p !== terms.parties[i])) issue(['parties'], 'must be sorted')
  const partnerCount = terms.parties.length - 1
  if (terms.quorum < minimumQuorum(terms.parties.length))
    issue(['quorum'], `must be at least ${minimumQuorum(terms.parties.length)} (a majority of an origin's partners, never one)`)
  // With two parties quorum 2 exceeds the single partner: no certificate can form, and only the
  // origin's own signed takeover request authorises a takeover.
  if (terms.quorum > Math.max(2, partnerCount)) issue(['quorum'], `cannot exceed the ${partnerCount} partners of an origin`)
  const t = terms.timing
  if (t.takeoverDelayMs < t.leaseTtlMs + t.maxClockSkewMs + t.maxMessageDelayMs)
    issue(['timing', 'takeoverDelayMs'], 'must be >= leaseTtlMs + maxClockSkewMs + maxMessageDelayMs')
  if (t.suspectAfterMs <= t.heartbeatMs) issue(['timing', 'suspectAfterMs'], 'must exceed heartbeatMs')
  if (t.leaseTtlMs <= t.heartbeatMs) issue(['timing', 'leaseTtlMs'], 'must exceed heartbeatMs')
  const currency = terms.settlement.currency
  const money: [string[], { currency: string }][] = [
    [['limits', 'maxValuePerOutage'], terms.limits.maxValuePerOutage],
    [['limits', 'maxValuePerHour'], terms.limits.maxValuePerHour],
    [['fee', 'fixed'], terms.fee.fixed],
    [['settlement', 'settleThreshold'], terms.settlement.settleThreshold],
    [['settlement', 'creditLimit'], terms.settlement.creditLimit],
  ]
  for (const [path, m] of money) if (m.currency !== currency) issue(path, `must be in ${currency}`)
  if (terms.settlement.creditLimit.minorUnits <= terms.settlement.settleThreshold.minorUnits)
    issue(['settlement', 'creditLimit'], 'must exceed settleThreshold')
  if (terms.expiresAt <= terms.createdAt) issue(['expiresAt'], 'must be later than createdAt')
  if ((terms.revision === 1) !== (terms.supersedes === null)) issue(['supersedes'], 'must be null exactly when revision is 1')
  const handover = terms.succession?.body
  if (handover) {
    if (handover.supersedes !== terms.supersedes) issue(['succession', 'body', 'supersedes'], 'must be the hash these terms supersede')
    if (!terms.parties.includes(handover.successor)) issue(['succession', 'body', 'successor'], 'must be a party')
    if (terms.parties.includes(handover.predecessor)) issue(['succession', 'body', 'predecessor'], 'must not be a party any more')
  }
  const parties = new Set(terms.parties)
  const seen = new Set<string>()
  terms.skus.forEach((s, i) => {
    if (!parties.has(s.shop)) issue(['skus', i, 'shop'], 'must be a party')
    const key = `${s.shop}\n${s.sku}`
    if (seen.has(key)) issue(['skus', i, 'sku'], 'is listed twice for this shop')
    seen.add(key)
  })
})
export type Terms = z.infer<typeof Terms>

/** Terms plus the signatures of the parties; in force once every party has signed. */
export const Agreement = z.strictObject({
  terms: Terms,
  signatures: z.array(PartySignature).max(LIMITS.maxParties),
})
export type Agreement = z.infer<typeof Agreement>
