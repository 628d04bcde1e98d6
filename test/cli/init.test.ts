// `standin init --host`: the host becomes /ip4/<host>/tcp/<port> in the node's listen and announce
// addresses, so a DNS name must be refused at init (it used to produce an invite whose addresses
// partners' libp2p rejected, skipped with a debug log). The real binary is run.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const BIN = fileURLToPath(new URL('../../bin/standin.js', import.meta.url))

function standin(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 20_000, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr })
    })
  })
}

describe('standin init --host', () => {
  it('refuses a DNS name, naming the field, and creates nothing', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'standin-init-')), 'node')
    const result = await standin(['init', '-d', dir, '-n', 'Shop', '--host', 'shop.example.com'])
    expect(result.code).not.toBe(0)
    expect(result.stderr).toMatch(/host: must be an IPv4 address/)
    expect(existsSync(dir)).toBe(false)
  })

  it('on loopback without --public-url, says what to set before partners on other machines join', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'standin-init-')), 'node')
    const result = await standin(['init', '-d', dir, '-n', 'Shop', '--host', '127.0.0.1'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/set p2p\.announce in config\.json/)
    expect(result.stdout).toMatch(/pass --public-url/)
    const quiet = await standin(['init', '-d', `${dir}-2`, '-n', 'Shop', '--host', '192.0.2.7', '--public-url', 'https://shop.example.com/standin'])
    expect(quiet.code).toBe(0)
    expect(quiet.stdout).not.toMatch(/note:/)
  })
})

describe('standin init --smtp-user', () => {
  const PASSWORD = 'relay-pass-5Qe9'

  it("takes the relay's password from STANDIN_SMTP_PASSWORD into secrets.json, never config.json or the screen", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'standin-init-')), 'node')
    const args = ['init', '-d', dir, '-n', 'Shop', '--smtp', 'smtp.example.com:587', '--smtp-user', 'relay-user']
    const result = await standin(args, { STANDIN_SMTP_PASSWORD: PASSWORD })
    expect(result.code).toBe(0)
    expect(result.stdout + result.stderr).not.toContain(PASSWORD)
    const config = readFileSync(join(dir, 'config.json'), 'utf8')
    expect(config).not.toContain(PASSWORD)
    // A relay elsewhere: STARTTLS is required, and config.json says so.
    expect(JSON.parse(config).smtp).toEqual({
      host: 'smtp.example.com',
      port: 587,
      secure: false,
      user: 'relay-user',
      from: 'Shop <no-reply@standin.invalid>',
      requireTls: true,
      tlsCaFile: null,
      // The pool's defaults, written out so the operator sees what to change for a relay that limits senders.
      maxConnections: 4,
      maxMessagesPerSecond: null,
    })
    expect(JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')).smtpPassword).toBe(PASSWORD)
  })

  it('without STANDIN_SMTP_PASSWORD it refuses, says where the password goes, and creates nothing', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'standin-init-')), 'node')
    const result = await standin(['init', '-d', dir, '-n', 'Shop', '--smtp', 'smtp.example.com:587', '--smtp-user', 'relay-user'], {
      STANDIN_SMTP_PASSWORD: undefined,
    })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/smtpUser: needs the relay's password in the environment variable STANDIN_SMTP_PASSWORD/)
    expect(existsSync(dir)).toBe(false)
  })
})
