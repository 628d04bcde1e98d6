// The outage notice: what state a shop is in, in plain words, since when, how many of its orders
// partners delivered, and where buyers claim their keys.
import type { ShopStatusView } from '../../core/api-schemas.js'
import { type Html, htmlTemplate } from '../../core/html-templates.js'
import { type Locale, type MessageId, translator } from '../../core/i18n/index.js'
import { claimHref, claimHrefAt } from './claim-views.js'
import { renderPage } from './html.js'

export function statusHref(shop: string, locale: Locale): string {
  return `/status/${encodeURIComponent(shop)}?lang=${locale}`
}

const STATE_TEXTS: Readonly<Record<ShopStatusView['state'], MessageId>> = {
  operating: 'status.state.operating',
  'suspected-outage': 'status.state.suspected',
  'partners-delivering': 'status.state.delivering',
  recovered: 'status.state.recovered',
}

// Counts and the claim link are shown only once partners have been (or may be) involved.
const statusTemplate = htmlTemplate<{
  title: string
  state: string
  since: string | null
  involved: { delivered: string; pending: string | null; claim: { href: string; text: string } } | null
}>(
  'status',
  `<h1><%= it.title %></h1>
<p class="state"><%= it.state %></p>
<% if (it.since !== null) { %><p><%= it.since %></p>
<% } %><% if (it.involved !== null) { %><ul><li><%= it.involved.delivered %></li><% if (it.involved.pending !== null) { %><li><%= it.involved.pending %></li><% } %></ul>
<p><a href="<%= it.involved.claim.href %>"><%= it.involved.claim.text %></a></p><% } %>`,
)

const unknownShopTemplate = htmlTemplate<{ title: string; body: string }>(
  'status-unknown-shop',
  `<h1><%= it.title %></h1>
<p><%= it.body %></p>`,
)

function page(locale: Locale, title: string, body: Html, shop: string): string {
  return renderPage({ locale, title, body, hrefIn: (other) => statusHref(shop, other) })
}

/**
 * Where buyers claim: the shop's published claim page when it is a web URL (with the shop and
 * language filled in), else this node's own claim page (which finds the partner that delivered).
 */
export function claimLink(view: ShopStatusView, locale: Locale): string {
  return claimHrefAt(view.claimUrl, locale, { shop: view.shop }) ?? claimHref(locale, { shop: view.shop })
}

export function statusPage(locale: Locale, view: ShopStatusView): string {
  const tr = translator(locale)
  const title = tr('status.title', { name: view.name })
  const body = statusTemplate({
    title,
    state: tr(STATE_TEXTS[view.state]),
    since: view.since === null ? null : tr('status.since', { time: tr('time.zoned', { time: view.since }) }),
    involved:
      view.state === 'operating'
        ? null
        : {
            delivered: tr('status.deliveredCount', { count: view.deliveredByPartners }),
            pending: view.pending > 0 ? tr('status.pendingCount', { count: view.pending }) : null,
            claim: { href: claimLink(view, locale), text: tr('status.claimLink') },
          },
  })
  return page(locale, title, body, view.shop)
}

export function unknownShopPage(locale: Locale, shop: string): string {
  const tr = translator(locale)
  const title = tr('status.unknownShop.title')
  return page(locale, title, unknownShopTemplate({ title, body: tr('status.unknownShop.body') }), shop)
}
