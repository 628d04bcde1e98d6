// The email a partner node sends a buyer when it delivers an order on behalf of a shop whose
// platform is down (DESIGN.md §6: deliver = email + claim page). Pure: it only builds the message;
// the Mailer port sends it. Buyers are mostly Chinese, so every text exists in zh-CN and en, and
// the texts say plainly who delivered and why, so the mail is not mistaken for phishing.
import type { Locale } from '../../protocol/index.js'
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

/**
 * The buyer-facing sentences of the delivery email. `{originName}`, `{fulfillerName}`, `{order}`
 * and `{claimUrl}` are filled in by name; translators edit only these tables.
 */
export interface DeliveryTemplates {
  readonly subject: string
  readonly greeting: string
  readonly outage: string
  readonly keysIntroOne: string
  readonly keysIntroMany: string
  readonly claimPage: string
  readonly noPayment: string
  readonly signOff: string
}

const ZH_CN: DeliveryTemplates = {
  subject: '【{originName}】订单 {order} 的卡密（由合作店铺「{fulfillerName}」代发）',
  greeting: '您好！',
  outage: '您下单的店铺「{originName}」的平台目前出现故障。根据两家店铺签订的互助协议，其合作店铺「{fulfillerName}」代为向您发货。',
  keysIntroOne: '订单 {order} 的卡密如下：',
  keysIntroMany: '订单 {order} 的卡密如下：',
  claimPage: '您也可以打开领取页面 {claimUrl} ，输入订单号和订单的查询密码查看卡密。',
  noPayment: '您的订单已付款，本邮件不会要求您再次付款。',
  signOff: '「{fulfillerName}」代「{originName}」发送（自动邮件）',
}

const EN: DeliveryTemplates = {
  subject: 'Order {order} from {originName}: delivered by partner shop {fulfillerName}',
  greeting: 'Hello,',
  outage:
    "The shop {originName} is having an outage on its platform. Under the two shops' mutual-aid agreement, its partner shop {fulfillerName} has delivered your order on its behalf.",
  keysIntroOne: 'Here is the key for order {order}:',
  keysIntroMany: 'Here are the keys for order {order}:',
  claimPage: "You can also see the keys on the claim page at {claimUrl} with your order number and the order's query secret.",
  noPayment: 'Your order is already paid; this email never asks you to pay again.',
  signOff: 'Sent by {fulfillerName} on behalf of {originName} (automated message)',
}

export const DELIVERY_TEMPLATES: Readonly<Record<Locale, DeliveryTemplates>> = { 'zh-CN': ZH_CN, en: EN }

type Vars = Readonly<Record<string, string>>

const PLACEHOLDER = /\{(\w+)\}/g

/** Fills `{name}` placeholders in one pass, so a value that itself contains `{…}` stays as it is. */
function fill(template: string, vars: Vars, literal: (text: string) => string = (text) => text): string {
  let out = ''
  let last = 0
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? ''
    const value = vars[name]
    if (value === undefined) continue
    out += literal(template.slice(last, match.index)) + value
    last = match.index + match[0].length
  }
  return out + literal(template.slice(last))
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char)
}

// Names come from signed shop cards, but a line break in a subject would still be a header
// injection attempt and control characters have no business in a mail header.
const singleLine = (text: string) => text.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ').trim()

/** Only web links become anchors; anything else (javascript:, data:) is shown as plain text. */
function isWebUrl(url: string): boolean {
  return /^https?:\/\/[^\s]+$/i.test(url)
}

export function deliveryEmail(input: DeliveryEmailInput): MailMessage {
  if (input.keys.length === 0) throw new Error('deliveryEmail: an order is delivered with at least one key')
  const t = DELIVERY_TEMPLATES[input.locale]
  const vars: Vars = {
    originName: singleLine(input.originName),
    fulfillerName: singleLine(input.fulfillerName),
    order: singleLine(input.order),
    claimUrl: input.claimUrl ?? '',
  }
  const keysIntro = input.keys.length === 1 ? t.keysIntroOne : t.keysIntroMany

  const textParagraphs = [
    t.greeting,
    fill(t.outage, vars),
    `${fill(keysIntro, vars)}\n\n${input.keys.map((key) => `    ${key}`).join('\n')}`,
    ...(input.claimUrl === null ? [] : [fill(t.claimPage, vars)]),
    t.noPayment,
    `-- \n${fill(t.signOff, vars)}`,
  ]

  const htmlVars: Vars = {
    originName: escapeHtml(vars.originName ?? ''),
    fulfillerName: escapeHtml(vars.fulfillerName ?? ''),
    order: escapeHtml(vars.order ?? ''),
    claimUrl:
      input.claimUrl !== null && isWebUrl(input.claimUrl)
        ? `<a href="${escapeHtml(input.claimUrl)}">${escapeHtml(input.claimUrl)}</a>`
        : escapeHtml(input.claimUrl ?? ''),
  }
  const p = (template: string) => `<p>${fill(template, htmlVars, escapeHtml)}</p>`
  const keysBlock = `<pre style="font-family:monospace;font-size:15px;background:#f3f4f6;padding:12px;border-radius:6px;white-space:pre-wrap;word-break:break-all">${input.keys.map(escapeHtml).join('\n')}</pre>`
  const subject = fill(t.subject, vars)
  const html = [
    `<!doctype html><html lang="${input.locale}"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>`,
    '<body style="font-family:sans-serif;line-height:1.6;color:#111">',
    p(t.greeting),
    p(t.outage),
    p(keysIntro),
    keysBlock,
    input.claimUrl === null ? '' : p(t.claimPage),
    p(t.noPayment),
    `<p style="color:#555;font-size:13px">${fill(t.signOff, htmlVars, escapeHtml)}</p>`,
    '</body></html>',
  ].join('\n')

  return { to: input.to, subject, text: `${textParagraphs.join('\n\n')}\n`, html }
}
