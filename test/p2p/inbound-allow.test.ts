// Who may open a connection to us, by address alone (node/p2p/inbound-allow.ts): partners' IPs,
// p2p.allowFrom, and nobody filtered while a partner's address cannot be known.
import { multiaddr } from '@multiformats/multiaddr'
import { getNetConfig } from '@libp2p/utils'
import { IpNet } from '@chainsafe/netmask'
import { describe, expect, it } from 'vitest'
import { NodeConfig } from '../../node/config/schema.js'
import { buildAllowList, InboundAllow, parseIpRule, ruleMultiaddrs } from '../../node/p2p/inbound-allow.js'
import { formatZodError } from '../../protocol/index.js'
import { identity, recordingLogger } from './helpers.js'

const bob = identity('bob').id
const carol = identity('carol').id
const from = (ip: string): ReturnType<typeof multiaddr> => multiaddr(ip.includes(':') ? `/ip6/${ip}/tcp/40000` : `/ip4/${ip}/tcp/40000`)

function allow(book: Record<string, string[]>, allowFrom: string[] = []) {
  const logger = recordingLogger()
  const partners = new Set(Object.keys(book))
  const inbound = new InboundAllow({ partners: () => [...partners], addressesOf: (id) => book[id] ?? [], allowFrom, logger })
  return { inbound, logger, book, partners }
}

describe('IP rules', () => {
  it('parses addresses and CIDRs and refuses anything else', () => {
    expect(parseIpRule('203.0.113.7')).toEqual({ family: 'ipv4', address: '203.0.113.7', prefix: 32 })
    expect(parseIpRule('10.0.0.0/8')).toEqual({ family: 'ipv4', address: '10.0.0.0', prefix: 8 })
    expect(parseIpRule('2001:db8::1')).toEqual({ family: 'ipv6', address: '2001:db8::1', prefix: 128 })
    expect(parseIpRule('fd00::/8')).toEqual({ family: 'ipv6', address: 'fd00::', prefix: 8 })
    for (const bad of ['', 'shop.example', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/8/8', '10.0.0.256', '/ip4/10.0.0.1']) {
      expect(parseIpRule(bad), bad).toBeUndefined()
    }
  })

  it('matches CIDRs bit by bit, IPv4 also when it arrives IPv4-mapped', () => {
    const { inbound } = allow({ [bob]: ['/ip4/198.51.100.1/tcp/4001'] }, ['10.1.0.0/16', '192.0.2.128/25', 'fd00:ab::/32'])
    expect(inbound.allows(from('198.51.100.1'))).toBe(true)
    expect(inbound.allows(from('198.51.100.2'))).toBe(false)
    expect(inbound.allows(from('10.1.255.255'))).toBe(true)
    expect(inbound.allows(from('10.2.0.0'))).toBe(false)
    expect(inbound.allows(from('192.0.2.128'))).toBe(true)
    expect(inbound.allows(from('192.0.2.127'))).toBe(false)
    expect(inbound.allows(from('fd00:ab:ffff::1'))).toBe(true)
    expect(inbound.allows(from('fd00:ac::1'))).toBe(false)
    expect(inbound.allows(from('::ffff:10.1.2.3'))).toBe(true)
    expect(inbound.allows(from('::ffff:10.2.2.3'))).toBe(false)
  })

  it("gives libp2p's allow list the same networks, IPv4 ones also IPv4-mapped", () => {
    const rules = ['203.0.113.7', '10.0.0.0/8', 'fd00::/8'].map((text) => parseIpRule(text)!)
    // Parsed the way libp2p's connection manager parses its allow list (multiaddrToIpNet).
    const nets = ruleMultiaddrs(rules).map((text) => {
      const config = getNetConfig(multiaddr(text))
      return new IpNet(config.host, config.cidr!)
    })
    const allowed = (ip: string) => nets.some((net) => net.contains(ip))
    expect(['203.0.113.7', '10.9.9.9', '::ffff:203.0.113.7', '::ffff:10.9.9.9', 'fd12::1'].filter((ip) => !allowed(ip))).toEqual([])
    expect(['203.0.113.8', '11.0.0.1', '::ffff:203.0.113.8', 'fe80::1'].filter(allowed)).toEqual([])
  })
})

describe('the allow list', () => {
  it("is the IP hosts of partners' addresses, with or without /p2p, plus allowFrom", () => {
    const list = buildAllowList(
      [bob, carol],
      (id) => (id === bob ? ['/ip4/198.51.100.1/tcp/4001', `/ip4/198.51.100.1/tcp/4002/p2p/${bob}`, 'not a multiaddr'] : ['/ip6/2001:db8::7/tcp/4001']),
      [parseIpRule('10.0.0.0/8')!],
    )
    expect(list.filtering).toBe(true)
    expect(list.unknown).toEqual([])
    expect(list.rules.map((r) => `${r.address}/${r.prefix}`)).toEqual(['198.51.100.1/32', '2001:db8::7/128', '10.0.0.0/8'])
  })

  it('refuses everyone else, and follows the partner set on refresh', () => {
    const { inbound, book, partners } = allow({ [bob]: ['/ip4/198.51.100.1/tcp/4001'] })
    expect(inbound.allows(from('198.51.100.1'))).toBe(true)
    expect(inbound.allows(from('203.0.113.9'))).toBe(false)
    // Asked again on refresh only: a lookup per connection stays cheap under a flood.
    book[carol] = ['/ip4/203.0.113.9/tcp/4001']
    partners.add(carol)
    expect(inbound.allows(from('203.0.113.9'))).toBe(false)
    inbound.refresh()
    expect(inbound.allows(from('203.0.113.9'))).toBe(true)
    partners.delete(bob)
    inbound.refresh()
    expect(inbound.allows(from('198.51.100.1'))).toBe(false)
  })

  it('does not filter while a partner names a DNS host or has no address, and warns once saying what to set', () => {
    const { inbound, logger, book, partners } = allow({ [bob]: ['/ip4/198.51.100.1/tcp/4001'], [carol]: ['/dns4/carol.example/tcp/4001'] })
    expect(inbound.list.filtering).toBe(false)
    expect(inbound.list.unknown).toEqual([{ peer: carol, addr: '/dns4/carol.example/tcp/4001' }])
    expect(inbound.allows(from('203.0.113.9'))).toBe(true)
    inbound.refresh()
    inbound.refresh()
    const warnings = logger.entries.filter((e) => e.level === 'warn')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]?.message).toMatch(/not filtering inbound connections by address.*set p2p\.allowFrom/)

    // A partner with no address at all cannot be told apart either.
    book[carol] = []
    inbound.refresh()
    expect(inbound.list.unknown).toEqual([{ peer: carol, addr: null }])
    expect(inbound.allows(from('203.0.113.9'))).toBe(true)

    // Once every partner has an IP, filtering starts.
    partners.delete(carol)
    inbound.refresh()
    expect(inbound.list.filtering).toBe(true)
    expect(inbound.allows(from('203.0.113.9'))).toBe(false)
  })

  it('filters with allowFrom set even while a partner names a DNS host: it must dial from allowFrom', () => {
    const { inbound, logger } = allow({ [bob]: ['/ip4/198.51.100.1/tcp/4001'], [carol]: ['/dnsaddr/carol.example'] }, ['192.0.2.0/24'])
    expect(inbound.list.filtering).toBe(true)
    expect(inbound.allows(from('192.0.2.44'))).toBe(true)
    expect(inbound.allows(from('198.51.100.1'))).toBe(true)
    expect(inbound.allows(from('203.0.113.9'))).toBe(false)
    expect(logger.entries.filter((e) => e.level === 'warn')).toEqual([])
    expect(logger.entries.filter((e) => e.level === 'info' && e.message.includes('only from p2p.allowFrom'))).toHaveLength(1)
  })

  it('does not filter with no partner listed and no allowFrom: there is nothing to go by', () => {
    const { inbound, logger } = allow({})
    expect(inbound.list.filtering).toBe(false)
    expect(inbound.allows(from('203.0.113.9'))).toBe(true)
    expect(logger.entries).toEqual([])
    const withAllowFrom = allow({}, ['192.0.2.0/24']).inbound
    expect(withAllowFrom.allows(from('192.0.2.1'))).toBe(true)
    expect(withAllowFrom.allows(from('203.0.113.9'))).toBe(false)
  })

  it('throws on an allowFrom entry that is not an IP or CIDR', () => {
    expect(() => allow({}, ['shop.example'])).toThrow(/allowFrom: "shop.example" is not an IP address or CIDR/)
  })
})

