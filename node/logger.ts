// The node's pino logger. An operator watching `standin run` in a terminal reads lines formatted by
// pino-pretty; anything reading stdout from a pipe or a file (tests, containers, log shippers)
// gets pino's JSON, one object a line. STANDIN_LOG_FORMAT (or `standin run --log-format`) decides
// when the guess is wrong. Both formats print the same fields: what must never be logged (tokens,
// keys, buyer data) is kept out at the call sites, not by the formatter.
import pino, { type Logger } from 'pino'
import pretty from 'pino-pretty'
import { z } from 'zod'
import { formatZodError } from '../protocol/index.js'

export const LogFormat = z.enum(['auto', 'json', 'pretty'])
export type LogFormat = z.infer<typeof LogFormat>
const LogEnv = z.object({ STANDIN_LOG_FORMAT: LogFormat.default('auto') })

/** `auto` means pretty on a terminal, JSON otherwise. */
export function chooseLogFormat(env: NodeJS.ProcessEnv, stdoutIsTTY: boolean): 'json' | 'pretty' {
  // An empty variable counts as unset, as with the other STANDIN_* overrides.
  const parsed = LogEnv.safeParse({ STANDIN_LOG_FORMAT: env.STANDIN_LOG_FORMAT === '' ? undefined : env.STANDIN_LOG_FORMAT })
  if (!parsed.success) throw new Error(`environment: ${formatZodError(parsed.error)}`)
  const format = parsed.data.STANDIN_LOG_FORMAT
  if (format === 'auto') return stdoutIsTTY ? 'pretty' : 'json'
  return format
}

export function createNodeLogger(options: { level: string; shop: string; env: NodeJS.ProcessEnv; stdoutIsTTY?: boolean }): Logger {
  const settings = { level: options.level, base: { shop: options.shop } }
  if (chooseLogFormat(options.env, options.stdoutIsTTY ?? process.stdout.isTTY === true) === 'json') return pino(settings)
  // In-process and synchronous, like pino's default stdout: no worker thread, and the last lines
  // before a crash are written rather than lost in a buffer.
  return pino(settings, pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }))
}
