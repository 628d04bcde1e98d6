// The email a partner node sends a buyer when it delivers an order on behalf of a shop whose
// platform is down (docs/design.md §6: deliver = email + claim page). Pure: it only builds the message;
// the Mailer port sends it. Its sentences are in the shared catalogue (node/core/i18n, ids
// 'mail.*'), in the buyer's language, and say plainly who delivered and why, so the mail is not
// mistaken for phishing. The HTML part is an Eta template, which escapes every value.
import { htmlTemplate } from './html-templates.js'
import { formatParts, type Locale, translator } from './i18n/index.js'
import type { MailMessage } from './ports.js'

export interface DeliveryEmailInput {
  readonly locale: Locale
  readonly to: string
  /** The shop the buyer ordered from (whose platform is down). */
  readonly originName: string
  /** The partner shop that delivered (this node). */
  readonly fulfillerName: string
  readonly order: string
  readonly keys: readonly string[]
  /** The claim page that also shows these keys; null when this node publishes none. */
  readonly claimUrl: string | null
}

// Names come from signed shop cards, but a line break in a subject would still be a header
// injection attempt and control characters have no business in a mail header.
const singleLine = (text: string) => text.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ').trim()

/** Only web links become anchors; anything else (javascript:, data:) is shown as plain text. */
function isWebUrl(url: string): boolean {
  return /^https?:\/\/[^\s]+$/i.test(url)
}

interface Link {
  readonly href: string
}

const htmlPart = htmlTemplate<{
  locale: Locale
  subject: string
  paragraphs: { greeting: string; outage: string; keysIntro: string; noPayment: string; signOff: string }
  keys: string
  /** The claim-page sentence, its URL a link when it is a web URL; null without a claim page. */
  claimPage: readonly (string | Link)[] | null
}>(
  'delivery-mail',
  `<!doctype html><html lang="<%= it.locale %>"><head><meta charset="utf-8"><title><%= it.subject %></title></head>
<body style="font-family:sans-serif;line-height:1.6;color:#111">
<p><%= it.paragraphs.greeting %></p>
<p><%= it.paragraphs.outage %></p>
<p><%= it.paragraphs.keysIntro %></p>
<pre style="font-family:monospace;font-size:15px;background:#f3f4f6;padding:12px;border-radius:6px;white-space:pre-wrap;word-break:break-all"><%= it.keys %></pre>
<% if (it.claimPage !== null) { %><p><% for (const part of it.claimPage) { %><% if (typeof part === 'string') { %><%= part %><% } else { %><a href="<%= part.href %>"><%= part.href %></a><% } %><% } %></p>
<% } %><p><%= it.paragraphs.noPayment %></p>
<p style="color:#555;font-size:13px"><%= it.paragraphs.signOff %></p>
</body></html>`,
)

export function deliveryEmail(input: DeliveryEmailInput): MailMessage {
  if (input.keys.length === 0) throw new Error('deliveryEmail: an order is delivered with at least one key')
  const tr = translator(input.locale)
  const names = { originName: singleLine(input.originName), fulfillerName: singleLine(input.fulfillerName), order: singleLine(input.order) }
  const subject = tr('mail.subject', names)
  const paragraphs = {
    greeting: tr('mail.greeting'),
    outage: tr('mail.outage', names),
    keysIntro: tr('mail.keysIntro', { ...names, count: input.keys.length }),
    noPayment: tr('mail.noPayment'),
    signOff: tr('mail.signOff', names),
  }

  const text = [
    paragraphs.greeting,
    paragraphs.outage,
    `${paragraphs.keysIntro}\n\n${input.keys.map((key) => `    ${key}`).join('\n')}`,
    ...(input.claimUrl === null ? [] : [tr('mail.claimPage', { claimUrl: input.claimUrl })]),
    paragraphs.noPayment,
    `-- \n${paragraphs.signOff}`,
  ]

  const claimUrl = input.claimUrl
  const claimPage =
    claimUrl === null ? null : formatParts<Link>(input.locale, 'mail.claimPage', { claimUrl: isWebUrl(claimUrl) ? { href: claimUrl } : claimUrl })
  const html = htmlPart({ locale: input.locale, subject, paragraphs, keys: input.keys.join('\n'), claimPage })

  return { to: input.to, subject, text: `${text.join('\n\n')}\n`, html }
}
