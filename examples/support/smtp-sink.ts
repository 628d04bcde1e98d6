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
  /** The session was TLS (upgraded with STARTTLS) when the message came. */
  secure: boolean
}

/** One AUTH the sink answered, and whether the session was TLS by then. */
export interface AuthAttempt {
  user: string
  password: string
  secure: boolean
}

export interface SinkOptions {
  /** Refuse every recipient, or every message body, with a 5xx reply. */
  reject?: 'rcpt' | 'data'
  /** Require AUTH with these credentials. */
  credentials?: { user: string; password: string }
  /** Offer STARTTLS with this key and certificate (PEM); without it the sink speaks plain SMTP only. */
  tls?: { key: string | Buffer; cert: string | Buffer }
  /**
   * Decode and keep every message in `received` (default). False: only count them in
   * `acceptedAt`, for benchmarks, where decoding 10,000 messages would take the CPU the nodes
   * under test need.
   */
  decode?: boolean
}

export interface Sink {
  port: number
  received: Received[]
  /** When each message was accepted (ms since epoch), in order, decoded or not. */
  acceptedAt: number[]
  /** Every AUTH the sink answered, in order. */
  auths: AuthAttempt[]
  close(): Promise<void>
}

function refusal(message: string, responseCode: number): Error {
  return Object.assign(new Error(message), { responseCode })
}

export async function startSink(options: SinkOptions = {}): Promise<Sink> {
  const received: Received[] = []
  const acceptedAt: number[] = []
  const auths: AuthAttempt[] = []
  const tls = options.tls
  const server = new SMTPServer({
    // Without a certificate the sink speaks plain SMTP on loopback and does not offer STARTTLS.
    disabledCommands: [...(tls === undefined ? ['STARTTLS'] : []), ...(options.credentials === undefined ? ['AUTH'] : [])],
    ...(tls === undefined ? {} : { key: tls.key, cert: tls.cert }),
    authOptional: options.credentials === undefined,
    // Plain AUTH is accepted and recorded (auths[].secure), so a test sees a client that sent it.
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, session, callback) {
      auths.push({ user: auth.username ?? '', password: auth.password ?? '', secure: session.secure })
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
        if (options.decode === false) {
          acceptedAt.push(at)
          return callback(null)
        }
        const raw = Buffer.concat(chunks)
        simpleParser(raw).then(
          (mail) => {
            acceptedAt.push(at)
            received.push({
              at,
              from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
              to: session.envelope.rcptTo.map((r) => r.address),
              raw: raw.toString('utf8'),
              mail,
              user: typeof session.user === 'string' ? session.user : undefined,
              secure: session.secure,
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
  return { port, received, acceptedAt, auths, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}
