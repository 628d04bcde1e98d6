// Background: the engine's un-awaited work. A failure is a logged error, never an unhandled
// rejection; stop refuses new work and resolves once work in flight settled.
import { describe, expect, it } from 'vitest'
import { Background } from '../../node/core/background.js'
import type { Logger } from '../../node/core/ports.js'

function recordingLogger() {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = []
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => void lines.push({ level, fields, message })
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
  return { logger, lines }
}

function gate() {
  let open: () => void = () => undefined
  const opened = new Promise<void>((resolve) => (open = resolve))
  return { opened, open }
}

describe('Background', () => {
  it('logs a failing task as an error naming it, and leaves no rejection behind', async () => {
    const { logger, lines } = recordingLogger()
    const background = new Background(logger)
    background.run('feed.pump', async () => {
      throw new Error('Database is not open')
    })
    background.run('feed.serve', () => {
      throw new Error('thrown before any promise')
    })
    await new Promise((resolve) => setImmediate(resolve)) // both settle while still running
    expect(lines).toEqual([
      { level: 'error', fields: { task: 'feed.pump', err: 'Error: Database is not open' }, message: 'background task failed' },
      { level: 'error', fields: { task: 'feed.serve', err: 'Error: thrown before any promise' }, message: 'background task failed' },
    ])
    expect(background.inFlight).toBe(0)
  })

  it('stop waits for work in flight, refuses new work, and a failure after stop is expected (debug)', async () => {
    const { logger, lines } = recordingLogger()
    const background = new Background(logger)
    const slow = gate()
    const steps: string[] = []
    background.run('slow', async () => {
      await slow.opened
      steps.push('slow finished')
      throw new Error('store closed')
    })
    expect(background.inFlight).toBe(1)
    const stopped = background.stop().then(() => steps.push('stop resolved'))
    background.run('late', async () => void steps.push('late ran'))
    slow.open()
    await stopped
    expect(steps).toEqual(['slow finished', 'stop resolved'])
    expect(lines.map((l) => [l.level, l.fields.task])).toEqual([['debug', 'slow']])
    background.start()
    background.run('after restart', async () => void steps.push('after restart ran'))
    await background.stop()
    expect(steps.at(-1)).toBe('after restart ran')
  })
})
