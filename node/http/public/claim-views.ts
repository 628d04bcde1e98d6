// The claim page: the form, and what a buyer sees after submitting it. The "not found" answer is
// one fixed text whatever the reason (unknown order, wrong secret, delivered elsewhere), so the
// page never tells a guesser whether an order exists.
import { LIMITS } from '../../../protocol/index.js'
import type { ClaimResult } from '../../core/api-schemas.js'
import { type Html, htmlTemplate } from '../../core/html-templates.js'
import { type Locale, type MessageId, type Translate, translator } from '../../core/i18n/index.js'
import type { ClaimField, ClaimFormValues, FieldProblem } from './claim-form.js'
import { renderPage } from './html.js'

/** Longest prefilled value taken from a link's query string (a shop id is 52 characters). */
export const MAX_PREFILL_CHARS = LIMITS.maxIdChars
const SHOP_ID_CHARS = 52
const SECRET_MAX_CHARS = 128

export function claimHref(locale: Locale, values: Partial<ClaimFormValues> = {}): string {
  const query = new URLSearchParams()
  if (values.shop !== undefined && values.shop !== '') query.set('shop', values.shop)
  if (values.order !== undefined && values.order !== '') query.set('order', values.order)
  query.set('lang', locale)
  return `/claim?${query}`
}

/**
 * Another node's claim page (from its signed card) with the shop, order and language filled in;
 * null unless it is an http(s) URL, so a hostile or broken card never becomes a link. The secret
 * is never put in a URL: the buyer types it again there.
 */
