// Refusal pages of the public routes (rate limit, unreadable request, engine unavailable), in the
// buyer's language. They say what to do next and never echo the request.
import { htmlTemplate } from '../../core/html-templates.js'
import { type Locale, type MessageId, translator } from '../../core/i18n/index.js'
import { claimHref } from './claim-views.js'
import { renderPage } from './html.js'

export type PublicRefusal = 'too-many' | 'order-closed' | 'unavailable' | 'bad-request' | 'failed'

const TEXTS: Readonly<Record<PublicRefusal, readonly [title: MessageId, body: MessageId]>> = {
  'too-many': ['refusal.tooMany.title', 'refusal.tooMany.body'],
  'order-closed': ['refusal.orderClosed.title', 'refusal.orderClosed.body'],
  unavailable: ['refusal.unavailable.title', 'refusal.unavailable.body'],
  'bad-request': ['refusal.badRequest.title', 'refusal.badRequest.body'],
  failed: ['refusal.failed.title', 'refusal.failed.body'],
}

const refusalTemplate = htmlTemplate<{ title: string; body: string; claim: { href: string; text: string } }>(
  'refusal',
  `<h1><%= it.title %></h1>
<p><%= it.body %></p>
<p><a href="<%= it.claim.href %>"><%= it.claim.text %></a></p>`,
)

export function refusalPage(locale: Locale, refusal: PublicRefusal, retryAfterSeconds: number): string {
  const tr = translator(locale)
  const [title, body] = TEXTS[refusal]
  const claim = { href: claimHref(locale), text: tr('claim.title') }
  return renderPage({ locale, title: tr(title), body: refusalTemplate({ title: tr(title), body: tr(body, { seconds: retryAfterSeconds }), claim }) })
}
