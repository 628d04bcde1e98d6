// Which remote addresses may open a connection to us, judged on the bare TCP address before any
// handshake (the gater's denyInboundConnection): a stranger's socket is closed at once instead of
// holding one of libp2p's slots for connections still in their handshake (issue 18).
// Allowed: the IP hosts of every partner's addresses (its card's and our dial override's) and
// p2p.allowFrom. A partner named by DNS, or with no address at all, can come from anywhere; unless
// allowFrom says where, nobody is filtered by address (warned once) and the gater's check of the
// partner's key after noise is the only one.
import { BlockList, isIP } from 'node:net'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { ShopId } from '../../protocol/index.js'
import type { Logger } from '../core/ports.js'

export interface IpRule {
  readonly family: 'ipv4' | 'ipv6'
  readonly address: string
  /** Leading bits that must match: 32 (IPv4) or 128 (IPv6) for one address. */
  readonly prefix: number
}

/** '203.0.113.7', '10.0.0.0/8', '2001:db8::1', 'fd00::/8' → a rule; anything else → undefined. */
export function parseIpRule(text: string): IpRule | undefined {
  const slash = text.indexOf('/')
  const address = slash === -1 ? text : text.slice(0, slash)
  const version = isIP(address)
  if (version === 0) return undefined
  const bits = version === 4 ? 32 : 128
  const prefixText = slash === -1 ? String(bits) : text.slice(slash + 1)
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) return undefined
  return { family: version === 4 ? 'ipv4' : 'ipv6', address, prefix: Number(prefixText) }
}

/** The IP a multiaddr starts with, or undefined for DNS names, relays, unix sockets and the like. */
export function ipHostOf(addr: Multiaddr): string | undefined {
  const components = addr.getComponents()
  const first = components[0]?.name === 'ip6zone' ? components[1] : components[0]
  return first && (first.name === 'ip4' || first.name === 'ip6') ? first.value : undefined
}

export interface UnknownAddress {
  readonly peer: ShopId
  /** The partner's address that is not an IP, or null when it has none. */
  readonly addr: string | null
}

export interface AllowList {
  /** Whether inbound connections are refused by address at all. */
  readonly filtering: boolean
  /** Partners' IPs, then allowFrom. */
  readonly rules: readonly IpRule[]
  /** Partners we cannot tell the address of. */
  readonly unknown: readonly UnknownAddress[]
}

/**
 * Unparseable addresses are skipped (the dialer skips them too). A partner with an address that is
 * not an IP, or with no address, is unknown; filtering is off while one is and allowFrom is empty.
 */
export function buildAllowList(partners: readonly ShopId[], addressesOf: (id: ShopId) => readonly string[], allowFrom: readonly IpRule[]): AllowList {
  const rules: IpRule[] = []
  const seen = new Set<string>()
  const unknown: UnknownAddress[] = []
  for (const peer of partners) {
    let hasIp = false
    for (const text of addressesOf(peer)) {
      let addr: Multiaddr
      try {
        addr = multiaddr(text)
      } catch {
        continue
      }
      const host = ipHostOf(addr)
      const rule = host === undefined ? undefined : parseIpRule(host)
      if (rule === undefined) {
        unknown.push({ peer, addr: text })
        continue
      }
      hasIp = true
      if (seen.has(rule.address)) continue
      seen.add(rule.address)
      rules.push(rule)
    }
    if (!hasIp && !unknown.some((u) => u.peer === peer)) unknown.push({ peer, addr: null })
  }
  const fromPartners = rules.length
  rules.push(...allowFrom)
  // With nothing to go by (no partner listed, no allowFrom) nobody is refused by address: a caller
  // that lists no partners (partners() is who to keep connected) may still accept some by key.
  const filtering = allowFrom.length > 0 || (unknown.length === 0 && fromPartners > 0)
  return { filtering, rules, unknown }
}

/**
 * Rules as multiaddrs, the form libp2p's connection-manager allow list takes. That list compares
 * an IPv4 network with IPv6 addresses byte for byte, so each IPv4 rule also comes IPv4-mapped.
 */
export function ruleMultiaddrs(rules: readonly IpRule[]): string[] {
  return rules.flatMap((rule) =>
    rule.family === 'ipv4'
      ? [`/ip4/${rule.address}/ipcidr/${rule.prefix}`, `/ip6/::ffff:${rule.address}/ipcidr/${96 + rule.prefix}`]
      : [`/ip6/${rule.address}/ipcidr/${rule.prefix}`],
  )
}

export interface InboundAllowDeps {
  partners(): readonly ShopId[]
  addressesOf(id: ShopId): readonly string[]
  /** IPs or CIDRs as text (p2p.allowFrom); an entry that is neither throws a RangeError. */
  readonly allowFrom: readonly string[]
  readonly logger: Logger
}

/**
 * The allow list, computed when built and on every refresh() (the transport calls it once per
 * keep-connected round, so a changed partner set is followed within reconnectIntervalMs and a flood
 * of strangers costs one lookup each, not a walk over every partner's addresses).
 */
export class InboundAllow {
  readonly #deps: InboundAllowDeps
  readonly #allowFrom: readonly IpRule[]
  #list: AllowList = { filtering: false, rules: [], unknown: [] }
  #blockList = new BlockList()
  /** What the last warning or notice was about, so each situation is logged once. */
  #logged = ''

  constructor(deps: InboundAllowDeps) {
    this.#deps = deps
    this.#allowFrom = deps.allowFrom.map((text) => {
      const rule = parseIpRule(text)
      if (!rule) throw new RangeError(`allowFrom: ${JSON.stringify(text)} is not an IP address or CIDR`)
      return rule
    })
    this.refresh()
  }

  get list(): AllowList {
    return this.#list
  }

  refresh(): void {
    const list = buildAllowList(this.#deps.partners(), (id) => this.#deps.addressesOf(id), this.#allowFrom)
    // BlockList is used as a set of networks: IPv4 rules also match IPv4-mapped IPv6 addresses
    // ('::ffff:203.0.113.7', how a dual-stack listener sees an IPv4 client).
    const blockList = new BlockList()
    for (const rule of list.rules) blockList.addSubnet(rule.address, rule.prefix, rule.family)
    this.#list = list
    this.#blockList = blockList
    this.#report(list)
  }

  /** Whether a connection from `remote` may go on to the handshake. */
  allows(remote: Multiaddr): boolean {
    if (!this.#list.filtering) return true
    const host = ipHostOf(remote)
    if (host === undefined) return false
    return this.#blockList.check(host, isIP(host) === 4 ? 'ipv4' : 'ipv6')
  }

  #report(list: AllowList): void {
    const about = list.unknown.length === 0 ? '' : `${list.filtering} ${JSON.stringify(list.unknown)}`
    if (about === this.#logged) return
    this.#logged = about
    if (about === '') return
    const fields = { partners: list.unknown }
    if (list.filtering) {
      this.#deps.logger.info(fields, 'p2p: these partners list no IP address; they are let in only from p2p.allowFrom')
    } else {
      this.#deps.logger.warn(
        fields,
        'p2p: not filtering inbound connections by address: these partners list no IP address (a DNS name, or none), ' +
          'so they may dial from anywhere; set p2p.allowFrom to the IPs or CIDRs partners dial from to refuse strangers before the handshake',
      )
    }
  }
}
