// Malformed parts of an HTTP request (body, query string, path parameter) and the oracle that says
// whether a generated part would in fact be accepted, so only refusals are ever asserted.
import fc from 'fast-check'
// fastify's router (find-my-way) parses query strings with fast-querystring; the oracle must read
// a query exactly as the server does, or it would call a refused request valid and vice versa.
import { parse as parseQuery } from 'fast-querystring'
import type { z } from 'zod'
import { LIMITS } from '../../protocol/index.js'
import { hostileValue, mutantOf, toJsonText, VERY_DEEP } from './mutate.js'

/** Where a refusal is expected to point: the request part and, when known, the changed field. */
export interface Target {
  readonly part: 'body' | 'query' | 'params'
  readonly path?: readonly string[]
}

export interface BodyPart {
  readonly payload: string | Buffer
  readonly contentType: string | null
  readonly target: Target
}

export const JSON_TYPE = 'application/json'
const JSON_TYPES = [JSON_TYPE, 'application/json; charset=utf-8']
const OTHER_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/octet-stream',
  'application/jsonx',
  'text/json',
]

/** fastify's maxParamLength: a longer path segment matches no route. */
const MAX_PARAM_CHARS = 100

// Any code points, lone surrogates included. (fc.string's 'binary' unit builds a table of a million
// entries on first use, which costs more than the strings it makes here.)
const anyCodePoints = fc.array(fc.integer({ min: 0, max: 0x10ffff }), { maxLength: 200 }).map((codes) => String.fromCodePoint(...codes))

export function malformedBody(valid: unknown): fc.Arbitrary<BodyPart> {
  const text = toJsonText(valid)
  const body = (payload: string | Buffer, contentType: string | null = JSON_TYPE, path?: readonly string[]): BodyPart =>
    brief({ payload, contentType, target: path === undefined ? { part: 'body' } : { part: 'body', path } })
  const oversized = body(text + ' '.repeat(LIMITS.maxHttpBodyBytes + 1 - text.length))
  const veryDeep = body(VERY_DEEP)
  return fc.oneof(
    { weight: 640, arbitrary: mutantOf(valid).map((m) => body(toJsonText(m.value), JSON_TYPE, m.path.map(String))) },
    { weight: 90, arbitrary: fc.nat().map((cut) => body(text.slice(0, cut % text.length))) },
    { weight: 90, arbitrary: fc.jsonValue().map((value) => body(toJsonText(value))) },
    { weight: 45, arbitrary: anyCodePoints.map((s) => body(s)) },
    { weight: 45, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => body(Buffer.from(bytes))) },
    { weight: 45, arbitrary: fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([i, byte]) => body(flipByte(text, i, byte))) },
    { weight: 45, arbitrary: fc.constantFrom(...OTHER_TYPES, null).map((type) => body(text, type)) },
    // Rare (about 1 in 1,000): each costs milliseconds, and being constants, a few show all they can.
    { weight: 1, arbitrary: fc.constant(oversized) },
    { weight: 1, arbitrary: fc.constant(veryDeep) },
  )
}

/** Counterexamples can be megabytes long: fast-check reports a prefix and the size instead. */
export function brief<T extends { payload: string | Buffer }>(part: T): T {
  const describe = () => {
    const text = part.payload.toString()
    const shown = text.length > 300 ? `${JSON.stringify(text.slice(0, 300))}… (${text.length} chars)` : JSON.stringify(text)
    return `${JSON.stringify({ ...part, payload: undefined })} payload ${shown}`
  }
  return Object.assign(part, { [fc.toStringMethod]: describe })
}

function flipByte(text: string, index: number, byte: number): Buffer {
  const bytes = Buffer.from(text)
  bytes[index % bytes.length] = byte
  return bytes
}

