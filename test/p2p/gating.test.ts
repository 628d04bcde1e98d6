// Only partners get a connection, and a stream, to us: checked by the gater after the noise
// handshake, again by the stream handlers, and again when the partner set shrinks at runtime.
import { afterEach, describe, expect, it } from 'vitest'
import { FEED_PROTOCOL } from '../../protocol/index.js'
import { Federation, feedGet, identity, waitFor } from './helpers.js'
import { RawPeer, rawFrame } from './raw-peer.js'
import { encodeFrame } from '../../node/p2p/index.js'

const fed = new Federation()
const raw = new RawPeer()
afterEach(async () => {
  await raw.stopAll()
  await fed.stopAll()
})

describe('partner-only gating', () => {
  it('a peer that is not our partner cannot open a stream to us', async () => {
    const alice = await fed.join('alice', ['bob'])
    const mallory = identity('mallory')
    const host = await raw.host(mallory)
    // alice's gater closes the connection after the noise handshake: mallory sees it end mid-upgrade.
    await expect(raw.open(host, alice.node.listenAddrs(), FEED_PROTOCOL)).rejects.toThrow()
    expect(alice.node.transport.isConnected(mallory.id)).toBe(false)
    expect(alice.handler.connected).toEqual([])
    expect(alice.handler.feed).toEqual([])
    // The same bare node with a partner's key gets through: it is the key that was refused.
    const asBob = await raw.host(identity('bob'))
    const stream = await raw.open(asBob, alice.node.listenAddrs(), FEED_PROTOCOL)
    expect(stream.status).toBe('open')
  })

  it('a transport that lists us as its partner still cannot reach us unless we list it', async () => {
    const alice = await fed.join('alice', ['bob'])
    const mallory = await fed.join('mallory', ['alice'])
    expect(mallory.node.transport.send(alice.identity.id, 'feed', feedGet(mallory.identity.id, 0))).toBe(true)
    await waitFor('mallory gives up a first time', () => mallory.logger.entries.some((e) => e.message.includes('cannot write to partner')))
    expect(alice.handler.feed).toEqual([])
    expect(alice.handler.connected).toEqual([])
    expect(alice.node.transport.isConnected(mallory.identity.id)).toBe(false)
  })

  it('a partner removed at runtime is disconnected and its frames stop arriving', async () => {
    const alice = await fed.join('alice', ['bob'])
    const bob = await fed.join('bob', ['alice'])
    bob.node.transport.send(alice.identity.id, 'feed', feedGet(bob.identity.id, 0))
    await waitFor('first frame', () => alice.handler.feed.length === 1)

    alice.partners.delete(bob.identity.id)
    await waitFor('alice drops bob', () => !alice.node.transport.isConnected(bob.identity.id))
    await waitFor('disconnect reported', () => alice.handler.disconnected.includes(bob.identity.id))
    bob.node.transport.send(alice.identity.id, 'feed', feedGet(bob.identity.id, 1))
    await waitFor('bob fails to reach alice', () => bob.logger.entries.some((e) => e.message.includes('cannot write to partner')))
    expect(alice.handler.feed).toHaveLength(1)
  })

  it('the stream handler re-checks the partner set on every frame', async () => {
    // A long reconnect interval keeps the background pruning out of the way.
    const alice = await fed.join('alice', ['bob'], { reconnectIntervalMs: 60_000 })
    const bob = identity('bob')
    const host = await raw.host(bob)
    const stream = await raw.open(host, alice.node.listenAddrs(), FEED_PROTOCOL)
    stream.send(rawFrame(encodeFrame(feedGet(bob.id, 0))))
    await waitFor('first frame', () => alice.handler.feed.length === 1)
    alice.partners.delete(bob.id)
    stream.send(rawFrame(encodeFrame(feedGet(bob.id, 1))))
    await waitFor('stream aborted by alice', () => stream.status !== 'open')
    expect(alice.handler.feed).toHaveLength(1)
    expect(alice.logger.entries.some((e) => e.level === 'warn' && e.message.includes('no longer a partner'))).toBe(true)
  })
})
