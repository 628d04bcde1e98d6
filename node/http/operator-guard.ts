// Who may reach the operator's routes (the admin API, /metrics, /docs): a client on this machine
// (unless config http.adminAllowRemote) holding the admin token. Strangers reach only the buyer
// pages and health (issue 18; SECURITY.md): metrics tell order volume and partner health, the
// API document maps every route. Installed into each operator context, so nothing else inherits it.
import type { FastifyInstance } from 'fastify'
import { type RotatingSecret, rotating } from '../config/rotating-secret.js'
import { addBearerAuth } from './bearer-auth.js'
import { HttpError } from './errors.js'

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/

/**
 * A loopback client, or one on this machine that dialled one of its own addresses (the node
 * bound to a LAN address; the CLI then connects from that address, not from 127.0.0.1). A remote
 * host cannot complete a TCP handshake from our own address.
 */
export function fromThisMachine(socket: { remoteAddress?: string | undefined; localAddress?: string | undefined }): boolean {
  const remote = socket.remoteAddress ?? ''
  return LOOPBACK.test(remote) || (remote !== '' && remote === socket.localAddress)
}

export interface OperatorGuardOptions {
  /** The admin token; while a rotation's grace runs, the previous one is accepted too. */
  token: string | RotatingSecret
  clock?: (() => number) | undefined
  /** Answer clients that are not on this machine too (config http.adminAllowRemote). */
  allowRemote: boolean
}

/** The place check first (a stranger learns nothing about the token), then the bearer token. */
export async function installOperatorGuard(app: FastifyInstance, options: OperatorGuardOptions): Promise<void> {
  app.addHook('onRequest', async (request) => {
    if (!options.allowRemote && !fromThisMachine(request.socket)) {
      throw new HttpError(403, 'forbidden', 'operator routes (admin API, /metrics, /docs) answer loopback clients only (config http.adminAllowRemote)')
    }
  })
  await addBearerAuth(app, rotating(options.token), options.clock)
}
