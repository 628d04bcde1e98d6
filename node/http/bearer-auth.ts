// Bearer-token guard for the admin API. Tokens are compared as SHA-256 digests so the comparison
// is constant-time and does not reveal the token's length.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { HttpError } from './errors.js'

const BEARER = /^Bearer ([\x21-\x7e]+)$/

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest()

/** An onRequest hook that refuses any request without `Authorization: Bearer <token>`. */
export function bearerAuth(token: string): (request: FastifyRequest) => Promise<void> {
  if (token.length === 0) throw new Error('admin token must not be empty')
  const expected = digest(token)
  return async (request) => {
    const match = BEARER.exec(request.headers.authorization ?? '')
    const presented = match?.[1]
    if (presented === undefined) {
      throw new HttpError(401, 'unauthorized', 'authorization: missing; send "Authorization: Bearer <admin token>"', {
        'www-authenticate': 'Bearer',
      })
    }
    if (!timingSafeEqual(digest(presented), expected)) {
      throw new HttpError(401, 'unauthorized', 'authorization: wrong admin token', { 'www-authenticate': 'Bearer error="invalid_token"' })
    }
  }
}