/** Would the server hand this body to the engine? `bomTolerant`: fastify's own JSON parser strips a BOM. */
export function bodyAccepted(schema: z.ZodType, part: BodyPart, bomTolerant: boolean): boolean {
  if (part.contentType === null || !JSON_TYPES.includes(part.contentType)) return false
  const bytes = Buffer.from(part.payload)
  if (bytes.length > LIMITS.maxHttpBodyBytes) return false
  let text = bytes.toString('utf8')
  if (bomTolerant && text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  try {
    return schema.safeParse(JSON.parse(text)).success
  } catch {
    return false
  }
}

// ---- query strings ----

export type Pairs = readonly (readonly [string, string])[]

export interface QueryPart {
  /** Without the leading '?'. */
  readonly text: string
  readonly target: Target
}

const QUERY_EDGE = [
  '',
  ' ',
  '-1',
  '0',
  '1.5',
  '1e3',
  '1e999',
  'NaN',
  'Infinity',
  '0x1f',
  '1001',
  '60001',
  '9007199254740993',
  'csv ',
  'CSV',
  'xml',
  'null',
  '%',
  'a'.repeat(200),
]
const hostileQueryValue = fc.oneof(
  fc.constantFrom(...QUERY_EDGE),
  fc.string({ maxLength: 40 }),
  fc.integer().map(String),
  fc.double().map(String),
  hostileValue.map((value) => (typeof value === 'string' ? value : (JSON.stringify(value) ?? ''))),
)
// Characters that keep the URL parseable yet upset a query parser.
const QUERY_JUNK = fc.string({ unit: fc.constantFrom(...'abz09=&%+;,[]._~-'), minLength: 1, maxLength: 30 })

// A lone surrogate has no UTF-8 form (encodeURIComponent throws); a client would send U+FFFD.
const encode = (text: string) => encodeURIComponent(Buffer.from(text, 'utf8').toString('utf8'))

export const encodePairs = (pairs: Pairs) => pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&')

export function malformedQuery(valid: Pairs): fc.Arbitrary<QueryPart> {
  const keys = valid.map(([key]) => key)
  const pick = fc.constantFrom(...keys)
  const part = (pairs: Pairs, path?: string): QueryPart => ({
    text: encodePairs(pairs),
    target: path === undefined ? { part: 'query' } : { part: 'query', path: [path] },
  })
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.tuple(pick, hostileQueryValue).map(([key, value]) =>
        part(
          valid.map(([k, v]) => [k, k === key ? value : v]),
          key,
        ),
      ),
    },
    {
      weight: 2,
      arbitrary: pick.map((key) =>
        part(
          valid.filter(([k]) => k !== key),
          key,
        ),
      ),
    },
    { weight: 2, arbitrary: fc.tuple(fc.stringMatching(/^[a-zA-Z_][\w.[\]]{0,10}$/), hostileQueryValue).map(([key, value]) => part([...valid, [key, value]])) },
    { weight: 2, arbitrary: fc.tuple(pick, hostileQueryValue).map(([key, value]) => part([...valid, [key, value]], key)) },
    { weight: 1, arbitrary: QUERY_JUNK.map((junk) => ({ text: `${encodePairs(valid)}&${junk}`, target: { part: 'query' as const } })) },
    { weight: 1, arbitrary: QUERY_JUNK.map((junk) => ({ text: junk, target: { part: 'query' as const } })) },
  )
}

export function queryAccepted(schema: z.ZodType, text: string): boolean {
  return schema.safeParse(text === '' ? {} : parseQuery(text)).success
}

// ---- path parameters ----

export interface ParamPart {
  /** As it appears in the URL (percent-encoded, or deliberately broken). */
  readonly raw: string
  readonly target: Target
}

// Percent sequences that no decoder accepts: truncated, not hex, overlong UTF-8, a lone surrogate.
const BAD_PERCENT = ['%', '%z', '%zz', '%E0%A4%A', '%C0%AF', '%ED%A0%80', '%FF']

export function malformedParam(name: string, valid: string): fc.Arbitrary<ParamPart> {
  const encoded = (value: string): ParamPart => ({ raw: encode(value), target: { part: 'params', path: [name] } })
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.nat({ max: valid.length - 1 }), fc.string({ minLength: 1, maxLength: 1 }))
        .map(([i, c]) => encoded(valid.slice(0, i) + c + valid.slice(i + 1))),
    },
    { weight: 2, arbitrary: fc.nat({ max: valid.length - 1 }).map((cut) => encoded(valid.slice(0, cut))) },
    { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 140 }).map(encoded) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(' ', '..', 'a b', '\u0000', valid.toLowerCase(), `${valid}x`, ` ${valid}`, 'x'.repeat(MAX_PARAM_CHARS + 1), '😀'.repeat(8))
        .map(encoded),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...BAD_PERCENT), fc.nat({ max: valid.length }))
        .map(([bad, i]) => ({ raw: encode(valid.slice(0, i)) + bad, target: { part: 'params' as const } })),
    },
  )
}

export function paramAccepted(schema: z.ZodType, name: string, part: ParamPart): boolean {
  let value: string
  try {
    value = decodeURIComponent(part.raw)
  } catch {
    return false
  }
  return value.length > 0 && value.length <= MAX_PARAM_CHARS && schema.safeParse({ [name]: value }).success
}
