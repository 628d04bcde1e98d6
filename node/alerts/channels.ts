// One function per alert service, each building the request its documentation describes and
// judging the answer the way that service reports success. The secret (token, key, signing
// secret) goes only into the request: errors name the channel and the HTTP status, never a URL
// that holds a token, so logs and `standin alerts test` cannot leak it (D62).
import { createHmac } from 'node:crypto'
import type { AlertChannelConfig } from '../config/alerts.js'
import type { Mailer } from '../core/ports.js'

/** Longest wait for one alert request, connect to last byte, in milliseconds. */
export const ALERT_REQUEST_TIMEOUT_MS = 10_000
/** Most bytes of a service's answer read to judge it. */
const MAX_ANSWER_BYTES = 64 * 1024

export interface OutgoingAlert {
  readonly title: string
  readonly text: string
  /** The alert kind and subject, for the signed webhook's JSON. */
  readonly kind: string
  readonly subject: string
  readonly severity: string
  /** Unix milliseconds. */
  readonly at: number
}

export interface ChannelDeps {
  readonly mailer: Mailer | null
  /** Unix milliseconds; the signatures' timestamps. */
  readonly now: () => number
  /** Aborted when the node stops: a request in flight ends at once. */
  readonly signal?: AbortSignal
}

export class AlertSendError extends Error {}

async function postJson(service: string, url: string, body: unknown, deps: ChannelDeps, headers: Record<string, string> = {}): Promise<unknown> {
  let response: Response
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      signal: deps.signal ? AbortSignal.any([deps.signal, AbortSignal.timeout(ALERT_REQUEST_TIMEOUT_MS)]) : AbortSignal.timeout(ALERT_REQUEST_TIMEOUT_MS),
      redirect: 'error',
    })
  } catch (err) {
    // The cause's message may quote the URL (and so the token): only its name is kept.
    const name = err instanceof Error ? err.name : 'error'
    const why = name === 'TimeoutError' ? 'timed out' : deps.signal?.aborted ? 'the node stopped' : 'no connection'
    throw new AlertSendError(`${service}: request failed (${why})`)
  }
  const raw = (await response.text()).slice(0, MAX_ANSWER_BYTES)
  if (!response.ok) throw new AlertSendError(`${service}: HTTP ${response.status}`)
  try {
    return raw === '' ? null : (JSON.parse(raw) as unknown)
  } catch {
    return null
  }
}

function field(answer: unknown, name: string): unknown {
  return typeof answer === 'object' && answer !== null ? (answer as Record<string, unknown>)[name] : undefined
}

function trimBase(url: string): string {
  return url.replace(/\/+$/, '')
}

/** A secret of the form "id:signSecret" (DingTalk, Feishu): split at the last colon (sign secrets have none). */
function splitSecret(secret: string): { id: string; sign: string | null } {
  const at = secret.lastIndexOf(':')
  return at < 0 ? { id: secret, sign: null } : { id: secret.slice(0, at), sign: secret.slice(at + 1) }
}

/** The DingTalk robot signature: base64(HMAC-SHA256(key = secret, message = timestamp + "\n" + secret)). */
export function dingtalkSign(timestampMs: number, secret: string): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64')
}

/** The Feishu custom bot signature: base64(HMAC-SHA256(key = timestamp + "\n" + secret, message = empty)). */
export function feishuSign(timestampSeconds: number, secret: string): string {
  return createHmac('sha256', `${timestampSeconds}\n${secret}`).update('').digest('base64')
}

/** The generic webhook's header: "t=<unix ms>,v1=<hex HMAC-SHA256(secret, t + "." + body)>". */
export function webhookSignature(timestampMs: number, body: string, secret: string): string {
  return `t=${timestampMs},v1=${createHmac('sha256', secret).update(`${timestampMs}.${body}`).digest('hex')}`
}

