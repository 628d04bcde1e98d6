// Property: whatever bytes a partner writes on a protocol stream, the node's inbound path
// (node/p2p/inbound.ts: lpStream with the bounded length decoder, then decodeFrame and the wire
// schema) hands the engine only schema-valid messages, answers every other frame with a typed
// rejection, aborts the stream on a length it cannot accept, and never throws.
//
// The streams are @libp2p/utils' in-memory stream pairs, so the real framing code runs without a
// network; the bytes are cut into random chunks so frames also arrive in pieces.
import type { Connection } from '@libp2p/interface'
import { streamPair } from '@libp2p/utils'
import fc from 'fast-check'
import type { z } from 'zod'
import { describe, expect, it } from 'vitest'
import { encodeFrame } from '../../node/p2p/framing.js'
import { inboundHandler } from '../../node/p2p/inbound.js'
import { type P2pLimits, type P2pTransportOptions, resolveLimits } from '../../node/p2p/options.js'
import { ControlMessage, FeedMessage, fromUtf8, utf8 } from '../../protocol/index.js'
import { bob } from '../protocol/fixtures.js'
import { CONTROL_MESSAGES, FEED_MESSAGES } from './documents.js'
import { mutantOf, toJsonText } from './mutate.js'
import { FUZZ_SEED, fuzzParameters, SEED_LABEL } from './seed.js'

const STREAMS_PER_PROTOCOL = 1_500
const MIN_MUTATED_FRAMES_PER_PROTOCOL = 50_000
/** A guard against a hung stream, not a performance assertion. */
const HANG_GUARD_MS = 300_000

// The production limits, and small ones under which ordinary messages are already too long.
const LIMITS_BY_PROFILE: Record<'production' | 'small', P2pLimits> = {
  production: resolveLimits({} as P2pTransportOptions),
  small: resolveLimits({ maxFrameBytes: 1_024 } as P2pTransportOptions),
}

interface Frame {
  readonly payload: Uint8Array
  /** An unchanged message: it must be delivered as it was sent. */
  readonly sent?: unknown
  /** Its length prefix carries a redundant continuation byte (still a legal varint). */
  readonly padded: boolean
}

type Ending = 'clean' | 'too-long' | 'endless-prefix' | 'truncated' | 'partial-prefix'

const INVALID_UTF8 = [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]]

function frames(messages: readonly unknown[]): fc.Arbitrary<Frame> {
  const encoded = messages.map((m) => encodeFrame(m))
  const anyEncoded = fc.constantFrom(...encoded)
  const bytes = (payload: Uint8Array) => ({ payload })
  const changed: fc.Arbitrary<{ payload: Uint8Array; sent?: unknown }> = fc.oneof(
    { weight: 2, arbitrary: fc.nat({ max: messages.length - 1 }).map((i) => ({ payload: encoded[i]!, sent: messages[i] })) },
    { weight: 8, arbitrary: fc.oneof(...messages.map((m) => mutantOf(m, { grow: false }))).map((m) => bytes(utf8(toJsonText(m.value)))) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map(bytes) },
    { weight: 1, arbitrary: fc.tuple(anyEncoded, fc.nat()).map(([b, cut]) => bytes(b.subarray(0, cut % b.length))) },
    {
      weight: 1,
      arbitrary: fc.tuple(anyEncoded, fc.nat(), fc.integer({ min: 0, max: 7 })).map(([b, i, bit]) => {
        const c = Uint8Array.from(b)
        c[i % c.length]! ^= 1 << bit
        return bytes(c)
      }),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(anyEncoded, fc.nat(), fc.constantFrom(...INVALID_UTF8)).map(([b, i, bad]) => {
        const at = i % b.length
        return bytes(Uint8Array.from([...b.subarray(0, at), ...bad, ...b.subarray(at)]))
      }),
    },
    { weight: 1, arbitrary: fc.jsonValue().map((v) => bytes(utf8(toJsonText(v)))) },
  )
  return fc.tuple(changed, fc.boolean()).map(([f, pad]) => ({ ...f, padded: pad }))
}

