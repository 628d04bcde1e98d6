// `standin alerts test [--channel <id>]`: one test alert to each configured channel (or the one
// named), straight from the CLI, and per channel "sent" or why not; never a token (D62).
import { z } from 'zod'
import { formatZodError } from '../../protocol/index.js'
import { Alerter } from '../alerts/alerter.js'
import { createNullMailer, createSmtpMailer } from '../mail/index.js'
import { DataDir } from '../datadir.js'
import { createNodeLogger } from '../logger.js'

const AlertsTestArgs = z.strictObject({
  dir: z.string().min(1),
  channel: z
    .string()
    .regex(/^[a-z0-9-]{1,40}$/)
    .optional(),
})

export interface AlertsTestResult {
  /** Every channel tried took the alert. */
  ok: boolean
  text: string
}

export async function alertsTest(raw: Record<string, unknown>): Promise<AlertsTestResult> {
  const args = AlertsTestArgs.safeParse(raw)
  if (!args.success) throw new Error(`arguments: ${formatZodError(args.error)}`)
  const dir = new DataDir(args.data.dir)
  if (!dir.exists()) throw new Error(`${args.data.dir}: no node here (config.json missing); run standin init first`)
  const config = dir.config()
  const { secrets } = dir.keys()
  const channels = config.alerts.channels.filter((c) => args.data.channel === undefined || c.id === args.data.channel)
  if (channels.length === 0)
    throw new Error(
      args.data.channel === undefined ? `${dir.configPath}: alerts.channels is empty` : `${dir.configPath}: no alert channel ${args.data.channel}`,
    )
  const logger = createNodeLogger({ level: 'silent', shop: config.name, env: process.env })
  const mailer = config.smtp ? createSmtpMailer(config.smtp, secrets.smtpPassword, logger) : createNullMailer(logger)
  const alerter = new Alerter({ channels, secrets: secrets.alerts ?? {}, mailer, now: () => Date.now(), log: logger, shopName: config.name })
  const lines: string[] = []
  let ok = true
  try {
    for (const channel of channels) {
      try {
        await alerter.sendNow(channel, { kind: 'test', subject: '', params: {} }, Date.now())
        lines.push(`${channel.id} (${channel.kind}): sent`)
      } catch (err) {
        ok = false
        lines.push(`${channel.id} (${channel.kind}): not sent: ${err instanceof Error ? err.message : 'failed'}`)
      }
    }
  } finally {
    await mailer.close()
  }
  return { ok, text: lines.join('\n') }
}
