// The outage notice: what state a shop is in, in plain words, since when, how many of its orders
// partners delivered, and where buyers claim their keys.
import type { Locale, ShopStatusView } from '../../../protocol/index.js'
import { claimHref, claimHrefAt } from './claim-views.js'
import { html, renderPage, type SafeHtml } from './html.js'
import { fill, formatTime, PAGE_TEXTS, type PageTexts } from './texts.js'

const LOCALES: readonly Locale[] = ['zh-CN', 'en']

export function statusHref(shop: string, locale: Locale): string {
  return `/status/${encodeURIComponent(shop)}?lang=${locale}`
}

function page(locale: Locale, title: string, body: SafeHtml, shop: string): string {
  const alternates = LOCALES.filter((l) => l !== locale).map((l) => ({ label: PAGE_TEXTS[l].languageName, lang: l, href: statusHref(shop, l) }))
  return renderPage({ locale, title, body, alternates, footer: PAGE_TEXTS[locale].footer })
}

export function stateText(t: PageTexts, state: ShopStatusView['state']): string {
  switch (state) {
    case 'operating':
      return t.stateOperating
    case 'suspected-outage':
      return t.stateSuspected
    case 'partners-delivering':
      return t.stateDelivering
    case 'recovered':
      return t.stateRecovered
  }
}

/**
 * Where buyers claim: the shop's published claim page when it is a web URL (with the shop and
 * language filled in), else this node's own claim page (which finds the partner that delivered).
 */
export function claimLink(view: ShopStatusView, locale: Locale): string {
  return claimHrefAt(view.claimUrl, locale, { shop: view.shop }) ?? claimHref(locale, { shop: view.shop })
}

export function statusPage(locale: Locale, view: ShopStatusView): string {
  const t = PAGE_TEXTS[locale]
  const title = fill(t.statusTitle, { name: view.name })
  const since = view.since === null ? null : html`<p>${fill(t.since, { time: formatTime(view.since, t) })}</p>`
  // Counts and the claim link matter only once partners have been (or may be) involved.
  const involved = view.state !== 'operating'
  const body = html`<h1>${title}</h1>
<p class="state">${stateText(t, view.state)}</p>
${since}
${involved ? html`<ul><li>${fill(t.deliveredCount, { count: view.deliveredByPartners })}</li>${view.pending > 0 ? html`<li>${fill(t.pendingCount, { count: view.pending })}</li>` : null}</ul>` : null}
${involved ? html`<p><a href="${claimLink(view, locale)}">${t.claimLink}</a></p>` : null}`
  return page(locale, title, body, view.shop)
}

export function unknownShopPage(locale: Locale, shop: string): string {
  const t = PAGE_TEXTS[locale]
  const body = html`<h1>${t.unknownShopTitle}</h1>
<p>${t.unknownShopBody}</p>`
  return page(locale, t.unknownShopTitle, body, shop)
}
