// The language the `standin` command speaks (D70): STANDIN_LANG when set (zh-CN or en; anything
// else is an error naming the variable), else the system locale's language (LC_ALL, LC_MESSAGES,
// LANG, in POSIX order): Chinese for zh*, English otherwise. An unset or "C" locale is English: a
// server's default terminal may not show Chinese. Texts live in the catalogue (node/core/i18n).
import { formatZodError } from '../../protocol/index.js'
import { Locale, t, type MessageId, type MessageValues } from '../core/i18n/index.js'

export function cliLocale(env: NodeJS.ProcessEnv = process.env): Locale {
  const explicit = env.STANDIN_LANG
  if (explicit !== undefined && explicit !== '') {
    const parsed = Locale.safeParse(explicit)
    if (!parsed.success) throw new Error(`STANDIN_LANG: ${formatZodError(parsed.error)} (zh-CN or en)`)
    return parsed.data
  }
  const system = [env.LC_ALL, env.LC_MESSAGES, env.LANG].find((v) => v !== undefined && v !== '') ?? ''
  return /^zh/i.test(system) ? 'zh-CN' : 'en'
}

/** Message `id` in the command's language. */
export function say(id: MessageId, values?: MessageValues): string {
  return t(cliLocale(), id, values)
}
