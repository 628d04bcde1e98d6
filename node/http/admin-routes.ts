// Operator API: what this node is, who its partners are, what it holds in escrow. Read-only,
// behind a bearer token, and bound to loopback by the CLI unless the operator says otherwise.
import { Readable } from 'node:stream'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { NodeApi } from '../core/api.js'
import { OkReply, ShopId, TimeMs } from '../../protocol/index.js'
import type { RotatingSecret } from '../config/rotating-secret.js'
import {
  ConsignBody,
  ConsignReply,
  DecideKeysBody,
  DecideKeysReply,
  DrillBody,
  DrillResultView,
  DrillsReply,
  PlatformBody,
  PlatformReply,
  ExposedKeysReply,
  HoldingsReply,
  RefusalsReply,
  IncidentsReply,
  RecallBody,
  RevokeBody,
  RevokeReply,
  RecallReply,
  AcksWaitQuery,
  AcksWaitReply,
  EscrowListQuery,
  EscrowListReply,
  EscrowReply,
  FeedsReply,
  FeedVerificationReply,
  IdentityReply,
  PartnersReply,
  SelfStatus,
} from '../core/api-schemas.js'
import { installOperatorGuard } from './operator-guard.js'
import { HttpError, refusedAs422 } from './errors.js'
import { settlementRoutes } from './settlement-routes.js'
import type { TermsOperations } from '../terms/schemas.js'
import { termsRoutes } from './terms-routes.js'
import { ERROR_REPLIES } from './schemas.js'

export interface AdminRoutesOptions {
  api: NodeApi
  token: string | RotatingSecret
  clock?: (() => number) | undefined
  /** Re-reads the secrets files after `standin secrets rotate` (the node's, node.ts); without it there is no reload route. */
  reloadSecrets?: () => void
  /** The store's pairs from one snapshot, as backup lines (node.ts, D92); without it there is no backup route. */
  backupLines?: () => AsyncIterable<string>
  bodyLimitBytes: number
  /** Answer clients that are not on loopback (off by default: the admin API is local). */
  allowRemote: boolean
  terms?: TermsOperations
  /** Mints the console's one-time login links (console/sessions.ts). */
  consoleLinks?: { mintLink(): { token: string; expiresAt: number } }
}

const ConsoleLinkReply = z.strictObject({ path: z.string(), expiresAt: TimeMs })

const TAGS = ['admin']
const SECURITY = [{ adminBearer: [] }]

