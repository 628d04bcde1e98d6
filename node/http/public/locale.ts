// Which language a buyer sees: `?lang=` when given (the language links set it), otherwise the
// browser's Accept-Language, otherwise Chinese, because most buyers of these shops are Chinese.
import type { Locale } from '../../../protocol/index.js'

export const DEFAULT_LOCALE: Locale = 'zh-CN'
/** Accept-Language entries looked at; a longer header is cut, not rejected. */
const MAX_ACCEPT_LANGUAGE_ENTRIES = 20

/** The locale a language tag asks for ('zh', 'zh-TW', 'zh-cn' → zh-CN; 'en-GB' → en), if any. */
export function localeOfTag(tag: string): Locale | undefined {
  const primary = tag.trim().toLowerCase().split('-')[0]
  if (primary === 'zh') return 'zh-CN'
  if (primary === 'en') return 'en'
  return undefined
}

export function localeFromAcceptLanguage(header: string | undefined): Locale | undefined {
  if (header === undefined) return undefined
  const entries = header
    .split(',')
    .slice(0, MAX_ACCEPT_LANGUAGE_ENTRIES)
    .map((part, index) => {
      const [tag = '', ...params] = part.split(';')
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined)
      return { tag, q: q === undefined ? 1 : Number(q), index }
    })
    .filter((entry) => entry.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index)
  for (const entry of entries) {
    const locale = localeOfTag(entry.tag)
    if (locale !== undefined) return locale
  }
  return undefined
}

export function chooseLocale(lang: string | undefined, acceptLanguage: string | undefined): Locale {
  return (lang === undefined ? undefined : localeOfTag(lang)) ?? localeFromAcceptLanguage(acceptLanguage) ?? DEFAULT_LOCALE
}
