// Which language a buyer sees: `?lang=` when given (the language links set it), otherwise the
// browser's Accept-Language (weighed by negotiator), otherwise Chinese, because most buyers of
// these shops are Chinese.
import Negotiator from 'negotiator'
import { DEFAULT_LOCALE, type Locale } from '../../core/i18n/index.js'

// Negotiated by primary language, so any Chinese (zh, zh-TW, zh-HK) gets the Chinese pages and
// any English (en-GB, en-US) the English ones.
const BY_LANGUAGE: Readonly<Record<string, Locale>> = { zh: 'zh-CN', en: 'en' }
const LANGUAGES = Object.keys(BY_LANGUAGE)

/** The locale one language tag asks for ('zh', 'zh-TW', 'zh-cn' → zh-CN; 'en-GB' → en), if any. */
export function localeOfTag(tag: string): Locale | undefined {
  try {
    return BY_LANGUAGE[new Intl.Locale(tag).language]
  } catch {
    return undefined // not a language tag
  }
}

export function localeFromAcceptLanguage(header: string | undefined): Locale | undefined {
  if (header === undefined) return undefined // negotiator would read a missing header as "anything"
  const language = new Negotiator({ headers: { 'accept-language': header } }).language(LANGUAGES)
  return language === undefined ? undefined : BY_LANGUAGE[language]
}

export function chooseLocale(lang: string | undefined, acceptLanguage: string | undefined): Locale {
  return (lang === undefined ? undefined : localeOfTag(lang)) ?? localeFromAcceptLanguage(acceptLanguage) ?? DEFAULT_LOCALE
}
