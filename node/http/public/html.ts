// Server-rendered HTML for the public pages. Dynamic values only enter markup through the `html`
// tag, which escapes every interpolated string; markup is built from SafeHtml fragments only.
import { createHash } from 'node:crypto'
import type { Locale } from '../../../protocol/index.js'

/** Markup that is already safe (built by `html`); anything else interpolated is escaped. */
export class SafeHtml {
  constructor(readonly markup: string) {}
}

export type HtmlValue = SafeHtml | string | number | null | undefined | false | readonly HtmlValue[]

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char)
}

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.markup
  if (Array.isArray(value)) return value.map(render).join('')
  if (value === null || value === undefined || value === false) return ''
  return escapeHtml(String(value))
}

export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let out = strings[0] ?? ''
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '')
  })
  return new SafeHtml(out)
}

// No external assets and no JavaScript: the pages must work on any phone browser, and the strict
// Content-Security-Policy below can then forbid everything but this one stylesheet.
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

/** Everything the page may load: its own inline stylesheet (by hash) and form posts to itself. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(CSS, 'utf8').digest('base64')}'`,
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ')

export interface PageOptions {
  readonly locale: Locale
  readonly title: string
  readonly body: SafeHtml
  /** The same page in the other language(s), shown as links. */
  readonly alternates: readonly { readonly label: string; readonly lang: Locale; readonly href: string }[]
  readonly footer: string
}

export function renderPage(page: PageOptions): string {
  const nav = page.alternates.map((alt) => html` <a href="${alt.href}" hreflang="${alt.lang}" lang="${alt.lang}">${alt.label}</a>`)
  return html`<!doctype html>
<html lang="${page.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${page.title}</title>
<style>${new SafeHtml(CSS)}</style>
</head>
<body>
<main>
<nav>${nav}</nav>
${page.body}
<footer>${page.footer}</footer>
</main>
</body>
</html>
`.markup
}
