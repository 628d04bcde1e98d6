// Bearer-token guard for the admin API. @fastify/bearer-auth compares the token in constant time
// (and without revealing its length); this module keeps the project's strict header format and
// its 401 replies: the HttpError shape of errors.ts plus a WWW-Authenticate header.
import fastifyBearerAuth from '@fastify/bearer-auth'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { matchesSecret, type RotatingSecret } from '../config/rotating-secret.js'
import { HttpError } from './errors.js'

// Exactly one space and one token of visible ASCII. The plugin alone would trim and accept
// "Bearer  <token> ", which the admin API has always refused as malformed.
const BEARER = /^Bearer ([\x21-\x7e]+)$/

/**
 * Adds an onRequest hook to `app` (an encapsulated plugin context) that refuses any request
 * without `Authorization: Bearer <token>`. Hooks run in the order added: add this after any hook
 * that must refuse first (the loopback rule).
 */
export async function addBearerAuth(app: FastifyInstance, token: RotatingSecret, clock: () => number = Date.now): Promise<void> {
  // addHook: false, so a refusal comes back to us and goes out through the project's error handler,
  // not the plugin's own body (which has no message and no WWW-Authenticate header).
  // The error handler logs every refusal already; the plugin's own line is for debugging only.
  // `auth` instead of fixed keys: the token may be rotated while the node runs, the previous one
  // accepted until its grace ends (../config/rotating-secret.ts), compared in constant time.
  await app.register(fastifyBearerAuth, {
    keys: [],
    auth: (key: string) => matchesSecret(key, token, clock()),
    addHook: false,
    verifyErrorLogLevel: 'debug',
  })
  const verify = app.verifyBearerAuth
  if (verify === undefined) throw new Error('@fastify/bearer-auth did not decorate verifyBearerAuth')
  const matches = (request: FastifyRequest, reply: FastifyReply) =>
    new Promise<boolean>((resolve) => verify(request, reply, (error) => resolve(error === undefined)))
  app.addHook('onRequest', async (request, reply) => {
    if (!BEARER.test(request.headers.authorization ?? '')) {
      throw new HttpError(401, 'unauthorized', 'authorization: missing; send "Authorization: Bearer <admin token>"', {
        'www-authenticate': 'Bearer',
      })
    }
    if (!(await matches(request, reply))) {
      throw new HttpError(401, 'unauthorized', 'authorization: wrong admin token', { 'www-authenticate': 'Bearer error="invalid_token"' })
    }
  })
}