describe('config p2p.allowFrom', () => {
  const config = (p2p: Record<string, unknown>) => ({
    version: 1,
    name: 'Shop A',
    p2p: { listen: ['/ip4/127.0.0.1/tcp/4001'], announce: ['/ip4/127.0.0.1/tcp/4001'], ...p2p },
    http: { host: '127.0.0.1', port: 8080, publicUrl: 'http://127.0.0.1:8080', adminAllowRemote: false },
    smtp: null,
    adapter: { callbackUrl: null },
    logLevel: 'info',
  })

  it('defaults to none, so existing config files still parse', () => {
    const parsed = NodeConfig.parse(config({}))
    expect(parsed.p2p.allowFrom).toEqual([])
    expect(NodeConfig.parse(config({ allowFrom: ['10.0.0.0/8', '2001:db8::1'] })).p2p.allowFrom).toEqual(['10.0.0.0/8', '2001:db8::1'])
  })

  it('names the field of an entry that is not an IP or CIDR', () => {
    const parsed = NodeConfig.safeParse(config({ allowFrom: ['10.0.0.0/8', 'partner.example'] }))
    expect(parsed.success).toBe(false)
    expect(formatZodError(parsed.error!)).toBe('p2p.allowFrom.1: expected an IP address or CIDR, e.g. 203.0.113.7 or 10.0.0.0/8')
  })
})
