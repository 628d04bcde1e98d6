// One catalogue of what this node says to people, for every surface that says it: the buyer pages,
// the delivery email, and later the CLI and the console. Messages are ICU MessageFormat, formatted
// by intl-messageformat, so placeholders, plurals and times work the same everywhere and no caller
// writes its own. Results are plain text: whoever puts them into HTML escapes them.
import { IntlMessageFormat } from 'intl-messageformat'
import { Locale } from '../../../protocol/index.js'
import { EN } from './messages.en.js'
import { type MessageId, type Messages, ZH_CN } from './messages.zh-CN.js'

export { Locale }
export type { MessageId, Messages }

/** Every locale, the default first: most buyers of these shops are Chinese. */
export const LOCALES: readonly Locale[] = Locale.options
export const DEFAULT_LOCALE: Locale = 'zh-CN'

export type MessageValue = string | number | Date
export type MessageValues = Readonly<Record<string, MessageValue>>

interface LocaleSettings {
  readonly messages: Messages
  /** The Intl locale numbers, plurals and dates follow (British English writes "21 September 2026"). */
  readonly intlLocale: string
  /** The zone times are shown in; each catalogue's 'time.zoned' names it. */
  readonly timeZone: string
}

const SETTINGS: Readonly<Record<Locale, LocaleSettings>> = {
  'zh-CN': { messages: ZH_CN, intlLocale: 'zh-CN', timeZone: 'Asia/Shanghai' },
  en: { messages: EN, intlLocale: 'en-GB', timeZone: 'UTC' },
}

// Compiled once at start, so a message that does not parse stops the node instead of a page.
// Tags are off: a `<` in a message is text, never markup.
function compile({ messages, intlLocale, timeZone }: LocaleSettings): Readonly<Record<MessageId, IntlMessageFormat>> {
  const formats = { date: { zoned: { dateStyle: 'long', timeStyle: 'short', timeZone } } } as const
  const entries = Object.entries(messages).map(([id, message]) => [id, new IntlMessageFormat(message, intlLocale, formats, { ignoreTag: true })])
  return Object.fromEntries(entries) as Record<MessageId, IntlMessageFormat>
}

const COMPILED: Readonly<Record<Locale, Readonly<Record<MessageId, IntlMessageFormat>>>> = { 'zh-CN': compile(SETTINGS['zh-CN']), en: compile(SETTINGS.en) }

/** Message `id` in `locale` with its `{name}` values filled in, as plain text. */
export function t(locale: Locale, id: MessageId, values?: MessageValues): string {
  return COMPILED[locale][id]
    .formatToParts(values)
    .map((part) => String(part.value))
    .join('')
}

/** `t` with the locale fixed, for a page or message built in one language. */
export type Translate = (id: MessageId, values?: MessageValues) => string

export function translator(locale: Locale): Translate {
  return (id, values) => t(locale, id, values)
}

/**
 * Message `id` as pieces, where a value that is an object (not text, a number or a time) stays
 * that object: for a renderer that must put markup there, such as a link around a URL, while the
 * text around it is escaped as usual.
 */
export function formatParts<T extends object>(locale: Locale, id: MessageId, values: Readonly<Record<string, MessageValue | T>>): (string | T)[] {
  return COMPILED[locale][id].formatToParts<T>(values).map((part) => part.value)
}