export async function sendToChannel(channel: AlertChannelConfig, secret: string | undefined, alert: OutgoingAlert, deps: ChannelDeps): Promise<void> {
  if (channel.kind !== 'email' && secret === undefined) throw new AlertSendError(`${channel.kind}: secrets.json alerts.${channel.id} is missing`)
  const key = secret ?? ''
  const text = `${alert.title}\n${alert.text}`
  switch (channel.kind) {
    case 'telegram': {
      // https://core.telegram.org/bots/api#sendmessage ; answers {"ok":true,"result":{...}}
      const answer = await postJson('telegram', `${trimBase(channel.apiBase)}/bot${key}/sendMessage`, { chat_id: channel.chatId, text }, deps)
      if (field(answer, 'ok') !== true) throw new AlertSendError(`telegram: not accepted (${String(field(answer, 'description') ?? 'no ok')})`)
      return
    }
    case 'bark': {
      // https://github.com/Finb/bark-server/blob/master/docs/API_V2.md ; POST /push, answers {"code":200,...}
      const answer = await postJson(
        'bark',
        `${trimBase(channel.server)}/push`,
        { device_key: key, title: alert.title, body: alert.text, group: 'standin' },
        deps,
      )
      if (field(answer, 'code') !== 200) throw new AlertSendError(`bark: not accepted (code ${String(field(answer, 'code'))})`)
      return
    }
    case 'wecom': {
      // https://developer.work.weixin.qq.com/document/path/91770 ; answers {"errcode":0,"errmsg":"ok"}
      const answer = await postJson('wecom', `${channel.url}?key=${encodeURIComponent(key)}`, { msgtype: 'text', text: { content: text } }, deps)
      if (field(answer, 'errcode') !== 0) throw new AlertSendError(`wecom: not accepted (errcode ${String(field(answer, 'errcode'))})`)
      return
    }
    case 'dingtalk': {
      // https://open.dingtalk.com/document/orgapp/custom-robot-access (加签: timestamp in ms, sign urlencoded)
      const { id, sign } = splitSecret(key)
      const now = deps.now()
      const query = `access_token=${encodeURIComponent(id)}` + (sign === null ? '' : `&timestamp=${now}&sign=${encodeURIComponent(dingtalkSign(now, sign))}`)
      const answer = await postJson('dingtalk', `${channel.url}?${query}`, { msgtype: 'text', text: { content: text } }, deps)
      if (field(answer, 'errcode') !== 0) throw new AlertSendError(`dingtalk: not accepted (errcode ${String(field(answer, 'errcode'))})`)
      return
    }
    case 'feishu': {
      // https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot (签名校验: timestamp in s)
      const { id, sign } = splitSecret(key)
      const seconds = Math.floor(deps.now() / 1000)
      const signing = sign === null ? {} : { timestamp: String(seconds), sign: feishuSign(seconds, sign) }
      const answer = await postJson('feishu', `${trimBase(channel.url)}/${encodeURIComponent(id)}`, { ...signing, msg_type: 'text', content: { text } }, deps)
      if (field(answer, 'code') !== 0) throw new AlertSendError(`feishu: not accepted (code ${String(field(answer, 'code'))})`)
      return
    }
    case 'webhook': {
      // Ours (README "Alerts"): any 2xx is success.
      const body = JSON.stringify({ kind: alert.kind, subject: alert.subject, severity: alert.severity, at: alert.at, title: alert.title, text: alert.text })
      await postJson('webhook', channel.url, body, deps, { 'x-standin-signature': webhookSignature(deps.now(), body, key) })
      return
    }
    case 'email': {
      if (deps.mailer === null) throw new AlertSendError('email: no mailer')
      try {
        await deps.mailer.send({ to: channel.to, subject: alert.title, text: alert.text })
      } catch (err) {
        throw new AlertSendError(`email: ${err instanceof Error ? err.message : 'failed'}`)
      }
      return
    }
  }
}