const streams = (messages: readonly unknown[]) =>
  fc.record({
    profile: fc.constantFrom<'production' | 'small'>('production', 'production', 'production', 'production', 'production', 'small'),
    frames: fc.array(frames(messages), { minLength: 40, maxLength: 60, size: 'max' }),
    ending: fc.constantFrom<Ending>('clean', 'clean', 'clean', 'too-long', 'endless-prefix', 'truncated', 'partial-prefix'),
    extra: fc.nat({ max: 5_000 }),
    cuts: fc.array(fc.nat(), { maxLength: 5 }),
  })

/** Unsigned LEB128, as the length prefix is written. */
function varint(n: number): number[] {
  const out: number[] = []
  for (; n >= 0x80; n = Math.floor(n / 0x80)) out.push((n % 0x80) | 0x80)
  out.push(n)
  return out
}

function prefixed(frame: Frame, limits: P2pLimits): Uint8Array {
  const prefix = varint(frame.payload.length)
  if (frame.padded && prefix.length < limits.maxLengthPrefixBytes) {
    prefix[prefix.length - 1]! |= 0x80
    prefix.push(0x00)
  }
  return Buffer.concat([Uint8Array.from(prefix), frame.payload])
}

function endingBytes(ending: Ending, extra: number, limits: P2pLimits): Uint8Array {
  switch (ending) {
    case 'clean':
      return new Uint8Array()
    case 'too-long':
      return Uint8Array.from([...varint(limits.maxFrameBytes + 1 + extra), 0x7b])
    case 'endless-prefix':
      return new Uint8Array(limits.maxLengthPrefixBytes + 1 + (extra % 8)).fill(0x80)
    case 'truncated': {
      const declared = 2 + (extra % (limits.maxFrameBytes - 1))
      return Uint8Array.from([...varint(declared), ...utf8('{'.repeat(Math.min(declared - 1, 40)))])
    }
    case 'partial-prefix':
      return new Uint8Array(1 + (extra % limits.maxLengthPrefixBytes)).fill(0x80)
  }
}

type Event = { readonly delivered: unknown } | { readonly rejected: string }

async function runStream(schema: z.ZodType, limits: P2pLimits, bytes: Uint8Array, cuts: readonly number[]) {
  const events: Event[] = []
  const errors: string[] = []
  const handler = inboundHandler({
    protocol: schema === FeedMessage ? 'feed' : 'control',
    schema,
    limits,
    logger: { debug: () => {}, info: () => {}, warn: () => {}, error: (fields, message) => void errors.push(`${message} ${JSON.stringify(fields)}`) },
    isPartner: () => true,
    isRunning: () => true,
    deliver: (_from, message) => void events.push({ delivered: message }),
    reject: (_from, _protocol, reason) => void events.push({ rejected: reason }),
  })
  const [outbound, inbound] = await streamPair({ capacity: Number.MAX_SAFE_INTEGER })
  const done = handler(inbound, { remotePeer: { toString: () => bob.identity.id } } as unknown as Connection)
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  let from = 0
  for (const cut of [...at, bytes.length]) {
    if (cut > from) outbound.send(bytes.subarray(from, cut))
    from = cut
  }
  outbound.close().catch(() => {})
  await done
  return { events, errors, aborted: inbound.status === 'aborted' }
}

/** Whether the payload is a message by the wire rules alone (strict UTF-8, JSON, schema): whatever is delivered must be. */
function decodes(schema: z.ZodType, payload: Uint8Array): boolean {
  try {
    return schema.safeParse(JSON.parse(fromUtf8(payload))).success
  } catch {
    return false
  }
}

