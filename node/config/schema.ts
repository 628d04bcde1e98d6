// The files a node keeps in its data directory (config.json, secrets.json). They are this node's
// own business, not the protocol's: another implementation keeps its settings however it likes.
// The tokens operators pass to each other are protocol (protocol/schemas/tokens.ts).
import { BlockList, isIP } from 'node:net'
import { isAbsolute } from 'node:path'
import { z } from 'zod'
import { LIMITS, Multiaddr, ShopId } from '../../protocol/index.js'
import { parseIpRule } from '../p2p/inbound-allow.js'
import { AlertSecrets, AlertsConfig } from './alerts.js'

const Port = z.number().int().min(0).max(65_535)
const Host = z.string().min(1).max(255)

/** 127.0.0.0/8 and ::1 (also written ::ffff:127.x.y.z or in full). */
const LOOPBACK = new BlockList()
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4')
LOOPBACK.addAddress('::1', 'ipv6')

/** A relay on this host: mail to it never crosses a network an attacker could sit on (D58). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1')
  if (/^localhost\.?$/i.test(bare)) return true
  const family = isIP(bare)
  return family !== 0 && LOOPBACK.check(bare, family === 4 ? 'ipv4' : 'ipv6')
}

/** Bounds of config.json smtp.maxConnections (connections) and smtp.maxMessagesPerSecond (messages/s). */
export const SMTP_MAX_CONNECTIONS = 32
export const SMTP_DEFAULT_CONNECTIONS = 4
export const SMTP_MAX_MESSAGES_PER_SECOND = 10_000

/**
 * config.json `smtp`. The password is not here: it is secrets.json `smtpPassword` (D59). Parsing
 * fills in `requireTls` (D58), `tlsCaFile`, `maxConnections` and `maxMessagesPerSecond` when the file
 * leaves them out, here and nowhere else.
 */
export const SmtpConfig = z
  .strictObject({
    host: Host,
    port: Port,
    /** TLS from the first byte (port 465); otherwise the session is upgraded with STARTTLS. */
    secure: z.boolean(),
    /** The relay's account; its password is secrets.json smtpPassword. Null: no AUTH. */
    user: z.string().max(255).nullable(),
    from: z.string().min(3).max(255),
    /**
     * Refuse a relay that does not upgrade to TLS (STARTTLS) instead of sending in the clear.
     * Absent: true, unless `host` is loopback (127.0.0.0/8, ::1, localhost).
     */
    requireTls: z.boolean().optional(),
    /** PEM file of the CA (or the certificate) the relay's TLS certificate must chain to, instead of the system's CAs. */
    tlsCaFile: z
      .string()
      .min(1)
      .max(4096)
      .refine((path) => isAbsolute(path), 'must be an absolute path')
      .nullable()
      .optional(),
    /** Connections held open to the relay at once. Absent: 4. Relays that throttle by connection want fewer. */
    maxConnections: z.number().int().min(1).max(SMTP_MAX_CONNECTIONS).optional(),
    /** Messages handed to the relay per second at most, for relays that limit senders. Absent or null: no limit. */
    maxMessagesPerSecond: z.number().int().min(1).max(SMTP_MAX_MESSAGES_PER_SECOND).nullable().optional(),
  })
  .transform(({ requireTls, tlsCaFile, maxConnections, maxMessagesPerSecond, ...smtp }) => ({
    ...smtp,
    requireTls: requireTls ?? !isLoopbackHost(smtp.host),
    tlsCaFile: tlsCaFile ?? null,
    maxConnections: maxConnections ?? SMTP_DEFAULT_CONNECTIONS,
    maxMessagesPerSecond: maxMessagesPerSecond ?? null,
  }))
  // A password never crosses a network in the clear, whatever else the operator turns off (D58).
  .refine((smtp) => smtp.secure || smtp.requireTls || smtp.user === null || isLoopbackHost(smtp.host), {
    path: ['requireTls'],
    message:
      'false with smtp.user set would send the relay password in the clear to a host that is not loopback; keep it true (the relay must offer STARTTLS) or use secure: true',
  })
export type SmtpConfig = z.infer<typeof SmtpConfig>

/** config.json: everything about a node that is not secret. */
/** A day: scheduled drills by default. */
export const DEFAULT_DRILL_EVERY_MINUTES = 1_440
/** A week: a schedule longer than this is as good as none (set null instead). */
const MAX_DRILL_EVERY_MINUTES = 10_080

