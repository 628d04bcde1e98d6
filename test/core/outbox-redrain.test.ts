// The outbox takes mail queued while a round is sending in a round of its own right after, not at
// the next heartbeat (issue 22: with 10,000 stranded orders, fulfilment queues mail in many small
// units while the first round is out). The clock is a fake: no timer fires unless the test runs it.
import { describe, expect, it } from 'vitest'
import { Background } from '../../node/core/background.js'
import type { Federation } from '../../node/core/federation.js'
import { Timers } from '../../node/core/lifecycle.js'
import { Outbox } from '../../node/core/outbox.js'
import type { Clock, Logger, Mailer, MailMessage } from '../../node/core/ports.js'
import { OutboxRows } from '../../node/core/state/outbox.js'
import { commit, Tx } from '../../node/core/state/tx.js'
import { LevelStore } from '../../node/store/level-store.js'
import { alice } from '../protocol/fixtures.js'

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} }

describe('Outbox', () => {
  it('mail queued while a round is out goes in the next round at once', async () => {
    const store = await LevelStore.openInMemory()
    const rows = new OutboxRows(store)
    const queue = async (order: string) => {
      const tx = new Tx()
      rows.queue(tx, { origin: alice.identity.id, order, to: `${order}@example.com`, locale: 'en', keys: ['KEY-1'], attempts: 0, nextAt: 0 })
      await commit(store, tx)
    }
    const due: (() => void)[] = []
    const clock: Clock = {
      now: () => 1_000,
      setTimer: (_ms, fn) => {
        due.push(fn)
        return { id: due.length }
      },
      clearTimer: () => undefined,
    }
    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => (release = resolve))
    const sent: string[] = []
    const mailer: Mailer = {
      async send(mail: MailMessage) {
        if (sent.length === 0) await held // the first round is out until the test lets it finish
        sent.push(mail.to)
      },
    }
    const background = new Background(silent)
    const outbox = new Outbox({
      me: alice.identity.id,
      myName: 'Alice',
      claimUrl: () => null,
      federation: { cardOf: () => undefined } as unknown as Federation,
      rows,
      mailer,
      clock,
      timers: new Timers(clock),
      logger: silent,
      background,
      emit: () => undefined,
    })

    await queue('o-1')
    const first = outbox.drain()
    await queue('o-2')
    await outbox.drain() // a round is out: this one only notes that more came
    release()
    await first
    expect(sent).toEqual(['o-1@example.com'])
    expect(due).toHaveLength(1) // the next round, scheduled at once (0 ms), not left for the heartbeat
    due.shift()?.()
    await background.stop()
    expect(sent).toEqual(['o-1@example.com', 'o-2@example.com'])
    await store.close()
  })

  it('mails the relay took while a delete is written share the next delete; a failed delete fails only its own callers', async () => {
    const store = await LevelStore.openInMemory()
    const rows = new OutboxRows(store)
    const writes: number[] = []
    let failNext = false
    const counting = Object.create(store) as typeof store
    counting.write = (ops, options) => {
      writes.push(ops.length)
      if (failNext) {
        failNext = false
        return Promise.reject(new Error('disk full'))
      }
      return store.write(ops, options)
    }
    const countingRows = new OutboxRows(counting)
    const tx = new Tx()
    for (let i = 0; i < 30; i++)
      rows.queue(tx, { origin: alice.identity.id, order: `o-${i}`, to: `o-${i}@example.com`, locale: 'en', keys: ['KEY-1'], attempts: 0, nextAt: 0 })
    await commit(store, tx)
    const keys = (await rows.due(1_000, 10, 100)).map(([key]) => key)
    expect(keys).toHaveLength(30)

    // Twenty sent in one turn: one delete. Then one, whose delete starts at once, and two more
    // while that is written: they wait for it, then share the next.
    await Promise.all(keys.slice(0, 20).map((key) => countingRows.sent(key)))
    expect(writes).toEqual([20])
    const whileWriting = countingRows.sent(keys[20] as string)
    await Promise.resolve() // its delete has started
    const next = [21, 22].map((i) => countingRows.sent(keys[i] as string))
    await Promise.all([whileWriting, ...next])
    expect(writes).toEqual([20, 1, 2])
    expect(await rows.due(1_000, 10, 100)).toHaveLength(7)

    failNext = true
    const failed = [23, 24].map((i) => countingRows.sent(keys[i] as string))
    await expect(Promise.all(failed)).rejects.toThrow('disk full')
    await countingRows.sent(keys[25] as string) // the next delete goes ahead
    expect((await rows.due(1_000, 10, 100)).map(([key]) => key)).toEqual([23, 24, 26, 27, 28, 29].map((i) => keys[i]))
    await store.close()
  })
})