function fuzzProtocol(schema: z.ZodType, messages: readonly unknown[]) {
  return async () => {
    const tally = { frames: 0, mutated: 0, rejected: 0, delivered: 0, aborted: 0 }
    await fc.assert(
      fc.asyncProperty(streams(messages), async ({ profile, frames: sent, ending, extra, cuts }) => {
        const limits = LIMITS_BY_PROFILE[profile]
        // Frames up to the first one longer than the limit are read; that one ends the stream.
        const tooLong = sent.findIndex((f) => f.payload.length > limits.maxFrameBytes)
        const read = tooLong === -1 ? sent : sent.slice(0, tooLong)
        const fatal = tooLong !== -1 || ending === 'too-long' || ending === 'endless-prefix'
        const tail = tooLong === -1 ? [endingBytes(ending, extra, limits)] : sent.slice(tooLong).map((f) => prefixed(f, limits))
        const bytes = Uint8Array.from(Buffer.concat([...read.map((f) => prefixed(f, limits)), ...tail]))
        const { events, errors, aborted } = await runStream(schema, limits, bytes, cuts)

        const fail = (what: string): never => {
          throw new Error(`${what} (${profile} limits, ending ${ending}; events ${JSON.stringify(events).slice(0, 400)})`)
        }
        if (errors.length > 0) fail(`logged errors: ${errors.join('; ')}`)
        if (events.length !== read.length + (fatal ? 1 : 0)) fail(`${events.length} outcomes for ${read.length} frames`)
        read.forEach((frame, i) => {
          const event = events[i]!
          if ('delivered' in event) {
            if (frame.sent !== undefined && JSON.stringify(event.delivered) !== JSON.stringify(frame.sent)) fail(`frame ${i} delivered changed`)
            if (!schema.safeParse(event.delivered).success) fail(`frame ${i} delivered but not schema-valid`)
            if (!decodes(schema, frame.payload)) fail(`frame ${i} delivered, yet it is not a valid message`)
            tally.delivered += 1
          } else {
            if (frame.sent !== undefined) fail(`valid frame ${i} refused: ${event.rejected}`)
            if (typeof event.rejected !== 'string' || event.rejected === '') fail(`frame ${i} refused without a reason`)
            tally.rejected += 1
          }
          tally.frames += 1
          if (frame.sent === undefined) tally.mutated += 1
        })
        if (fatal) {
          const last = events[events.length - 1]!
          if (!('rejected' in last) || !last.rejected.startsWith('frame refused')) fail('a bad length was not refused')
          if (!aborted) fail('a bad length did not abort the stream')
          tally.frames += 1
          tally.mutated += 1
          tally.aborted += 1
        }
      }),
      fuzzParameters(STREAMS_PER_PROTOCOL),
    )
    console.info(`fuzz ${schema === FeedMessage ? 'feed' : 'control'} frames (seed ${FUZZ_SEED}): ${JSON.stringify(tally)}`)
    expect(tally.mutated).toBeGreaterThanOrEqual(MIN_MUTATED_FRAMES_PER_PROTOCOL)
    // Each outcome occurred, so each branch of the reader was exercised.
    expect(Math.min(tally.delivered, tally.rejected, tally.aborted)).toBeGreaterThan(0)
  }
}

describe(`inbound frames under mutation (${SEED_LABEL})`, () => {
  it(
    `feed protocol: ${STREAMS_PER_PROTOCOL} streams, ≥ ${MIN_MUTATED_FRAMES_PER_PROTOCOL} mutated frames, only valid messages delivered`,
    fuzzProtocol(FeedMessage, FEED_MESSAGES),
    HANG_GUARD_MS,
  )
  it(
    `control protocol: ${STREAMS_PER_PROTOCOL} streams, ≥ ${MIN_MUTATED_FRAMES_PER_PROTOCOL} mutated frames, only valid messages delivered`,
    fuzzProtocol(ControlMessage, CONTROL_MESSAGES),
    HANG_GUARD_MS,
  )
})
