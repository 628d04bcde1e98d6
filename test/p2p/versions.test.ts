// Protocol negotiation (D96), over real libp2p connections on loopback. Two current nodes tell
// each other their minor in `hello` and exchange everything. A partner from before `hello` (minor
// 0, played by a bare libp2p host) is told it connected once the wait for its hello ran out, and
// is sent no type newer than its minor. A partner on the next minor keeps working: a type only it
// knows is dropped quietly, never counted against it, and what follows still arrives.
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { encodeFrame } from '../../node/p2p/index.js'
import { PeerVersions } from '../../node/p2p/versions.js'
import {
  CONTROL_PROTOCOL,
  type ControlMessage,
  FEED_PROTOCOL,
  type FeedMessage,
  messageKind,
  PROTOCOL_MINOR,
  PROTOCOL_VERSION,
  successionTerms,
} from '../../protocol/index.js'
import { alice, bob, carol, dave, sampleTerms, T0 } from '../protocol/fixtures.js'
import { Federation, feedGet, heartbeat, identity, waitFor } from './helpers.js'
import { RawPeer, rawFrame } from './raw-peer.js'

const fed = new Federation()
const raw = new RawPeer()
afterEach(async () => {
  await raw.stopAll()
  await fed.stopAll()
})

const held = (author: string): FeedMessage => ({ type: 'feed.held', author, seq: 3, head: null })

describe('protocol versions between partners', () => {
  it('two current nodes say hello, are told of each other, and send each other every type', async () => {
    const alice = await fed.join('alice', ['bob'])
    const bob = await fed.join('bob', ['alice'])
    await waitFor('both connected', () => alice.handler.connected.includes(bob.identity.id) && bob.handler.connected.includes(alice.identity.id))
    expect(alice.node.transport.send(bob.identity.id, 'feed', held(alice.identity.id))).toBe(true)
    await waitFor('feed.held at bob', () => bob.handler.feed.some((f) => f.message.type === 'feed.held'))
    // `hello` stays in the p2p layer: the node never sees it.
    expect([...alice.handler.control, ...bob.handler.control].some((c) => c.message.type === 'hello')).toBe(false)
    expect(alice.rejected).toEqual([])
    expect(bob.rejected).toEqual([])
  })

  it('a partner from before hello (minor 0) gets no newer type, and everything else', async () => {
    const bob = identity('bob')
    const alice = await fed.join('alice', ['bob'])
    const host = await raw.host(bob)
    // bob dials alice and says nothing: she tells her node once the wait for his hello is over.
    const stream = await raw.open(host, alice.node.listenAddrs(), CONTROL_PROTOCOL)
    await waitFor('alice told bob connected', () => alice.handler.connected.includes(bob.id))
    expect(alice.node.transport.send(bob.id, 'feed', held(alice.identity.id))).toBe(false)
    expect(alice.node.transport.send(bob.id, 'feed', feedGet(alice.identity.id, 0))).toBe(true)
    // A type unknown to alice from a minor-0 partner is an invalid frame, as it always was.
    stream.send(rawFrame(encodeFrame({ type: 'control.future' })))
    await waitFor('the frame refused', () => alice.rejected.length === 1)
    expect(alice.rejected[0]?.reason).toMatch(/type/)
  })

  it('a partner on the next minor keeps working: its new type is dropped quietly, what follows arrives', async () => {
    const bob = identity('bob')
    const alice = await fed.join('alice', ['bob'])
    const host = await raw.host(bob)
    const control = await raw.open(host, alice.node.listenAddrs(), CONTROL_PROTOCOL)
    const hello: ControlMessage = { type: 'hello', major: PROTOCOL_VERSION, minor: PROTOCOL_MINOR + 1 }
    control.send(rawFrame(encodeFrame(hello)))
    await waitFor('alice told bob connected', () => alice.handler.connected.includes(bob.id))
    control.send(rawFrame(encodeFrame({ type: 'control.future', what: 'a later minor' })))
    control.send(rawFrame(encodeFrame(heartbeat(bob, alice.identity.id, 1))))
    const feed = await raw.open(host, alice.node.listenAddrs(), FEED_PROTOCOL)
    feed.send(rawFrame(encodeFrame({ type: 'feed.future' })))
    feed.send(rawFrame(encodeFrame(feedGet(bob.id, 4))))
    await waitFor('the heartbeat and the feed.get', () => alice.handler.control.length === 1 && alice.handler.feed.length === 1)
    expect(alice.handler.feed[0]?.message).toEqual(feedGet(bob.id, 4))
    expect(alice.rejected).toEqual([])
    // A known type that does not parse is still refused, whatever minor the partner says it speaks.
    feed.send(rawFrame(encodeFrame({ type: 'feed.get', author: bob.id, afterSeq: -1, limit: 1 })))
    await waitFor('the bad feed.get refused', () => alice.rejected.length === 1)
    // bob's newer minor has every type alice's has: she sends him all of them.
    expect(alice.node.transport.send(bob.id, 'feed', held(alice.identity.id))).toBe(true)
  })
})

describe('message kinds by minor', () => {
  it('terms handing over an identity (D99) go to partners on minor 3 and later only; other terms to all', () => {
    const versions = new PeerVersions(pino({ level: 'silent' }))
    const terms = successionTerms(sampleTerms([alice, bob, carol]), alice.identity, dave.identity.id, T0)
    const succession: ControlMessage = { type: 'terms.agreement', agreement: { terms, signatures: [] } }
    const plain: ControlMessage = { type: 'terms.agreement', agreement: { terms: sampleTerms([alice, bob, carol]), signatures: [] } }
    expect(messageKind(succession)).toBe('terms.succession')
    expect(messageKind(plain)).toBe('terms.agreement')
    versions.hello('older', PROTOCOL_VERSION, 2)
    versions.hello('current', PROTOCOL_VERSION, 3)
    expect(versions.canSend('older', messageKind(succession))).toBe(false)
    expect(versions.canSend('older', messageKind(plain))).toBe(true)
    expect(versions.canSend('current', messageKind(succession))).toBe(true)
  })
})
