// `standin alerts test` as a real process against local stand-ins of the services (the real ones
// cannot be reached from here; see sinks.ts).
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { type ServiceSink, startServiceSink } from './sinks.js'

const BIN = fileURLToPath(new URL('../../bin/standin.js', import.meta.url))
const TOKEN = 'bot-token-Qw7'
/** Each run of the CLI is bounded; a case runs it three times on a possibly busy machine. */
const RUN_TIMEOUT_MS = 30_000
const CASE_TIMEOUT_MS = 120_000

interface Run {
  code: number
  stdout: string
  stderr: string
}

function standin(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: RUN_TIMEOUT_MS }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr })
    })
  })
}

const sinks: ServiceSink[] = []
afterEach(async () => {
  while (sinks.length > 0) await sinks.pop()?.close()
})

describe('standin alerts test', () => {
  it(
    'sends one test alert per channel and says, per channel, sent or why not, never the token',
    async () => {
      // The CLI uses the real clock, so these sinks check format but not signatures' timestamps:
      // Telegram and Bark do not sign.
      const telegram = await startServiceSink('telegram', { token: TOKEN, chatId: '42', nowMs: 0 })
      const bark = await startServiceSink('bark', { token: TOKEN, nowMs: 0 })
      sinks.push(telegram, bark)
      const dir = join(mkdtempSync(join(tmpdir(), 'standin-alerts-')), 'node')
      const init = await standin(['init', '-d', dir, '-n', 'Moon Shop'])
      expect(init.code).toBe(0)
      const configPath = join(dir, 'config.json')
      const config = JSON.parse(readFileSync(configPath, 'utf8'))
      config.alerts = {
        channels: [
          { id: 'tg', kind: 'telegram', chatId: '42', apiBase: telegram.base, locale: 'en' },
          { id: 'phone', kind: 'bark', server: bark.base },
        ],
      }
      writeFileSync(configPath, JSON.stringify(config, null, 2))
      const secretsPath = join(dir, 'secrets.json')
      const secrets = JSON.parse(readFileSync(secretsPath, 'utf8'))
      writeFileSync(secretsPath, JSON.stringify({ ...secrets, alerts: { tg: TOKEN, phone: TOKEN } }), { mode: 0o600 })

      const ok = await standin(['alerts', 'test', '-d', dir])
      expect(ok.stderr).toBe('')
      expect(ok.stdout).toContain('tg (telegram): sent')
      expect(ok.stdout).toContain('phone (bark): sent')
      expect(ok.code).toBe(0)
      expect(telegram.accepted[0]).toContain('Standin test alert')
      expect(bark.accepted[0]).toContain('Standin 测试告警')

      writeFileSync(secretsPath, JSON.stringify({ ...secrets, alerts: { tg: 'wrong-Zq1', phone: TOKEN } }), { mode: 0o600 })
      const bad = await standin(['alerts', 'test', '-d', dir, '--channel', 'tg'])
      expect(bad.code).toBe(1)
      expect(bad.stderr).toContain('tg (telegram): not sent: telegram: HTTP 400')
      expect(bad.stderr).not.toContain('phone')
      expect(bad.stdout + bad.stderr).not.toContain('wrong-Zq1')
      expect(bad.stdout + bad.stderr).not.toContain(TOKEN)
    },
    CASE_TIMEOUT_MS,
  )
})