export const adminRoutes: FastifyPluginAsyncZod<AdminRoutesOptions> = async (app, options) => {
  const { api, bodyLimitBytes: bodyLimit } = options
  await installOperatorGuard(app, { token: options.token, allowRemote: options.allowRemote, clock: options.clock })
  const doc = (summary: string) => ({ tags: TAGS, security: SECURITY, summary })

  const reload = options.reloadSecrets
  if (reload)
    app.post(
      '/secrets/reload',
      {
        bodyLimit,
        // Nothing to send: the node reads the files itself (a body naming a secret would only leak it).
        schema: {
          ...doc('Take the secrets files as they are now (after standin secrets rotate)'),
          body: z.strictObject({}),
          response: { 200: OkReply, ...ERROR_REPLIES },
        },
      },
      async () => {
        reload()
        return { ok: true as const }
      },
    )

  const backupLines = options.backupLines
  if (backupLines)
    app.get(
      '/backup',
      // A stream of JSON lines (node/backup/archive.ts), not one JSON document: no response schema.
      { bodyLimit, schema: { ...doc('The store, read from one snapshot, as backup lines (standin backup)') } },
      async (_request, reply) => reply.type('application/x-ndjson').send(Readable.from(backupLines())),
    )

  app.get(
    '/identity',
    {
      bodyLimit,
      schema: { ...doc("This node's identity and the terms in force"), response: { 200: IdentityReply, ...ERROR_REPLIES } },
    },
    async () => api.identity(),
  )

  app.get(
    '/partners',
    {
      bodyLimit,
      schema: { ...doc('Partners, their connection, platform health and acknowledged seq'), response: { 200: PartnersReply, ...ERROR_REPLIES } },
    },
    async () => ({ partners: api.partners() }),
  )

  app.get(
    '/self',
    {
      bodyLimit,
      schema: { ...doc('This shop: platform, fence, takeover, terms in force, pending and stuck orders'), response: { 200: SelfStatus, ...ERROR_REPLIES } },
    },
    async () => api.selfStatus(),
  )

  app.get(
    '/escrow',
    {
      bodyLimit,
      schema: { ...doc('Escrow held per origin'), response: { 200: EscrowReply, ...ERROR_REPLIES } },
    },
    async () => api.escrow(),
  )

  app.get(
    '/escrow/:origin/orders',
    {
      bodyLimit,
      schema: {
        ...doc("One origin's escrowed orders, a page at a time"),
        params: z.strictObject({ origin: ShopId }),
        querystring: EscrowListQuery,
        response: { 200: EscrowListReply, ...ERROR_REPLIES },
      },
    },
    async (request) => api.listEscrow(request.params.origin, request.query.after, request.query.limit),
  )

  app.get(
    '/feeds',
    {
      bodyLimit,
      schema: { ...doc('Heads of every feed this node holds'), response: { 200: FeedsReply, ...ERROR_REPLIES } },
    },
    async () => ({ feeds: api.feeds() }),
  )

  app.get(
    '/acks/wait',
    {
      bodyLimit,
      schema: {
        ...doc('Wait until every partner acknowledged our feed up to seq, or the timeout passes'),
        querystring: AcksWaitQuery,
        response: { 200: AcksWaitReply, ...ERROR_REPLIES },
      },
    },
    async (request) => ({ acked: await api.waitForAcks(request.query.seq, request.query.timeoutMs) }),
  )

  app.get(
    '/feeds/:author/verify',
    {
      bodyLimit,
      schema: {
        ...doc('Re-verify every stored entry of a feed from seq 1: signatures and hash chain'),
        params: z.strictObject({ author: ShopId }),
        response: { 200: FeedVerificationReply, ...ERROR_REPLIES },
      },
    },
    async (request) => api.verifyFeed(request.params.author),
  )

  await app.register(settlementRoutes, { api, bodyLimitBytes: bodyLimit })
  if (options.terms) await app.register(termsRoutes, { prefix: '/terms', terms: options.terms, bodyLimitBytes: bodyLimit })

  app.get(
    '/incidents',
    {
      bodyLimit,
      schema: { ...doc('Incident reports this node wrote, oldest first'), response: { 200: IncidentsReply, ...ERROR_REPLIES } },
    },
    async () => ({ incidents: api.incidents() }),
  )

  app.post(
    '/drills',
    {
      bodyLimit,
      schema: {
        ...doc('Run a fire drill: each partner (or one) proves it holds and can read the keys we consigned to it, per sku; nothing is delivered'),
        body: DrillBody,
        response: { 200: DrillResultView, ...ERROR_REPLIES },
      },
    },
    async (request) => {
      if (request.body.partner !== undefined && !api.partners().some((p) => p.id === request.body.partner))
        throw new HttpError(422, 'refused', `${request.body.partner} is not a partner under the terms in force`)
      return api.drill(request.body)
    },
  )

  app.get('/drills', { bodyLimit, schema: { ...doc('The newest fire drills'), response: { 200: DrillsReply, ...ERROR_REPLIES } } }, async () => ({
    drills: api.drills(),
  }))

  const links = options.consoleLinks
  if (links)
    app.post(
      '/console/link',
      {
        bodyLimit,
        schema: {
          ...doc('A one-time login link to the operator console (`standin console`), valid 10 min'),
          response: { 200: ConsoleLinkReply, ...ERROR_REPLIES },
        },
      },
      async () => {
        const link = links.mintLink()
        return { path: `/console/login?t=${link.token}`, expiresAt: link.expiresAt }
      },
    )

  app.post(
    '/allotments',
    {
      bodyLimit,
      schema: {
        ...doc("Take keys out of the shop's stock and consign them to a partner"),
        body: ConsignBody,
        response: { 200: ConsignReply, ...ERROR_REPLIES },
      },
    },
    async (request) => refusedAs422(() => api.consign(request.body.holder, request.body.sku, request.body.count)),
  )

  app.get(
    '/refusals',
    {
      bodyLimit,
      schema: {
        ...doc('What partners sent that this node refused, and receipts held until their authority is known'),
        response: { 200: RefusalsReply, ...ERROR_REPLIES },
      },
    },
    async () => ({ refusals: await api.refusals() }),
  )

  app.get(
    '/allotments',
    {
      bodyLimit,
      schema: {
        ...doc('Our keys per partner and sku: what each partner holds now, per allotment, and what it delivered or returned'),
        response: { 200: HoldingsReply, ...ERROR_REPLIES },
      },
    },
    async () => ({ holdings: await api.holdings() }),
  )

  app.get(
    '/keys/exposed',
    {
      bodyLimit,
      schema: {
        ...doc('Keys partners released back: exposed (their text is known to the partner), waiting for a decision'),
        response: { 200: ExposedKeysReply, ...ERROR_REPLIES },
      },
    },
    async () => ({ keys: await api.exposedKeys() }),
  )

  app.post(
    '/platform',
    {
      bodyLimit,
      schema: {
        ...doc("The operator's word on the shop platform: down hands its paid orders to partners, up lets it hand back"),
        body: PlatformBody,
        response: { 200: PlatformReply, ...ERROR_REPLIES },
      },
    },
    async (request) => {
      await api.operatorReportsPlatform(request.body.platform)
      const self = await api.selfStatus()
      return { platform: self.platform, fenced: self.fenced, takenOver: self.takenOver !== null }
    },
  )

  app.post(
    '/keys/decide',
    {
      bodyLimit,
      schema: {
        ...doc('Decide on exposed keys: write them off, bill their holder, or consign them to it again'),
        body: DecideKeysBody,
        response: { 200: DecideKeysReply, ...ERROR_REPLIES },
      },
    },
    async (request) => refusedAs422(() => api.decideKeys(request.body.keyIds, request.body.decision)),
  )

  app.post(
    '/allotments/recall',
    {
      bodyLimit,
      schema: { ...doc('Ask a partner to release the unused keys of an allotment'), body: RecallBody, response: { 200: RecallReply, ...ERROR_REPLIES } },
    },
    async (request) => refusedAs422(async () => ({ seq: await api.recall(request.body.holder, request.body.allotment) })),
  )

  app.post(
    '/partners/revoke',
    {
      bodyLimit,
      schema: {
        ...doc('Revoke a partner: our signed record; in force once a quorum of parties signed one (docs/decisions.md D94)'),
        body: RevokeBody,
        response: { 200: RevokeReply, ...ERROR_REPLIES },
      },
    },
    async (request) => refusedAs422(() => api.revokePartner(request.body.partner, request.body.reason)),
  )
}
