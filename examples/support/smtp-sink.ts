// A real SMTP server on 127.0.0.1 (ephemeral port) that records what it is sent, or refuses it.
// Each message is decoded once, on arrival, by mailparser: readers then look at plain text and
// subject synchronously, however often they poll the mailbox.
import type { AddressInfo } from 'node:net'
import { type ParsedMail, simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export interface Received {
  /** When the sink accepted the message (ms since epoch). */
  at: number
  from: string
  to: string[]
  raw: string
  /** The message decoded: headers, subject, text and html parts. */
  mail: ParsedMail
  user: string | undefined
}

export interface SinkOptions {
  /** Refuse every recipient, or every message body, with a 5xx reply. */
  reject?: 'rcpt' | 'data'
  /** Require AUTH with these credentials. */
  credentials?: { user: string; password: string }
}

export interface Sink {
  port: number
  received: Received[]
  close(): Promise<void>
}

function refusal(message: string, responseCode: number): Error {
  return Object.assign(new Error(message), { responseCode })
}

export async function startSink(options: SinkOptions = {}): Promise<Sink> {
  const received: Received[] = []
  const server = new SMTPServer({
    // Plain SMTP on loopback: no certificate to trust, so STARTTLS is not offered.
    disabledCommands: options.credentials === undefined ? ['STARTTLS', 'AUTH'] : ['STARTTLS'],
    authOptional: options.credentials === undefined,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      const ok = auth.username === options.credentials?.user && auth.password === options.credentials?.password
      callback(ok ? null : refusal('bad credentials', 535), ok ? { user: auth.username } : undefined)
    },
    onRcptTo(_address, _session, callback) {
      callback(options.reject === 'rcpt' ? refusal('mailbox unavailable', 550) : null)
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        if (options.reject === 'data') return callback(refusal('message refused', 554))
        const at = Date.now()
        const raw = Buffer.concat(chunks)
        simpleParser(raw).then(
          (mail) => {
            received.push({
              at,
              from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
              to: session.envelope.rcptTo.map((r) => r.address),
              raw: raw.toString('utf8'),
              mail,
              user: typeof session.user === 'string' ? session.user : undefined,
            })
            callback(null)
          },
          // A message the sink cannot read is refused, so the sender sees it rather than a test later.
          (error: unknown) => callback(refusal(`message unreadable: ${(error as Error).message}`, 554)),
        )
      })
    },
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.server.address() as AddressInfo
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}
