// Drafting the mutual-aid terms when a shop joins: a preset for the timings, the parties from the
// invites, and optional overrides from a JSON file. The result must parse as Terms or nothing is signed.
import { readFileSync } from 'node:fs'
import { refuseFractionalMinorUnits } from './money-input.js'
import { formatZodError, type ShopId, type SkuTerms, Terms, type Timing } from '../../protocol/index.js'
import type { TermsPreset } from './schemas.js'

const DAY_MS = 86_400_000

/** `local` suits one machine (demo, tests); `standard` tolerates real networks and clock skew. */
export const TIMING_PRESETS: Record<TermsPreset, Timing> = {
  local: {
    heartbeatMs: 250,
    suspectAfterMs: 750,
    leaseTtlMs: 750,
    maxClockSkewMs: 100,
    maxMessageDelayMs: 150,
    takeoverDelayMs: 1_000,
    graceMs: 0,
    claimTimeoutMs: 200,
  },
  standard: {
    heartbeatMs: 1_000,
    suspectAfterMs: 5_000,
    leaseTtlMs: 6_000,
    maxClockSkewMs: 2_000,
    maxMessageDelayMs: 2_000,
    takeoverDelayMs: 10_000,
    graceMs: 5_000,
    claimTimeoutMs: 1_000,
  },
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(over)) {
    const current = out[key]
    out[key] = isObject(current) && isObject(value) ? deepMerge(current, value) : value
  }
  return out
}

export function draftTerms(input: { id: string; parties: ShopId[]; preset: TermsPreset; nowMs: number; termsFile?: string; skus?: SkuTerms[] }): Terms {
  const parties = [...new Set(input.parties)].sort()
  const cny = (minorUnits: number) => ({ minorUnits, currency: 'CNY' })
  const base: Terms = {
    protocol: 1,
    id: input.id,
    revision: 1,
    supersedes: null,
    parties,
    skus: input.skus ?? [],
    quorum: Math.max(2, Math.floor((parties.length - 1) / 2) + 1),
    timing: TIMING_PRESETS[input.preset],
    limits: { maxOrdersPerOutage: 10_000, maxValuePerOutage: cny(10_000_000), maxOrdersPerHour: 5_000, maxValuePerHour: cny(5_000_000) },
    fee: { bps: 300, fixed: cny(0) },
    settlement: { currency: 'CNY', periodMs: 7 * DAY_MS, settleThreshold: cny(100_000), creditLimit: cny(2_000_000) },
    createdAt: input.nowMs,
    expiresAt: input.nowMs + 365 * DAY_MS,
  }
  let draft: unknown = base
  if (input.termsFile) {
    let overrides: unknown
    try {
      const text = readFileSync(input.termsFile, 'utf8')
      refuseFractionalMinorUnits(text)
      overrides = JSON.parse(text)
    } catch (error) {
      throw new Error(`${input.termsFile}: ${(error as Error).message}`)
    }
    if (!isObject(overrides)) throw new Error(`${input.termsFile}: must hold a JSON object of term overrides`)
    draft = deepMerge(base as unknown as Record<string, unknown>, overrides)
  }
  const parsed = Terms.safeParse(draft)
  if (!parsed.success) throw new Error(`terms: ${formatZodError(parsed.error)}`)
  return parsed.data
}
