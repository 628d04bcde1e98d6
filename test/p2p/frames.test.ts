// What a partner writes is checked frame by frame: bad frames are dropped and reported while the
// stream carries on; a bad length prefix ends the stream, since nothing after it can be framed.
import { afterEach, describe, expect, it } from 'vitest'
import { encodeFrame } from '../../node/p2p/index.js'
import { CONTROL_PROTOCOL, FEED_PROTOCOL, LIMITS, utf8 } from '../../protocol/index.js'
import { Federation, feedGet, identity, waitFor } from './helpers.js'
import { RawPeer, rawFrame } from './raw-peer.js'

const fed = new Federation()
const raw = new RawPeer()
afterEach(async () => {
  await raw.stopAll()
  await fed.stopAll()
})

describe('inbound frames from a partner', () => {
  it('drops invalid frames, reports why, and still delivers the valid ones after them', async () => {
    const alice = await fed.join('alice', ['bob'])
    const bob = identity('bob')
    const stream = await raw.open(await raw.host(bob), alice.node.listenAddrs(), FEED_PROTOCOL)

    stream.send(rawFrame(encodeFrame({ type: 'feed.get', author: bob.id, afterSeq: -1, limit: 10 })))
    stream.send(rawFrame(utf8('{"type": "feed.get", ')))
    stream.send(rawFrame(Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d])))
    stream.send(rawFrame(encodeFrame({ type: 'feed.nonsense' })))
    stream.send(rawFrame(encodeFrame(feedGet(bob.id, 7))))

    await waitFor('the valid frame', () => alice.handler.feed.length === 1)
    expect(alice.handler.feed[0]).toEqual({ from: bob.id, message: feedGet(bob.id, 7) })
    expect(alice.rejected.map((r) => [r.from, r.protocol])).toEqual(Array(4).fill([bob.id, 'feed']))
    const [schema, notJson, notUtf8, unknownType] = alice.rejected.map((r) => r.reason)
    expect(schema).toMatch(/afterSeq/)
    expect(notJson).toMatch(/not JSON/)
    expect(notUtf8).toMatch(/UTF-8/)
    expect(unknownType).toMatch(/type/)
    // (alice also warns that bob, with no address yet, keeps her from filtering by address)
    const warnings = alice.logger.entries.filter((e) => e.level === 'warn' && e.message.includes('frame'))
    expect(warnings).toHaveLength(4)
    expect(warnings[0]?.fields).toMatchObject({ peer: bob.id, protocol: 'feed', reason: schema })
    expect(stream.status).toBe('open')
  })

  it('checks control frames against the control schema', async () => {
    const alice = await fed.join('alice', ['bob'])
    const bob = identity('bob')
    const stream = await raw.open(await raw.host(bob), alice.node.listenAddrs(), CONTROL_PROTOCOL)
    // A perfectly good feed message is not a control message.
    stream.send(rawFrame(encodeFrame(feedGet(bob.id, 0))))
    await waitFor('rejection', () => alice.rejected.length === 1)
    expect(alice.rejected[0]).toMatchObject({ from: bob.id, protocol: 'control' })
    expect(alice.rejected[0]?.reason).toMatch(/type/)
    expect(alice.handler.control).toEqual([])
    expect(alice.handler.feed).toEqual([])
  })

  it('refuses an oversized frame by aborting the stream; a new stream works', async () => {
    const alice = await fed.join('alice', ['bob'], { maxFrameBytes: 1_024 })
    const bob = identity('bob')
    const host = await raw.host(bob)
    const stream = await raw.open(host, alice.node.listenAddrs(), FEED_PROTOCOL)
    stream.send(rawFrame(encodeFrame({ type: 'feed.error', reason: 'x'.repeat(2_000) })))
    stream.send(rawFrame(encodeFrame(feedGet(bob.id, 1))))
    await waitFor('stream aborted', () => stream.status !== 'open')
    expect(alice.rejected).toHaveLength(1)
    expect(alice.rejected[0]?.reason).toMatch(/too long/)
    expect(alice.logger.entries.some((e) => e.level === 'warn' && e.message.includes('stream aborted'))).toBe(true)
    expect(alice.handler.feed).toEqual([])

    const again = await raw.open(host, alice.node.listenAddrs(), FEED_PROTOCOL)
    again.send(rawFrame(encodeFrame(feedGet(bob.id, 2))))
    await waitFor('frame on the new stream', () => alice.handler.feed.length === 1)
  })

  it('refuses a length prefix that never ends', async () => {
    const alice = await fed.join('alice', ['bob'])
    const bob = identity('bob')
    const stream = await raw.open(await raw.host(bob), alice.node.listenAddrs(), FEED_PROTOCOL)
    stream.send(new Uint8Array(64).fill(0x80))
    await waitFor('stream aborted', () => stream.status !== 'open')
    expect(alice.rejected[0]?.reason).toMatch(/length prefix/)
  })

  it('accepts a frame of exactly maxFrameBytes (default 4 MiB)', async () => {
    const alice = await fed.join('alice', ['bob'])
    const reason = 'x'.repeat(400)
    // Pad a valid message with JSON whitespace: the schema caps `reason` at 500 chars.
    const padded = new Uint8Array(LIMITS.maxFrameBytes).fill(0x20)
    padded.set(encodeFrame({ type: 'feed.error', reason }), 0)
    const stream = await raw.open(await raw.host(identity('bob')), alice.node.listenAddrs(), FEED_PROTOCOL)
    stream.send(rawFrame(padded))
    stream.send(rawFrame(encodeFrame(feedGet(identity('bob').id, 3))))
    await waitFor('the large frame and the next', () => alice.handler.feed.length === 2)
    expect(alice.handler.feed[0]?.message).toEqual({ type: 'feed.error', reason })
    expect(alice.rejected).toEqual([])
  })
})
