// Two partners over real TCP on loopback: both protocols, both directions, order kept, and a
// partner that restarts elsewhere is reached again.
import { afterEach, describe, expect, it } from 'vitest'
import { Federation, feedGet, heartbeat, waitFor } from './helpers.js'

const fed = new Federation()
afterEach(() => fed.stopAll())

describe('p2p transport between partners', () => {
  it('carries feed and control messages both ways, in order', async () => {
    const alice = await fed.join('alice', ['bob'])
    const bob = await fed.join('bob', ['alice'])
    await waitFor('alice and bob connected', () => alice.node.transport.isConnected(bob.identity.id) && bob.node.transport.isConnected(alice.identity.id))
    await waitFor('connect events', () => alice.handler.connected.includes(bob.identity.id) && bob.handler.connected.includes(alice.identity.id))

    const count = 2_000
    for (let i = 0; i < count; i++) {
      expect(alice.node.transport.send(bob.identity.id, 'feed', feedGet(alice.identity.id, i))).toBe(true)
      expect(bob.node.transport.send(alice.identity.id, 'feed', feedGet(bob.identity.id, i))).toBe(true)
    }
    for (let i = 0; i < 50; i++) {
      expect(alice.node.transport.send(bob.identity.id, 'control', heartbeat(alice.identity, bob.identity.id, i))).toBe(true)
      expect(bob.node.transport.send(alice.identity.id, 'control', heartbeat(bob.identity, alice.identity.id, i))).toBe(true)
    }

    await waitFor('all feed messages', () => bob.handler.feed.length === count && alice.handler.feed.length === count)
    await waitFor('all control messages', () => bob.handler.control.length === 50 && alice.handler.control.length === 50)
    expect(bob.handler.feed.map((m) => (m.message.type === 'feed.get' ? m.message.afterSeq : -1))).toEqual([...Array(count).keys()])
    expect(alice.handler.feed.map((m) => (m.message.type === 'feed.get' ? m.message.afterSeq : -1))).toEqual([...Array(count).keys()])
    expect(new Set(bob.handler.feed.map((m) => m.from))).toEqual(new Set([alice.identity.id]))
    expect(bob.handler.control.map((m) => (m.message.type === 'heartbeat' ? m.message.heartbeat.body.time : -1))).toEqual([...Array(50).keys()])
    expect(alice.handler.control[0]).toEqual({ from: bob.identity.id, message: heartbeat(bob.identity, alice.identity.id, 0) })
    expect(alice.rejected).toEqual([])
    expect(bob.rejected).toEqual([])
    // One long-lived stream per protocol carried everything, not one stream per message.
    const opened = alice.logger.entries.filter((e) => e.message.includes('outbound stream opened'))
    expect(opened.map((e) => e.fields.protocol).sort()).toEqual(['control', 'feed'])
  })

  it('refuses to queue for a peer that is not a partner, and when the queue is full', async () => {
    const alice = await fed.join('alice', ['bob'], { maxQueuedMessagesPerPeer: 3 })
    const carol = await fed.join('carol', [])
    expect(alice.node.transport.send(carol.identity.id, 'feed', feedGet(alice.identity.id, 0))).toBe(false)
    // bob has no address and never started: the queue fills and stays full.
    const bob = 'bob-is-offline'
    alice.partners.add(bob)
    const sent = [0, 1, 2, 3].map((i) => alice.node.transport.send(bob, 'feed', feedGet(alice.identity.id, i)))
    expect(sent).toEqual([true, true, true, false])
    expect(alice.node.transport.send(bob, 'control', heartbeat(alice.identity, carol.identity.id, 0))).toBe(true)
    expect(alice.logger.entries.filter((e) => e.level === 'warn' || e.level === 'error')).toEqual([])
  })

  it('refuses to send a message larger than maxFrameBytes', async () => {
    const alice = await fed.join('alice', ['bob'], { maxFrameBytes: 1_024 })
    const bob = await fed.join('bob', ['alice'])
    const big = { type: 'feed.error' as const, reason: 'x'.repeat(2_000) }
    expect(alice.node.transport.send(bob.identity.id, 'feed', big)).toBe(false)
    expect(alice.logger.entries.some((e) => e.level === 'warn' && e.message.includes('maxFrameBytes'))).toBe(true)
  })

  it('reaches a partner again after it restarts on a new port', async () => {
    const alice = await fed.join('alice', ['bob'])
    const bob = await fed.join('bob', ['alice'])
    const bobId = bob.identity.id
    expect(alice.node.transport.send(bobId, 'feed', feedGet(alice.identity.id, 0))).toBe(true)
    await waitFor('first message', () => bob.handler.feed.length === 1)

    const oldAddrs = fed.addressBook.get(bobId)
    await fed.stop(bob)
    await waitFor('alice sees bob gone', () => !alice.node.transport.isConnected(bobId))
    await waitFor('disconnect event', () => alice.handler.disconnected.includes(bobId))
    // Queued while bob is down: these wait (or are lost to the broken stream, which acks cover).
    for (let i = 1; i <= 5; i++) alice.node.transport.send(bobId, 'feed', feedGet(alice.identity.id, i))

    await fed.start(bob)
    expect(fed.addressBook.get(bobId)).not.toEqual(oldAddrs)
    await waitFor('alice reconnects to bob', () => alice.node.transport.isConnected(bobId))
    for (let i = 6; i <= 10; i++) expect(alice.node.transport.send(bobId, 'feed', feedGet(alice.identity.id, i))).toBe(true)

    const seqs = (): number[] => bob.handler.feed.map((m) => (m.message.type === 'feed.get' ? m.message.afterSeq : -1))
    await waitFor('messages sent after the restart', () => [6, 7, 8, 9, 10].every((seq) => seqs().includes(seq)))
    // Whatever arrived, arrived in order and once.
    expect(seqs()).toEqual([...seqs()].sort((a, b) => a - b))
    expect(new Set(seqs()).size).toBe(seqs().length)
    expect(alice.handler.connected.filter((p) => p === bobId).length).toBe(2)
  })
})
