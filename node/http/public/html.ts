// The frame of every public page: language links, the one inline stylesheet and the footer. Views
// render their bodies with `htmlTemplate` (node/core/html-templates.ts), which escapes every value.
import { createHash } from 'node:crypto'
import { type Html, htmlTemplate } from '../../core/html-templates.js'
import { type Locale, LOCALES, t } from '../../core/i18n/index.js'

// No external assets and no JavaScript: the pages must work on any phone browser, and the strict
// Content-Security-Policy (public-routes.ts) can then forbid everything but this one stylesheet.
const CSS = [
  'body{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;background:#f6f7f9;color:#111;line-height:1.6}',
  'main{max-width:36rem;margin:0 auto;padding:1.5rem 1rem}',
  'h1{font-size:1.4rem;margin:0 0 1rem}',
  'nav{text-align:right;font-size:.9rem}',
  'label{display:block;font-weight:600;margin-top:1rem}',
  'input{width:100%;box-sizing:border-box;font:inherit;padding:.5rem;border:1px solid #999;border-radius:6px}',
  'small{display:block;color:#555}',
  'button{margin-top:1.25rem;font:inherit;padding:.6rem 1.2rem;border:0;border-radius:6px;background:#1a56db;color:#fff}',
  '.keys{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:1.05rem;background:#fff;border:1px solid #999;border-radius:6px;padding:1rem;white-space:pre-wrap;word-break:break-all;user-select:all}',
  '.errors{border:1px solid #c81e1e;background:#fdf2f2;border-radius:6px;padding:.5rem 1rem}',
  '.state{font-size:1.1rem;font-weight:600}',
  'footer{color:#666;font-size:.8rem;margin-top:2rem}',
].join('')

/** The stylesheet as a CSP source: the only thing besides the page itself a browser may apply. */
export const STYLE_SOURCE = `'sha256-${createHash('sha256').update(CSS, 'utf8').digest('base64')}'`

interface Alternate {
  readonly label: string
  readonly lang: Locale
  readonly href: string
}

// The stylesheet is part of the template's source, so the page carries exactly the hashed bytes.
const page = htmlTemplate<{ locale: Locale; title: string; body: Html; alternates: readonly Alternate[]; footer: string }>(
  'page',
  `<!doctype html>
<html lang="<%= it.locale %>">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title><%= it.title %></title>
<style>${CSS}</style>
</head>
<body>
<main>
<nav><% for (const alt of it.alternates) { %> <a href="<%= alt.href %>" hreflang="<%= alt.lang %>" lang="<%= alt.lang %>"><%= alt.label %></a><% } %></nav>
<%~ it.body %>
<footer><%= it.footer %></footer>
</main>
</body>
</html>
`,
)

export interface PageOptions {
  readonly locale: Locale
  readonly title: string
  readonly body: Html
  /** Where this page is in another language; without it the page has no language links. */
  readonly hrefIn?: (locale: Locale) => string
}

export function renderPage({ locale, title, body, hrefIn }: PageOptions): string {
  const alternates =
    hrefIn === undefined
      ? []
      : LOCALES.filter((other) => other !== locale).map((other) => ({ label: t(other, 'language.name'), lang: other, href: hrefIn(other) }))
  return page({ locale, title, body, alternates, footer: t(locale, 'page.footer') })
}
