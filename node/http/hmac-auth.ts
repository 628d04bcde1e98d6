// HMAC authentication of adapter requests, installed into the adapter plugin's own context so it
// guards those routes only. Headers and the clock are checked before the body is read; the MAC
// over the raw bytes is checked before they are parsed, so an unauthenticated body is never
// interpreted, validated or handed to the engine.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import {
  ADAPTER_REPLAY_WINDOW_MS,
  ADAPTER_SIGNATURE_HEADER,
  ADAPTER_TIMESTAMP_HEADER,
  adapterSignature,
  adapterSignatureMatches,
} from '../../protocol/index.js'
import { HttpError } from './errors.js'
import { ReplayGuard } from '../../adapters/contract.js'
import { acceptedSecrets, type RotatingSecret, rotating } from '../config/rotating-secret.js'

interface AdapterAuthState {
  timestampMs: number
  signature: string
  verified: boolean
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The exact bytes the adapter signed (empty when the request had no body). */
    adapterRawBody: Buffer | null
    adapterAuth: AdapterAuthState | null
  }
}

export interface HmacAuthOptions {
  /** The adapter's request secret; while a rotation's grace runs, the previous one is accepted too. */
  secret: string | RotatingSecret
  clock: () => number
  bodyLimitBytes: number
  replayGuard?: ReplayGuard
}

const TIMESTAMP_PATTERN = /^\d{1,16}$/
const SIGNATURE_PATTERN = /^[0-9a-f]{64}$/
const EMPTY = Buffer.alloc(0)

const unauthorized = (message: string) => new HttpError(401, 'unauthorized', message)

function readHeaders(request: FastifyRequest, clock: () => number): AdapterAuthState {
  const timestamp = request.headers[ADAPTER_TIMESTAMP_HEADER]
  const signature = request.headers[ADAPTER_SIGNATURE_HEADER]
  if (typeof timestamp !== 'string' || !TIMESTAMP_PATTERN.test(timestamp)) {
    throw unauthorized(`${ADAPTER_TIMESTAMP_HEADER}: missing or not an integer of milliseconds since the epoch`)
  }
  if (typeof signature !== 'string' || !SIGNATURE_PATTERN.test(signature)) {
    throw unauthorized(`${ADAPTER_SIGNATURE_HEADER}: missing or not 64 lowercase hex characters (HMAC-SHA256)`)
  }
  const timestampMs = Number(timestamp)
  const skewMs = clock() - timestampMs
  if (Math.abs(skewMs) > ADAPTER_REPLAY_WINDOW_MS) {
    throw unauthorized(`stale timestamp: ${ADAPTER_TIMESTAMP_HEADER} is ${skewMs} ms from the node's clock (allowed ±${ADAPTER_REPLAY_WINDOW_MS} ms)`)
  }
  return { timestampMs, signature, verified: false }
}

function verify(request: FastifyRequest, raw: Buffer, secrets: readonly string[], guard: ReplayGuard): void {
  const auth = request.adapterAuth
  if (auth === null) throw unauthorized('request was not authenticated')
  // The adapter signs the request target exactly as sent (path and any query string).
  const signedWith = (secret: string) => adapterSignatureMatches(adapterSignature(secret, auth.timestampMs, request.method, request.url, raw), auth.signature)
  if (!secrets.some(signedWith)) {
    throw unauthorized(`${ADAPTER_SIGNATURE_HEADER}: does not match the method, path, timestamp and body`)
  }
  const verdict = guard.admit(auth.signature, auth.timestampMs)
  if (verdict === 'replayed') {
    throw new HttpError(409, 'replayed', 'replayed request: this timestamp and signature were already accepted; sign every request afresh')
  }
  if (verdict === 'before-start') {
    throw unauthorized(`${ADAPTER_TIMESTAMP_HEADER}: signed before this node started (a request captured before a restart cannot be replayed); sign it afresh`)
  }
  if (verdict === 'full') {
    throw new HttpError(503, 'unavailable', 'too many signed requests inside the replay window; retry later', { 'retry-after': '5' })
  }
  auth.verified = true
}

function parseJson(raw: Buffer): unknown {
  try {
    // Refuse "__proto__" keys outright, as fastify's own JSON parser does, so no later merge of
    // this value can reach an object prototype.
    return JSON.parse(raw.toString('utf8'), (key, value: unknown) => {
      if (key === '__proto__') throw new SyntaxError('"__proto__" is not allowed as a key')
      return value
    })
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new HttpError(400, 'malformed_json', `body: malformed JSON: ${reason}`)
  }
}

/** Adds the adapter authentication hooks and the raw-body JSON parser to `instance` (an encapsulated context). */
export function installHmacAuth(instance: FastifyInstance, options: HmacAuthOptions): void {
  const secret = rotating(options.secret)
  const secrets = () => acceptedSecrets(secret, options.clock())
  const guard = options.replayGuard ?? new ReplayGuard(options.clock)
  instance.decorateRequest('adapterRawBody', null)
  instance.decorateRequest('adapterAuth', null)

  // Cheap checks first: an unsigned or stale request is refused before its body is read.
  instance.addHook('onRequest', async (request) => {
    request.adapterAuth = readHeaders(request, options.clock)
  })

  // Only JSON reaches these routes; any other media type is a 415 from fastify.
  instance.removeAllContentTypeParsers()
  instance.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: options.bodyLimitBytes }, (request, body, done) => {
    try {
      const raw = body as Buffer
      request.adapterRawBody = raw
      verify(request, raw, secrets(), guard)
      done(null, parseJson(raw))
    } catch (error) {
      done(error as Error, undefined)
    }
  })

  // Requests without a body never reach the parser; their MAC covers the empty body.
  instance.addHook('preValidation', async (request) => {
    if (request.adapterAuth?.verified !== true) verify(request, EMPTY, secrets(), guard)
  })
}
