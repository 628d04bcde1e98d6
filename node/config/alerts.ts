// config.json `alerts` and secrets.json `alerts`: where the node tells its operator what happened.
// Only the non-secret parts are here; each channel's token, key or signing secret is secrets.json
// `alerts[<channel id>]`, so config.json can be shown or shared (D60).
import { z } from 'zod'

/** Longest URL, chat id or address accepted in an alert channel, in characters. */
const MAX_FIELD_CHARS = 2048
/** Most alert channels one node may configure. */
export const MAX_ALERT_CHANNELS = 16

export const AlertSeverity = z.enum(['info', 'warning', 'critical'])
export type AlertSeverity = z.infer<typeof AlertSeverity>

const Url = z.url().max(MAX_FIELD_CHARS)
const common = {
  /** The key of this channel's secret in secrets.json `alerts`. */
  id: z.string().regex(/^[a-z0-9-]{1,40}$/),
  locale: z.enum(['zh-CN', 'en']).default('zh-CN'),
  minSeverity: AlertSeverity.default('warning'),
}

export const AlertChannelConfig = z.discriminatedUnion('kind', [
  /** Secret: the bot token. */
  z.strictObject({ ...common, kind: z.literal('telegram'), chatId: z.string().min(1).max(100), apiBase: Url.default('https://api.telegram.org') }),
  /** Secret: the device key. */
  z.strictObject({ ...common, kind: z.literal('bark'), server: Url.default('https://api.day.app') }),
  /** Secret: the robot's webhook key. */
  z.strictObject({ ...common, kind: z.literal('wecom'), url: Url.default('https://qyapi.weixin.qq.com/cgi-bin/webhook/send') }),
  /** Secret: the access token, or "token:signSecret" when the robot signs. */
  z.strictObject({ ...common, kind: z.literal('dingtalk'), url: Url.default('https://oapi.dingtalk.com/robot/send') }),
  /** Secret: the hook id (last part of the webhook URL), or "hookId:signSecret" when the bot signs. */
  z.strictObject({ ...common, kind: z.literal('feishu'), url: Url.default('https://open.feishu.cn/open-apis/bot/v2/hook') }),
  /** Secret: the HMAC key the receiver checks X-Standin-Signature with. */
  z.strictObject({ ...common, kind: z.literal('webhook'), url: Url }),
  /** No secret: goes through the node's SMTP relay. */
  z.strictObject({ ...common, kind: z.literal('email'), to: z.email().max(254) }),
])
export type AlertChannelConfig = z.infer<typeof AlertChannelConfig>

export const AlertsConfig = z.strictObject({
  channels: z.array(AlertChannelConfig).max(MAX_ALERT_CHANNELS).default([]),
})
export type AlertsConfig = z.infer<typeof AlertsConfig>

/** secrets.json `alerts`: channel id → its token/key/secret. Optional so older files parse. */
export const AlertSecrets = z.record(z.string().max(40), z.string().min(1).max(512))
