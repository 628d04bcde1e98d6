// Operator API for terms (D64): the revisions this node holds, proposing the next one, signing one.
// Registered inside the admin plugin, so the bearer token and loopback rule apply. The terms live
// in the data directory, not the engine: the node hands in an object that keeps them.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { AcceptBody, ProposeBody, type TermsOperations, TermsReply, TermsResultView } from '../terms/schemas.js'
import { HttpError } from './errors.js'
import { ERROR_REPLIES } from './schemas.js'

export interface TermsRoutesOptions {
  terms: TermsOperations
  bodyLimitBytes: number
}

const doc = (summary: string) => ({ tags: ['terms'], security: [{ adminBearer: [] }], summary })

export const termsRoutes: FastifyPluginAsyncZod<TermsRoutesOptions> = async (app, { terms, bodyLimitBytes: bodyLimit }) => {
  const refusedAs422 = <T>(work: () => T): T => {
    try {
      return work()
    } catch (error) {
      if (terms.refused(error)) throw new HttpError(422, 'refused', (error as Error).message)
      throw error
    }
  }

  app.get(
    '/',
    { bodyLimit, schema: { ...doc('Every revision of the terms this node holds, and who signed it'), response: { 200: TermsReply, ...ERROR_REPLIES } } },
    async () => terms.list(),
  )

  app.post(
    '/propose',
    {
      bodyLimit,
      schema: {
        ...doc('The next revision of the terms in force with skus of ours added or removed, signed by us; running partners get it from our node'),
        body: ProposeBody,
        response: { 200: TermsResultView, ...ERROR_REPLIES },
      },
    },
    async (request) => refusedAs422(() => terms.propose(request.body)),
  )

  app.post(
    '/accept',
    {
      bodyLimit,
      schema: {
        ...doc("Sign terms: a token another party sent, terms named by hash, or the one a partner's node brought"),
        body: AcceptBody,
        response: { 200: TermsResultView, ...ERROR_REPLIES },
      },
    },
    async (request) => refusedAs422(() => terms.accept(request.body)),
  )
}
