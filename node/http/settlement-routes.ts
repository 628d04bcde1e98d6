// Operator API for settlement: balances, statements and their answers, exports. Registered
// inside the admin plugin, so the bearer token and loopback rule apply.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import {
  AcceptStatementBody,
  BalancesReply,
  ExportQuery,
  IssueStatementBody,
  IssueStatementReply,
  PayStatementBody,
  StatementRef,
  StatementStateView,
  StatementsReply,
} from '../core/api-schemas.js'
import type { NodeApi } from '../core/api.js'
import { refusedAs422 } from './errors.js'
import { ERROR_REPLIES } from './schemas.js'

export interface SettlementRoutesOptions {
  api: NodeApi
  bodyLimitBytes: number
}

const doc = (summary: string) => ({ tags: ['settlement'], security: [{ adminBearer: [] }], summary })

export const settlementRoutes: FastifyPluginAsyncZod<SettlementRoutesOptions> = async (app, { api, bodyLimitBytes: bodyLimit }) => {
  app.get(
    '/balances',
    { bodyLimit, schema: { ...doc('Net balances per partner and currency'), response: { 200: BalancesReply, ...ERROR_REPLIES } } },
    async () => ({ balances: api.balances() }),
  )

  app.get(
    '/statements',
    { bodyLimit, schema: { ...doc('Statements issued and received'), response: { 200: StatementsReply, ...ERROR_REPLIES } } },
    async () => ({
      statements: (await api.statements()).map((s) => ({
        hash: s.hash,
        id: s.statement.id,
        role: s.role,
        status: s.status,
        issuer: s.statement.issuer,
        counterparty: s.statement.counterparty,
        currency: s.statement.currency,
        lines: s.statement.lines.length,
        totalMinorUnits: s.statement.totalMinorUnits,
        disputedLines: s.disputed.length,
        time: s.statement.time,
      })),
    }),
  )

  app.post(
    '/statements',
    {
      bodyLimit,
      schema: { ...doc('Issue a statement of what a partner owes us now'), body: IssueStatementBody, response: { 200: IssueStatementReply, ...ERROR_REPLIES } },
    },
    async (request) =>
      refusedAs422(async () => {
        const statement = await api.issueStatement(request.body.counterparty, request.body.untilMs)
        return { issued: statement !== null, statement }
      }),
  )

  app.get(
    '/statements/:ref',
    { bodyLimit, schema: { ...doc('One statement, by id or hash'), params: StatementRef, response: { 200: StatementStateView, ...ERROR_REPLIES } } },
    async (request) => refusedAs422(() => api.findStatement(request.params.ref)),
  )

  app.post(
    '/statements/:ref/accept',
    {
      bodyLimit,
      schema: {
        ...doc('Accept a received statement, disputing any lines'),
        params: StatementRef,
        body: AcceptStatementBody,
        response: { 200: StatementStateView, ...ERROR_REPLIES },
      },
    },
    async (request) => refusedAs422(() => api.acceptStatement(request.params.ref, request.body.disputes)),
  )

  app.post(
    '/statements/:ref/pay',
    {
      bodyLimit,
      schema: {
        ...doc('Record the off-network payment of an accepted statement'),
        params: StatementRef,
        body: PayStatementBody,
        response: { 200: StatementStateView, ...ERROR_REPLIES },
      },
    },
    async (request) => refusedAs422(() => api.payStatement(request.params.ref, request.body.reference)),
  )

  app.post(
    '/statements/:ref/confirm',
    {
      bodyLimit,
      schema: {
        ...doc('Confirm that the payment of an issued statement arrived'),
        params: StatementRef,
        response: { 200: StatementStateView, ...ERROR_REPLIES },
      },
    },
    async (request) => refusedAs422(() => api.confirmStatement(request.params.ref)),
  )

  app.get('/export', { bodyLimit, schema: { ...doc('Export statements as CSV or JSON'), querystring: ExportQuery } }, async (request, reply) => {
    const q = request.query
    const body = await refusedAs422(() => api.exportStatements(q.format, q.statement, q.fromMs, q.toMs))
    return reply.type(q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8').send(body)
  })
}
