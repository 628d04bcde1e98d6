// The claim page: the form, and what a buyer sees after submitting it. The "not found" answer is
// one fixed text whatever the reason (unknown order, wrong secret, delivered elsewhere), so the
// page never tells a guesser whether an order exists.
import { LIMITS, type ClaimResult, type Locale } from '../../../protocol/index.js'
import type { ClaimField, ClaimFormValues, FieldProblem } from './claim-form.js'
import { html, renderPage, type SafeHtml } from './html.js'
import { fill, formatTime, PAGE_TEXTS, type PageTexts } from './texts.js'

/** Longest prefilled value taken from a link's query string (a shop id is 52 characters). */
export const MAX_PREFILL_CHARS = LIMITS.maxIdChars
const SHOP_ID_CHARS = 52
const SECRET_MAX_CHARS = 128

const LOCALES: readonly Locale[] = ['zh-CN', 'en']

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

function page(locale: Locale, title: string, body: SafeHtml, values: Partial<ClaimFormValues>): string {
  const t = PAGE_TEXTS[locale]
  const alternates = LOCALES.filter((l) => l !== locale).map((l) => ({ label: PAGE_TEXTS[l].languageName, lang: l, href: claimHref(l, values) }))
  return renderPage({ locale, title, body, alternates, footer: t.footer })
}

function fieldLabel(t: PageTexts, field: ClaimField): string {
  return { shop: t.fieldShop, order: t.fieldOrder, secret: t.fieldSecret }[field]
}

export function problemText(t: PageTexts, problem: FieldProblem): string {
  if (problem.problem === 'unexpected') return fill(t.errUnexpected, { field: problem.field })
  const field = fieldLabel(t, problem.field)
  switch (problem.problem) {
    case 'required':
      return fill(t.errRequired, { field })
    case 'too-long':
      return fill(t.errTooLong, { field })
    case 'format':
      return fill(problem.field === 'shop' ? t.errShopFormat : problem.field === 'order' ? t.errOrderFormat : t.errInvalid, { field })
    case 'repeated':
      return fill(t.errRepeated, { field })
    case 'invalid':
      return fill(t.errInvalid, { field })
  }
}

function form(locale: Locale, values: ClaimFormValues): SafeHtml {
  const t = PAGE_TEXTS[locale]
  return html`<form method="post" action="/claim?lang=${locale}" accept-charset="utf-8" autocomplete="off">
<label for="shop">${t.fieldShop}</label>
<input id="shop" name="shop" value="${values.shop}" required maxlength="${SHOP_ID_CHARS}" spellcheck="false" autocapitalize="off" aria-describedby="shop-hint">
<small id="shop-hint">${t.fieldShopHint}</small>
<label for="order">${t.fieldOrder}</label>
<input id="order" name="order" value="${values.order}" required maxlength="${LIMITS.maxIdChars}" spellcheck="false" autocapitalize="off">
<label for="secret">${t.fieldSecret}</label>
<input id="secret" name="secret" required maxlength="${SECRET_MAX_CHARS}" spellcheck="false" autocapitalize="off" aria-describedby="secret-hint">
<small id="secret-hint">${t.fieldSecretHint}</small>
<button type="submit">${t.submit}</button>
</form>`
}

/** The form, optionally with what was wrong with the last submission. */
export function claimFormPage(locale: Locale, values: ClaimFormValues, problems: readonly FieldProblem[] = []): string {
  const t = PAGE_TEXTS[locale]
  const errors =
    problems.length === 0
      ? null
      : html`<div class="errors" role="alert"><p>${t.formInvalid}</p><ul>${problems.map((p) => html`<li>${problemText(t, p)}</li>`)}</ul></div>`
  const body = html`<h1>${t.claimTitle}</h1>
<p>${t.claimIntro}</p>
${errors}
${form(locale, values)}`
  return page(locale, t.claimTitle, body, values)
}

export interface ClaimResultContext {
  /** The name of the shop the order was placed with, when this node knows it. */
  readonly originName: string | undefined
}

export function claimResultPage(locale: Locale, result: ClaimResult, values: ClaimFormValues, context: ClaimResultContext): string {
  const t = PAGE_TEXTS[locale]
  const another = html`<p><a href="${claimHref(locale, { shop: values.shop })}">${t.anotherOrder}</a></p>`
  switch (result.status) {
    case 'delivered': {
      const vars = { fulfillerName: result.fulfillerName, time: formatTime(result.deliveredAt, t), originName: context.originName ?? '' }
      const by = fill(context.originName === undefined ? t.deliveredBy : t.deliveredByFor, vars)
      const label = fill(result.keys.length === 1 ? t.keysLabelOne : t.keysLabelMany, { order: result.order })
      const body = html`<h1>${t.deliveredTitle}</h1>
<p>${by}</p>
<p>${label}</p>
<pre class="keys" id="keys">${result.keys.join('\n')}</pre>
<p><small>${t.keysHint}</small></p>
${another}`
      return page(locale, t.deliveredTitle, body, { shop: values.shop })
    }
    case 'pending': {
      const body = html`<h1>${t.pendingTitle}</h1>
<p>${fill(t.pendingBody, { order: result.order })}</p>
${another}`
      return page(locale, t.pendingTitle, body, { shop: values.shop })
    }
    case 'elsewhere': {
      const vars = { fulfillerName: result.fulfillerName, order: result.order }
      const href = claimHrefAt(result.claimUrl, locale, { shop: values.shop, order: result.order })
      const next = href === null ? html`<p>${t.elsewhereNoLink}</p>` : html`<p><a href="${href}" rel="noreferrer">${fill(t.elsewhereLink, vars)}</a></p>`
      const body = html`<h1>${t.elsewhereTitle}</h1>
<p>${fill(t.elsewhereBody, vars)}</p>
${next}
${another}`
      return page(locale, t.elsewhereTitle, body, { shop: values.shop })
    }
    case 'not-found': {
      const body = html`<h1>${t.notFoundTitle}</h1>
<p>${t.notFoundBody}</p>
${form(locale, values)}`
      return page(locale, t.notFoundTitle, body, values)
    }
  }
}