export function claimHrefAt(claimUrl: string | null, locale: Locale, values: Partial<ClaimFormValues>): string | null {
  if (claimUrl === null) return null
  let url: URL
  try {
    url = new URL(claimUrl)
  } catch {
    return null
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null
  if (values.shop !== undefined && values.shop !== '' && !url.searchParams.has('shop')) url.searchParams.set('shop', values.shop)
  if (values.order !== undefined && values.order !== '') url.searchParams.set('order', values.order)
  url.searchParams.set('lang', locale)
  return url.toString()
}

interface Link {
  readonly href: string
  readonly text: string
}

const formTemplate = htmlTemplate<{ locale: Locale; values: ClaimFormValues; text: Record<ClaimField | 'shopHint' | 'secretHint' | 'submit', string> }>(
  'claim-form',
  `<form method="post" action="/claim?lang=<%= it.locale %>" accept-charset="utf-8" autocomplete="off">
<label for="shop"><%= it.text.shop %></label>
<input id="shop" name="shop" value="<%= it.values.shop %>" required maxlength="${SHOP_ID_CHARS}" spellcheck="false" autocapitalize="off" aria-describedby="shop-hint">
<small id="shop-hint"><%= it.text.shopHint %></small>
<label for="order"><%= it.text.order %></label>
<input id="order" name="order" value="<%= it.values.order %>" required maxlength="${LIMITS.maxIdChars}" spellcheck="false" autocapitalize="off">
<label for="secret"><%= it.text.secret %></label>
<input id="secret" name="secret" required maxlength="${SECRET_MAX_CHARS}" spellcheck="false" autocapitalize="off" aria-describedby="secret-hint">
<small id="secret-hint"><%= it.text.secretHint %></small>
<button type="submit"><%= it.text.submit %></button>
</form>`,
)

const formPageTemplate = htmlTemplate<{ title: string; intro: string; invalid: string; problems: readonly string[]; form: Html }>(
  'claim-form-page',
  `<h1><%= it.title %></h1>
<p><%= it.intro %></p>
<% if (it.problems.length > 0) { %><div class="errors" role="alert"><p><%= it.invalid %></p><ul><% for (const problem of it.problems) { %><li><%= problem %></li><% } %></ul></div>
<% } %><%~ it.form %>`,
)

const deliveredTemplate = htmlTemplate<{ title: string; by: string; label: string; keys: string; hint: string; another: Link }>(
  'claim-delivered',
  `<h1><%= it.title %></h1>
<p><%= it.by %></p>
<p><%= it.label %></p>
<pre class="keys" id="keys"><%= it.keys %></pre>
<p><small><%= it.hint %></small></p>
<p><a href="<%= it.another.href %>"><%= it.another.text %></a></p>`,
)

const pendingTemplate = htmlTemplate<{ title: string; body: string; another: Link }>(
  'claim-pending',
  `<h1><%= it.title %></h1>
<p><%= it.body %></p>
<p><a href="<%= it.another.href %>"><%= it.another.text %></a></p>`,
)

// The link leaves this site without a Referer: the claim URL carries the order number.
const elsewhereTemplate = htmlTemplate<{ title: string; body: string; link: Link | null; noLink: string; another: Link }>(
  'claim-elsewhere',
  `<h1><%= it.title %></h1>
<p><%= it.body %></p>
<% if (it.link) { %><p><a href="<%= it.link.href %>" rel="noreferrer"><%= it.link.text %></a></p><% } else { %><p><%= it.noLink %></p><% } %>
<p><a href="<%= it.another.href %>"><%= it.another.text %></a></p>`,
)

const notFoundTemplate = htmlTemplate<{ title: string; body: string; form: Html }>(
  'claim-not-found',
  `<h1><%= it.title %></h1>
<p><%= it.body %></p>
<%~ it.form %>`,
)

function page(locale: Locale, title: string, body: Html, values: Partial<ClaimFormValues>): string {
  return renderPage({ locale, title, body, hrefIn: (other) => claimHref(other, values) })
}

const FIELD_LABELS: Readonly<Record<ClaimField, MessageId>> = { shop: 'claim.field.shop', order: 'claim.field.order', secret: 'claim.field.secret' }
const FORMAT_ERRORS: Readonly<Record<ClaimField, MessageId>> = {
  shop: 'claim.error.shopFormat',
  order: 'claim.error.orderFormat',
  secret: 'claim.error.invalid',
}

function problemText(tr: Translate, problem: FieldProblem): string {
  if (problem.problem === 'unexpected') return tr('claim.error.unexpected', { field: problem.field })
  const field = tr(FIELD_LABELS[problem.field])
  switch (problem.problem) {
    case 'required':
      return tr('claim.error.required', { field })
    case 'too-long':
      return tr('claim.error.tooLong', { field })
    case 'format':
      return tr(FORMAT_ERRORS[problem.field], { field })
    case 'repeated':
      return tr('claim.error.repeated', { field })
    case 'invalid':
      return tr('claim.error.invalid', { field })
  }
}

function form(locale: Locale, values: ClaimFormValues): Html {
  const tr = translator(locale)
  const text = {
    shop: tr('claim.field.shop'),
    shopHint: tr('claim.field.shopHint'),
    order: tr('claim.field.order'),
    secret: tr('claim.field.secret'),
    secretHint: tr('claim.field.secretHint'),
    submit: tr('claim.submit'),
  }
  return formTemplate({ locale, values, text })
}

/** The form, optionally with what was wrong with the last submission. */
export function claimFormPage(locale: Locale, values: ClaimFormValues, problems: readonly FieldProblem[] = []): string {
  const tr = translator(locale)
  const body = formPageTemplate({
    title: tr('claim.title'),
    intro: tr('claim.intro'),
    invalid: tr('claim.formInvalid'),
    problems: problems.map((problem) => problemText(tr, problem)),
    form: form(locale, values),
  })
  return page(locale, tr('claim.title'), body, values)
}

export interface ClaimResultContext {
  /** The name of the shop the order was placed with, when this node knows it. */
  readonly originName: string | undefined
}

export function claimResultPage(locale: Locale, result: ClaimResult, values: ClaimFormValues, context: ClaimResultContext): string {
  const tr = translator(locale)
  const another = { href: claimHref(locale, { shop: values.shop }), text: tr('claim.anotherOrder') }
  switch (result.status) {
    case 'delivered': {
      const time = tr('time.zoned', { time: result.deliveredAt })
      const by =
        context.originName === undefined
          ? tr('claim.delivered.by', { fulfillerName: result.fulfillerName, time })
          : tr('claim.delivered.byFor', { fulfillerName: result.fulfillerName, time, originName: context.originName })
      const title = tr('claim.delivered.title')
      const body = deliveredTemplate({
        title,
        by,
        label: tr('claim.delivered.keysLabel', { order: result.order, count: result.keys.length }),
        keys: result.keys.join('\n'),
        hint: tr('claim.delivered.keysHint'),
        another,
      })
      return page(locale, title, body, { shop: values.shop })
    }
    case 'pending': {
      const title = tr('claim.pending.title')
      const body = pendingTemplate({ title, body: tr('claim.pending.body', { order: result.order }), another })
      return page(locale, title, body, { shop: values.shop })
    }
    case 'elsewhere': {
      const names = { fulfillerName: result.fulfillerName, order: result.order }
      const href = claimHrefAt(result.claimUrl, locale, { shop: values.shop, order: result.order })
      const title = tr('claim.elsewhere.title')
      const body = elsewhereTemplate({
        title,
        body: tr('claim.elsewhere.body', names),
        link: href === null ? null : { href, text: tr('claim.elsewhere.link', names) },
        noLink: tr('claim.elsewhere.noLink'),
        another,
      })
      return page(locale, title, body, { shop: values.shop })
    }
    case 'not-found': {
      const title = tr('claim.notFound.title')
      const body = notFoundTemplate({ title, body: tr('claim.notFound.body'), form: form(locale, values) })
      return page(locale, title, body, values)
    }
  }
}
