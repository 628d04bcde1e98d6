// stop() must leave nothing running: checked in a child process, which only exits by itself if no
// socket, timer or stream is left behind.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const FIXTURE = fileURLToPath(new URL('./fixtures/exchange-then-stop.ts', import.meta.url))
const EXIT_DEADLINE_MS = 20_000

describe('stop()', () => {
  it('leaves no handles: the process exits by itself', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const exit = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        resolve('did not exit')
      }, EXIT_DEADLINE_MS)
      child.on('exit', (code) => {
        clearTimeout(timer)
        resolve(code ?? 'killed')
      })
    })
    expect({ exit, output }).toMatchObject({ exit: 0 })
    expect(output).toMatch(/stopped; still active/)
  })
})
