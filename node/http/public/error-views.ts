// Refusal pages of the public routes (rate limit, unreadable request, engine unavailable), in the
// buyer's language. They say what to do next and never echo the request.
import type { Locale } from '../../../protocol/index.js'
import { claimHref } from './claim-views.js'
import { html, renderPage } from './html.js'
import { fill, PAGE_TEXTS } from './texts.js'

export type PublicRefusal = 'too-many' | 'order-closed' | 'unavailable' | 'bad-request' | 'failed'

export function refusalPage(locale: Locale, refusal: PublicRefusal, retryAfterSeconds: number): string {
  const t = PAGE_TEXTS[locale]
  const texts: Record<PublicRefusal, readonly [title: string, text: string]> = {
    'too-many': [t.tooManyTitle, fill(t.tooManyBody, { seconds: retryAfterSeconds })],
    'order-closed': [t.orderClosedTitle, fill(t.orderClosedBody, { seconds: retryAfterSeconds })],
    unavailable: [t.unavailableTitle, t.unavailableBody],
    'bad-request': [t.badRequestTitle, t.badRequestBody],
    failed: [t.failedTitle, t.failedBody],
  }
  const [title, text] = texts[refusal]
  const body = html`<h1>${title}</h1>
<p>${text}</p>
<p><a href="${claimHref(locale)}">${t.claimTitle}</a></p>`
  return renderPage({ locale, title, body, alternates: [], footer: t.footer })
}
