// Local stand-ins for the alert services. The real services (api.telegram.org, api.day.app,
// qyapi.weixin.qq.com, oapi.dingtalk.com, open.feishu.cn) cannot be reached from the test machine,
// so each sink here checks the request exactly as that service's documentation describes it
// (path, query, headers, JSON shape, signature) and answers the way the service documents.
import { createHmac } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export type ServiceKind = 'telegram' | 'bark' | 'wecom' | 'dingtalk' | 'feishu' | 'webhook'

export interface ServiceSink {
  readonly base: string
  /** The message texts accepted, in order. */
  readonly accepted: string[]
  /** Why requests were refused. */
  readonly refused: string[]
  close(): Promise<void>
}

export interface SinkSecrets {
  /** Telegram bot token, Bark device key, WeCom key, DingTalk access token, Feishu hook id. */
  readonly token: string
  /** DingTalk / Feishu sign secret, webhook HMAC key. */
  readonly signSecret?: string
  readonly chatId?: string
  /** The timestamp (ms) the sender's clock gives; signatures must use exactly it. */
  readonly nowMs: number
}

const MAX_BODY_BYTES = 64 * 1024

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) throw new Error('body too large')
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function keys(value: unknown): string {
  return typeof value === 'object' && value !== null ? Object.keys(value).sort().join(',') : typeof value
}

class Refusal extends Error {}
function check(condition: boolean, why: string): asserts condition {
  if (!condition) throw new Refusal(why)
}

type Handler = (url: URL, headers: IncomingMessage['headers'], raw: string) => { text: string; answer: unknown }

function handlerFor(kind: ServiceKind, s: SinkSecrets): Handler {
  const json = (headers: IncomingMessage['headers'], raw: string): Record<string, unknown> => {
    check((headers['content-type'] ?? '').startsWith('application/json'), 'content-type is not application/json')
    return JSON.parse(raw) as Record<string, unknown>
  }
  switch (kind) {
    // https://core.telegram.org/bots/api#sendmessage
    case 'telegram':
      return (url, headers, raw) => {
        check(url.pathname === `/bot${s.token}/sendMessage`, `path ${url.pathname}`)
        const body = json(headers, raw)
        check(keys(body) === 'chat_id,text', `fields ${keys(body)}`)
        check(body.chat_id === s.chatId, 'chat_id')
        check(typeof body.text === 'string' && body.text.length > 0 && body.text.length <= 4096, 'text')
        return { text: body.text, answer: { ok: true, result: { message_id: 1, chat: { id: s.chatId }, text: body.text } } }
      }
    // https://github.com/Finb/bark-server/blob/master/docs/API_V2.md
    case 'bark':
      return (url, headers, raw) => {
        check(url.pathname === '/push' && url.search === '', `path ${url.pathname}${url.search}`)
        const body = json(headers, raw)
        check(keys(body) === 'body,device_key,group,title', `fields ${keys(body)}`)
        check(body.device_key === s.token, 'device_key')
        check(typeof body.title === 'string' && typeof body.body === 'string' && body.body.length > 0, 'title/body')
        return { text: `${body.title}\n${body.body}`, answer: { code: 200, message: 'success', timestamp: Math.floor(s.nowMs / 1000) } }
      }
    // https://developer.work.weixin.qq.com/document/path/91770
    case 'wecom':
      return (url, headers, raw) => {
        check(url.pathname === '/cgi-bin/webhook/send', `path ${url.pathname}`)
        check(url.searchParams.get('key') === s.token && [...url.searchParams.keys()].length === 1, 'key')
        const body = json(headers, raw)
        check(keys(body) === 'msgtype,text' && body.msgtype === 'text', `fields ${keys(body)}`)
        check(keys(body.text) === 'content', 'text.content')
        const content = (body.text as { content: unknown }).content
        check(typeof content === 'string' && Buffer.byteLength(content) <= 2048, 'content (at most 2048 bytes)')
        return { text: content, answer: { errcode: 0, errmsg: 'ok' } }
      }
    // https://open.dingtalk.com/document/orgapp/custom-robot-access
    case 'dingtalk':
      return (url, headers, raw) => {
        check(url.pathname === '/robot/send', `path ${url.pathname}`)
        check(url.searchParams.get('access_token') === s.token, 'access_token')
        const timestamp = url.searchParams.get('timestamp')
        check(timestamp === String(s.nowMs), 'timestamp (ms)')
        const expected = createHmac('sha256', s.signSecret ?? '')
          .update(`${timestamp}\n${s.signSecret}`)
          .digest('base64')
        // searchParams decodes the urlencoded sign once, as the service does.
        check(url.searchParams.get('sign') === expected, 'sign')
        const body = json(headers, raw)
        check(keys(body) === 'msgtype,text' && body.msgtype === 'text' && keys(body.text) === 'content', `fields ${keys(body)}`)
        return { text: String((body.text as { content: unknown }).content), answer: { errcode: 0, errmsg: 'ok' } }
      }
    // https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot
    case 'feishu':
      return (url, headers, raw) => {
        check(decodeURIComponent(url.pathname) === `/open-apis/bot/v2/hook/${s.token}`, `path ${url.pathname}`)
        const body = json(headers, raw)
        check(keys(body) === 'content,msg_type,sign,timestamp' && body.msg_type === 'text', `fields ${keys(body)}`)
        const seconds = String(Math.floor(s.nowMs / 1000))
        check(body.timestamp === seconds, 'timestamp (s)')
        const expected = createHmac('sha256', `${seconds}\n${s.signSecret}`).update('').digest('base64')
        check(body.sign === expected, 'sign')
        check(keys(body.content) === 'text', 'content.text')
        return { text: String((body.content as { text: unknown }).text), answer: { code: 0, msg: 'success', data: {} } }
      }
    // Ours: README "Alerts".
    case 'webhook':
      return (url, headers, raw) => {
        check(url.pathname === '/standin-alerts', `path ${url.pathname}`)
        const header = String(headers['x-standin-signature'] ?? '')
        const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header)
        check(match !== null && match[1] === String(s.nowMs), 'x-standin-signature')
        const expected = createHmac('sha256', s.signSecret ?? '')
          .update(`${match[1]}.${raw}`)
          .digest('hex')
        check(match[2] === expected, 'signature')
        const body = json(headers, raw)
        check(keys(body) === 'at,kind,severity,subject,text,title', `fields ${keys(body)}`)
        return { text: `${String(body.title)}\n${String(body.text)}`, answer: { ok: true } }
      }
  }
}

export async function startServiceSink(kind: ServiceKind, secrets: SinkSecrets): Promise<ServiceSink> {
  const accepted: string[] = []
  const refused: string[] = []
  const handle = handlerFor(kind, secrets)
  const server: Server = createServer((req, res) => {
    void (async () => {
      try {
        check(req.method === 'POST', `method ${req.method}`)
        const raw = await readBody(req)
        const { text, answer } = handle(new URL(req.url ?? '/', 'http://127.0.0.1'), req.headers, raw)
        accepted.push(text)
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer))
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err)
        refused.push(why)
        // Each service's own refusal shape matters little: a 4xx is what every one of them may send.
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, errcode: 400, code: 400, msg: why }))
      }
    })()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    base: `http://127.0.0.1:${port}`,
    accepted,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
