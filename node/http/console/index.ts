// The operator console (issue 19 item 2, D72): server-rendered pages under /console on the admin
// listener, for a client on this machine (as the admin API, unless http.adminAllowRemote). A
// session comes from a one-time link (`standin console`) or the admin token; every form carries
// the session's CSRF token. Pages read and act through the same engine API as the admin routes.
import cookie from '@fastify/cookie'
import formbody from '@fastify/formbody'
import helmet from '@fastify/helmet'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { NodeApi } from '../../core/api.js'
import type { Locale } from '../../core/i18n/index.js'
import { HttpError } from '../errors.js'
import { fromThisMachine } from '../operator-guard.js'
import { chooseLocale } from '../public/locale.js'
import { formatZodError } from '../../../protocol/index.js'
import { ConflictError, RefusedError, UnavailableError } from '../../core/api.js'
import { translator } from '../../core/i18n/index.js'
import type { TermsOperations } from '../../terms/schemas.js'
import { alertsPage } from './alerts-page.js'
import { allotmentsPage } from './allotments-page.js'
import type { AlertLog, ConsoleContext, PageInput } from './context.js'
import { drillsPage, overviewPage } from './overview-page.js'
import { outagesPage } from './outages-page.js'
import { type ConsoleSession, CONSOLE_SESSION_TTL_MS, type ConsoleSessions } from './sessions.js'
import { settlementPage } from './settlement-page.js'
import { termsPage } from './terms-page.js'
import { CONSOLE_STYLE_SOURCE, loginBody, menuPath, renderConsole } from './views.js'

export interface ConsoleOptions {
  readonly api: NodeApi
  readonly terms?: TermsOperations
  readonly alerts?: AlertLog
  readonly clock: () => number
  readonly sessions: ConsoleSessions
  readonly allowRemote: boolean
  /** The session cookie is marked Secure when the node's public URL is https (a proxy in front). */
  readonly secureCookie: boolean
}

const SESSION_COOKIE = 'standin_console'
const LANG_COOKIE = 'standin_console_lang'
/** Largest console form: a statement's accept form lists up to its lines' receipt hashes. */
const CONSOLE_BODY_LIMIT_BYTES = 64 * 1024
const HTML_TYPE = 'text/html; charset=utf-8'

const LoginForm = z.strictObject({ token: z.string().min(1).max(256) })
/** Every form carries the session's CSRF token; each form's own schema (strict) lists it again. */
const CsrfForm = z.object({ csrf: z.string().min(1).max(64) })
const LangQuery = z.object({ lang: z.string().max(16).optional(), t: z.string().max(64).optional() })

