// What every console page module gets (console/index.ts builds it): the engine API, the optional
// terms and alert log, and two ways to add a route. `show` renders a page for a live session;
// `act` takes a form: the session and its CSRF token first, then the form's own zod schema, then
// the work; whatever it did (or why it was refused, the field named) is shown once on the page
// it leads back to. Nothing changes when a check fails.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { AlertLogEntry } from '../../alerts/alerter.js'
import type { NodeApi } from '../../core/api.js'
import type { Html } from '../../core/html-templates.js'
import type { Locale, Translate } from '../../core/i18n/index.js'
import type { TermsOperations } from '../../terms/schemas.js'
import type { ConsoleSession } from './sessions.js'
import type { ConsolePage } from './views.js'

/** The alerts the node raised, newest first (node/alerts/alerter.ts keeps them). */
export interface AlertLog {
  log(): readonly AlertLogEntry[]
}

export interface PageInput {
  readonly locale: Locale
  readonly tr: Translate
  readonly session: ConsoleSession
  readonly request: FastifyRequest
  readonly reply: FastifyReply
  readonly now: number
}

/** A page body, or a reply the page already sent (a download). */
export type PageResult = Html | { readonly sent: true }

export interface ConsoleContext {
  readonly app: FastifyInstance
  readonly api: NodeApi
  readonly terms: TermsOperations | null
  readonly alerts: AlertLog | null
  /** A GET page in the frame; `path` of the language links when it is not `url` (parameters in it). */
  show(url: string, page: ConsolePage, build: (input: PageInput) => Promise<PageResult>): void
  /**
   * A form post: `run` gets the parsed form and returns the words to show; the reply goes back to
   * `back` (or what it computes from the form). An operator's error (refused by the engine or the
   * terms, or a field that does not parse) is shown instead, and nothing changed.
   */
  act<S extends z.ZodType>(
    url: string,
    form: S,
    back: string | ((form: z.infer<S>) => string),
    run: (form: z.infer<S>, input: PageInput) => Promise<string>,
  ): void
}

/** The field every form carries; a form's schema spreads it in. */
export const CSRF_FIELD = { csrf: z.string().min(1).max(64) }
/** A form that is a button and nothing else. */
export const CsrfOnly = z.strictObject(CSRF_FIELD)
