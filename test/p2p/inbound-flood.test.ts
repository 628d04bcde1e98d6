// Idle TCP connections must not keep a partner out (issue 18). libp2p counts an inbound socket as
// "pending" until its handshake is done and refuses new ones beyond maxIncomingPendingConnections
// (10 by default), and a socket that says nothing stays pending for the whole upgrade timeout
// (10 s): a dozen idle sockets from a stranger kept partners out. Now a socket from an address no
// partner uses is closed before the handshake, and partners' addresses skip the pending count.
//
// Alice knows bob's address from his card but cannot reach it (the port is closed), so bob has to
// dial in, through the flood, as a partner behind NAT would.
import { afterEach, describe, expect, it } from 'vitest'
import { Federation, feedGet, identity, type Member, waitFor } from './helpers.js'
import { closedPort, IdleSockets, tcpTarget } from './idle-sockets.js'

const IDLE_SOCKETS = 64
/**
 * The stranger's source addresses, 4 sockets from each: libp2p also refuses a 6th connection a
 * second from one address, so a stranger spreads its sockets over a few, as a botnet would.
 */
const STRANGER_ADDRESSES = Array.from({ length: 16 }, (_, i) => `127.0.0.${i + 2}`)
const PARTNER_ADDRESS = '127.0.0.1'
/** Test 1: far beyond the test, so only the address check can have closed a stranger's socket. */
const LONG_UPGRADE_TIMEOUT_MS = 600_000
/** Test 2 waits this long for the default upgrade timeout (5 s) to close the idle sockets. */
const REAP_WAIT_MS = 30_000

const fed = new Federation()
const floods: IdleSockets[] = []
afterEach(async () => {
  for (const flood of floods.splice(0)) flood.destroyAll()
  await fed.stopAll()
})

function idleSockets(): IdleSockets {
  const flood = new IdleSockets()
  floods.push(flood)
  return flood
}

async function aliceWithBobUnreachable(inboundUpgradeTimeoutMs?: number): Promise<Member> {
  const bob = identity('bob').id
  const bobsCard = [`/ip4/${PARTNER_ADDRESS}/tcp/${await closedPort()}`]
  return fed.join('alice', ['bob'], { addressesOf: (id) => (id === bob ? bobsCard : []), ...(inboundUpgradeTimeoutMs ? { inboundUpgradeTimeoutMs } : {}) })
}

/** Bob joins, dials alice and sends one frame; it must arrive, and bob's first dial must have worked. */
async function bobGetsThrough(alice: Member): Promise<Member> {
  const bob = await fed.join('bob', ['alice'])
  expect(bob.node.transport.send(alice.identity.id, 'feed', feedGet(bob.identity.id, 0))).toBe(true)
  await waitFor("bob's frame at alice", () => alice.handler.feed.length === 1)
  expect(alice.handler.feed[0]?.from).toBe(bob.identity.id)
  expect(alice.handler.connected).toEqual([bob.identity.id])
  // Denied once, bob would have logged it and tried again.
  const failures = bob.logger.entries.filter((e) => e.message.includes('unreachable') || e.message.includes('cannot write'))
  expect(failures).toEqual([])
  return bob
}

describe('idle connections do not keep partners out', () => {
  it("a stranger's idle sockets are closed before any handshake, and a partner connects through them", async () => {
    const alice = await aliceWithBobUnreachable(LONG_UPGRADE_TIMEOUT_MS)
    const flood = idleSockets()
    // Some may already be reset by alice before the stranger's side saw them connect.
    await flood.open(tcpTarget(alice.node.listenAddrs()), IDLE_SOCKETS, STRANGER_ADDRESSES)

    await bobGetsThrough(alice)
    // Closed by alice although the stranger holds them open and no upgrade timeout has run out.
    await waitFor('alice closes every stranger socket', () => flood.closed === IDLE_SOCKETS)
    expect(alice.logger.entries.filter((e) => e.level === 'warn')).toEqual([])
  })

  it("idle sockets from a partner's own address do not keep it out, and the upgrade timeout closes them", async () => {
    const alice = await aliceWithBobUnreachable()
    const flood = idleSockets()
    await flood.open(tcpTarget(alice.node.listenAddrs()), IDLE_SOCKETS, [PARTNER_ADDRESS])
    expect(flood.connected).toBe(IDLE_SOCKETS)

    // Bob's address skips libp2p's pending count and per-address rate, so 64 idle sockets from it
    // (more than either allows) do not stop him.
    const bob = await bobGetsThrough(alice)
    await waitFor('the upgrade timeout closes every idle socket', () => flood.closed === IDLE_SOCKETS, REAP_WAIT_MS)
    expect(alice.node.transport.isConnected(bob.identity.id)).toBe(true)
  })
})