export async function consoleRoutes(app: FastifyInstance, options: ConsoleOptions): Promise<void> {
  const { api, sessions, clock } = options
  await app.register(cookie)
  await app.register(formbody, { bodyLimit: CONSOLE_BODY_LIMIT_BYTES })
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], styleSrc: [CONSOLE_STYLE_SOURCE], formAction: ["'self'"], frameAncestors: ["'none'"], baseUri: ["'none'"] },
    },
    referrerPolicy: { policy: 'no-referrer' },
  })

  app.addHook('onRequest', async (request, reply) => {
    if (!options.allowRemote && !fromThisMachine(request.socket))
      throw new HttpError(403, 'forbidden', 'the console answers clients on this machine only (config http.adminAllowRemote)')
    reply.header('cache-control', 'no-store')
  })

  const cookieOptions = { path: '/console', httpOnly: true, sameSite: 'strict' as const, secure: options.secureCookie }
  const localeOf = (request: FastifyRequest, reply: FastifyReply): Locale => {
    const query = LangQuery.safeParse(request.query)
    const asked = query.success ? query.data.lang : undefined
    const locale = chooseLocale(asked ?? request.cookies[LANG_COOKIE], request.headers['accept-language'])
    if (asked !== undefined) reply.setCookie(LANG_COOKIE, locale, { ...cookieOptions, maxAge: 365 * 86_400 })
    return locale
  }
  const shopName = () => api.identity().name
  const page = (reply: FastifyReply, status: number, html: string) => reply.code(status).type(HTML_TYPE).send(html)
  const startSession = (reply: FastifyReply, session: ConsoleSession) => {
    reply.setCookie(SESSION_COOKIE, session.id, { ...cookieOptions, maxAge: Math.floor(CONSOLE_SESSION_TTL_MS / 1000) })
    return reply.redirect('/console/', 303)
  }
  const loginPage = (request: FastifyRequest, reply: FastifyReply, status: number, refused: boolean) => {
    const locale = localeOf(request, reply)
    return page(reply, status, renderConsole({ locale, shopName: shopName(), page: 'login', csrf: null, body: loginBody(locale, refused) }))
  }
  /** The session of a page request, or a redirect to the login page. */
  const sessionOf = (request: FastifyRequest): ConsoleSession | null => sessions.get(request.cookies[SESSION_COOKIE])
  /** A form post: a live session and its CSRF token, or nothing happens. */
  const formSession = (request: FastifyRequest): ConsoleSession => {
    const session = sessionOf(request)
    const form = CsrfForm.safeParse(request.body)
    if (!session) throw new HttpError(401, 'unauthorized', 'console: not logged in')
    if (!form.success || !sessions.checkCsrf(session, form.data.csrf))
      throw new HttpError(403, 'forbidden', 'console: the form token does not match this session')
    return session
  }

  app.get('/console/login', async (request, reply) => {
    const query = LangQuery.safeParse(request.query)
    const link = query.success ? query.data.t : undefined
    if (link === undefined) return loginPage(request, reply, 200, false)
    const session = sessions.redeemLink(link)
    return session ? startSession(reply, session) : loginPage(request, reply, 401, true)
  })

  app.post('/console/login', async (request, reply) => {
    const form = LoginForm.safeParse(request.body)
    const session = form.success ? sessions.loginWithToken(form.data.token) : null
    return session ? startSession(reply, session) : loginPage(request, reply, 401, true)
  })

  app.post('/console/logout', async (request, reply) => {
    sessions.end(formSession(request).id)
    reply.clearCookie(SESSION_COOKIE, cookieOptions)
    return reply.redirect('/console/login', 303)
  })

  const lift = (request: FastifyRequest, reply: FastifyReply, session: ConsoleSession): PageInput => {
    const locale = localeOf(request, reply)
    return { locale, tr: translator(locale), session, request, reply, now: clock() }
  }
  const context: ConsoleContext = {
    app,
    api,
    terms: options.terms ?? null,
    alerts: options.alerts ?? null,
    show(url, name, build) {
      app.get(url, async (request, reply) => {
        const session = sessionOf(request)
        if (!session) return reply.redirect('/console/login', 303)
        const input = lift(request, reply, session)
        let body
        try {
          body = await build(input)
        } catch (error) {
          // A statement that is not there, a link with a bad parameter: said on the page's own menu page.
          if (!operatorError(error, options.terms)) throw error
          sessions.flash(session, false, input.tr('console.refused.action', { reason: (error as Error).message }))
          return reply.redirect(menuPath(name), 303)
        }
        if (typeof body === 'object') return reply
        const flash = sessions.takeFlash(session)
        const path = url.includes(':') ? request.url.split('?')[0] : undefined
        return page(
          reply,
          200,
          renderConsole({ locale: input.locale, shopName: shopName(), page: name, csrf: session.csrf, flash, body, ...(path === undefined ? {} : { path }) }),
        )
      })
    },
    act(url, form, back, run) {
      app.post(url, async (request, reply) => {
        const session = formSession(request)
        const input = lift(request, reply, session)
        const parsed = form.safeParse(request.body)
        if (!parsed.success) {
          sessions.flash(session, false, input.tr('console.refused.form', { reason: formatZodError(parsed.error) }))
          return reply.redirect(typeof back === 'string' ? back : fallbackOf(url), 303)
        }
        const target = typeof back === 'string' ? back : back(parsed.data)
        try {
          sessions.flash(session, true, await run(parsed.data, input))
        } catch (error) {
          if (!operatorError(error, options.terms)) throw error
          sessions.flash(session, false, input.tr('console.refused.action', { reason: (error as Error).message }))
        }
        return reply.redirect(target, 303)
      })
    },
  }
  for (const register of PAGES) register(context)
}

/** A refusal the operator can act on (the engine or the terms said no), shown on the page; anything else is a 500. */
function operatorError(error: unknown, terms: TermsOperations | undefined): boolean {
  return error instanceof RefusedError || error instanceof ConflictError || error instanceof UnavailableError || (terms?.refused(error) ?? false)
}

/** Where a form that did not parse leads back to: its page (the path without its last step). */
function fallbackOf(url: string): string {
  return url.slice(0, url.lastIndexOf('/')) || '/console/'
}

const PAGES: readonly ((context: ConsoleContext) => void)[] = [overviewPage, allotmentsPage, outagesPage, settlementPage, termsPage, drillsPage, alertsPage]
