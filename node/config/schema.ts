// The files a node keeps in its data directory (config.json, secrets.json). They are this node's
// own business, not the protocol's: another implementation keeps its settings however it likes.
// The tokens operators pass to each other are protocol (protocol/schemas/tokens.ts).
import { z } from 'zod'
import { LIMITS, Multiaddr, ShopId } from '../../protocol/index.js'
import { parseIpRule } from '../p2p/inbound-allow.js'

const Port = z.number().int().min(0).max(65_535)
const Host = z.string().min(1).max(255)

export const SmtpConfig = z.strictObject({
  host: Host,
  port: Port,
  secure: z.boolean(),
  user: z.string().max(255).nullable(),
  password: z.string().max(255).nullable(),
  from: z.string().min(3).max(255),
})
export type SmtpConfig = z.infer<typeof SmtpConfig>

/** config.json: everything about a node that is not secret. */
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
})
export type NodeConfig = z.infer<typeof NodeConfig>

/** secrets.json (mode 0600): the identity seed, box secret and the two shared secrets. */
export const NodeSecrets = z.strictObject({
  version: z.literal(1),
  seed: z
    .string()
    .length(43)
    .regex(/^[A-Za-z0-9_-]+$/),
  boxSecret: z
    .string()
    .length(43)
    .regex(/^[A-Za-z0-9_-]+$/),
  adminToken: z.string().min(32).max(256),
  adapterSecret: z.string().min(32).max(256),
})
export type NodeSecrets = z.infer<typeof NodeSecrets>