export const NodeConfig = z.strictObject({
  version: z.literal(1),
  name: z.string().min(1).max(100),
  p2p: z.strictObject({
    /** Addresses libp2p listens on (127.0.0.1 by default). */
    listen: z.array(Multiaddr).min(1).max(LIMITS.maxAddrs),
    /** Addresses partners dial; announced in our shop card. */
    announce: z.array(Multiaddr).min(1).max(LIMITS.maxAddrs),
    /**
     * Where to dial a partner instead of the addresses on its card (a tunnel, a proxy, NAT):
     * shop id → multiaddrs. The partner is still authenticated by its key.
     */
    dialOverrides: z.record(ShopId, z.array(Multiaddr).min(1).max(LIMITS.maxAddrs)).default({}),
    /**
     * IPs or CIDRs partners may dial in from besides the addresses on their cards and in
     * dialOverrides (a partner behind NAT, or one whose card names a DNS host). Inbound p2p
     * connections from anywhere else are refused before the handshake (node/p2p/inbound-allow.ts).
     */
    allowFrom: z
      .array(z.string().refine((text) => parseIpRule(text) !== undefined, 'expected an IP address or CIDR, e.g. 203.0.113.7 or 10.0.0.0/8'))
      .max(LIMITS.maxParties * LIMITS.maxAddrs)
      .default([]),
  }),
  http: z.strictObject({
    host: Host,
    port: Port,
    /** Base URL buyers reach the claim page and outage notice on. */
    publicUrl: z.string().url().max(LIMITS.maxUrlChars),
    /** Admin routes answer loopback clients only unless this is true. */
    adminAllowRemote: z.boolean(),
  }),
  smtp: SmtpConfig.nullable(),
  /** The shop's generic-adapter callback base URL (fence, stock, write-back), or null. */
  adapter: z.strictObject({ callbackUrl: z.string().url().max(LIMITS.maxUrlChars).nullable() }),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  /** Operator alerts (node/alerts); absent in older files. */
  alerts: AlertsConfig.default({ channels: [] }),
  /**
   * Scheduled fire drills with every partner (D69): every `everyMinutes`, or never (null). Daily
   * by default: a drill costs each partner one read and hash of the keys it holds of ours.
   */
  drills: z
    .strictObject({ everyMinutes: z.number().int().min(1).max(MAX_DRILL_EVERY_MINUTES).nullable() })
    .default({ everyMinutes: DEFAULT_DRILL_EVERY_MINUTES }),
})
export type NodeConfig = z.infer<typeof NodeConfig>
/** config.json as written: fields parsing fills in (smtp.requireTls, smtp.maxConnections, …) may be left out. */
export type NodeConfigFile = z.input<typeof NodeConfig>

const Base64url32 = z
  .string()
  .length(43)
  .regex(/^[A-Za-z0-9_-]+$/)

/** A secret replaced by `standin secrets rotate`, still accepted until `untilMs` (../config/rotating-secret.ts). */
export const PreviousSecret = z.strictObject({ value: z.string().min(32).max(256), untilMs: z.number().int().nonnegative() })

/**
 * secrets.json (mode 0600): what only the node itself may hold. The adapter's secrets live in
 * adapter.json (AdapterCredentials, adapters/contract.ts), one file per holder (D54).
 */
/** Box secrets kept after rotations (D93): each rotation keeps the one it replaced. */
export const MAX_PREVIOUS_BOX_SECRETS = 8

/** Identity handovers remembered in secrets.json (D99): each keeps the seed of the store it left behind. */
export const MAX_PREDECESSORS = 16

export const NodeSecrets = z.strictObject({
  version: z.literal(2),
  /** Ed25519 identity seed; also keys the store's encryption at rest. */
  seed: Base64url32,
  /** X25519 secret that escrow and consignments are sealed to. */
  boxSecret: Base64url32,
  /** Bearer token of the admin API, /metrics and /docs. */
  adminToken: z.string().min(32).max(256),
  /** The SMTP relay's password (the account is config.json smtp.user); null: none. */
  smtpPassword: z.string().min(1).max(255).nullable(),
  /** Alert channel secrets by channel id (config.json alerts); absent in older files. */
  alerts: AlertSecrets.optional(),
  /** The values the last rotation of each replaced, while their grace runs (kept here, never in adapter.json). */
  previousAdminToken: PreviousSecret.optional(),
  previousRequestSecret: PreviousSecret.optional(),
  previousCallbackSecret: PreviousSecret.optional(),
  /**
   * Box secrets rotated out (`standin secrets rotate box`), newest first: what partners sealed to
   * them before they saw our new card still opens (D93). The oldest beyond the limit is dropped.
   */
  previousBoxSecrets: z.array(Base64url32).max(MAX_PREVIOUS_BOX_SECRETS).optional(),
  /** The identity seed `standin identity rotate` made, until the handover takes force and it becomes `seed` (D99). */
  successorSeed: Base64url32.optional(),
  /**
   * Identities this node handed over, newest first, each with its seed: the seed keys the encryption
   * of the store it left behind in `db-<id>/` (D99).
   */
  predecessors: z
    .array(z.strictObject({ id: z.string().min(1).max(128), seed: Base64url32, retiredAt: z.number().int().nonnegative() }))
    .max(MAX_PREDECESSORS)
    .optional(),
})
export type NodeSecrets = z.infer<typeof NodeSecrets>

/** secrets.json as nodes before D54 wrote it: one adapter secret for every adapter purpose. */
export const NodeSecretsV1 = z.strictObject({
  version: z.literal(1),
  seed: Base64url32,
  boxSecret: Base64url32,
  adminToken: z.string().min(32).max(256),
  adapterSecret: z.string().min(32).max(256),
})
export type NodeSecretsV1 = z.infer<typeof NodeSecretsV1>
