// Secrets at the node's edge (issue 18): one secret per purpose in the file of whoever holds it,
// never on screen; the data directory the node user's alone; the adapter given only its own.
import { execFile } from 'node:child_process'
import { chmodSync, chownSync, copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { DataDir } from '../../node/datadir.js'
import { expectPrivateModes } from '../integration/at-rest.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const BIN = join(ROOT, 'bin', 'standin.js')
/** Debian's unprivileged `nobody`, which plays the shop's adapter user. */
const NOBODY = 65_534

function run(args: string[], options: { uid?: number; gid?: number; cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout: 30_000, ...options }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr })
    })
  })
}

const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'))

async function initNode(): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), 'standin-secrets-')), 'node')
  const result = await run([BIN, 'init', '-d', dir, '-n', 'Shop', '--p2p-port', '0', '--http-port', '0'])
  expect(result.code, result.stderr).toBe(0)
  return dir
}

describe('standin init and its secrets', () => {
  it('names the files and prints no secret; the directory is 0700 and every file 0600', async () => {
    const dir = await initNode()
    const secrets = json(join(dir, 'secrets.json'))
    const adapter = json(join(dir, 'adapter.json'))
    expect(Object.keys(secrets).sort()).toEqual(['adminToken', 'boxSecret', 'seed', 'smtpPassword', 'version'])
    expect(Object.keys(adapter).sort()).toEqual(['callbackSecret', 'claimKey', 'requestSecret', 'version'])
    // Four purposes, four different secrets.
    expect(new Set([secrets.adminToken, adapter.requestSecret, adapter.callbackSecret, adapter.claimKey]).size).toBe(4)
    const again = await run([BIN, 'init', '-d', `${dir}-shown`, '-n', 'Shop', '--p2p-port', '0', '--http-port', '0'])
    const shown = { secrets: json(join(`${dir}-shown`, 'secrets.json')), adapter: json(join(`${dir}-shown`, 'adapter.json')) }
    for (const value of [
      shown.secrets.seed,
      shown.secrets.boxSecret,
      shown.secrets.adminToken,
      ...Object.values(shown.adapter).filter((v) => typeof v === 'string'),
    ]) {
      expect(again.stdout).not.toContain(value)
      expect(again.stderr).not.toContain(value)
    }
    expect(again.stdout).toContain(join(`${dir}-shown`, 'secrets.json'))
    expect(again.stdout).toContain(join(`${dir}-shown`, 'adapter.json'))
    expectPrivateModes(dir)
  })

  it('mends modes that let other users in at start, naming each', async () => {
    const dir = await initNode()
    chmodSync(dir, 0o755)
    chmodSync(join(dir, 'config.json'), 0o644)
    chmodSync(join(dir, 'secrets.json'), 0o640)
    const mended = new DataDir(dir).secure()
    expect(mended).toEqual([`${dir}: mode 0755 → 0700`, `${join(dir, 'config.json')}: mode 0644 → 0600`, `${join(dir, 'secrets.json')}: mode 0640 → 0600`])
    expectPrivateModes(dir)
    expect(new DataDir(dir).secure()).toEqual([])
  })

  it('splits a version-1 secrets.json without changing what the adapter holds', async () => {
    const dir = await initNode()
    const v2 = json(join(dir, 'secrets.json'))
    const old = 'x'.repeat(43)
    writeFileSync(
      join(dir, 'secrets.json'),
      JSON.stringify({ version: 1, seed: v2.seed, boxSecret: v2.boxSecret, adminToken: v2.adminToken, adapterSecret: old }),
    )
    // An old node had no adapter.json.
    rmSync(join(dir, 'adapter.json'))
    const keys = new DataDir(dir).keys()
    expect(keys.adapter).toEqual({ version: 1, requestSecret: old, callbackSecret: old, claimKey: old })
    expect(json(join(dir, 'secrets.json'))).toEqual({ version: 2, seed: v2.seed, boxSecret: v2.boxSecret, adminToken: v2.adminToken, smtpPassword: null })
    expectPrivateModes(dir)
  })

  it('standin secrets rotate replaces one secret in its file and prints none', async () => {
    const dir = await initNode()
    const before = { secrets: json(join(dir, 'secrets.json')), adapter: json(join(dir, 'adapter.json')) }
    const result = await run([BIN, 'secrets', 'rotate', 'callback', '-d', dir])
    expect(result.code, result.stderr).toBe(0)
    const after = { secrets: json(join(dir, 'secrets.json')), adapter: json(join(dir, 'adapter.json')) }
    expect(after.adapter.callbackSecret).not.toBe(before.adapter.callbackSecret)
    expect({ ...after.adapter, callbackSecret: null }).toEqual({ ...before.adapter, callbackSecret: null })
    // The old value is kept for the grace (60 minutes by default), in secrets.json only.
    expect(after.secrets).toEqual({ ...before.secrets, previousCallbackSecret: { value: before.adapter.callbackSecret, untilMs: expect.any(Number) } })
    for (const secret of [after.adapter.callbackSecret, before.adapter.callbackSecret]) expect(result.stdout).not.toContain(secret)
    expect(result.stdout).toMatch(/the old value is accepted until .*\(--grace-minutes 60\)/)
    expect(result.stdout).toMatch(/the node is not running: it takes it when it starts/)
    expect(result.stdout).toMatch(/copy adapter.json to the shop's adapter/)
    const admin = await run([BIN, 'secrets', 'rotate', 'admin', '-d', dir, '--grace-minutes', '0'])
    expect(admin.code, admin.stderr).toBe(0)
    expect(json(join(dir, 'secrets.json')).adminToken).not.toBe(before.secrets.adminToken)
    expect(json(join(dir, 'secrets.json')).previousAdminToken).toBeUndefined() // no grace: refused at once
    expect(admin.stdout).not.toContain(json(join(dir, 'secrets.json')).adminToken)
    expect(admin.stdout).toMatch(/the old value is refused from now on/)
    const tooLong = await run([BIN, 'secrets', 'rotate', 'request', '-d', dir, '--grace-minutes', '99999'])
    expect(tooLong.code).not.toBe(0)
    expect(tooLong.stderr).toMatch(/graceMinutes: /)
    const wrong = await run([BIN, 'secrets', 'rotate', 'seed', '-d', dir])
    expect(wrong.code).not.toBe(0)
    expect(wrong.stderr).toMatch(/purpose: /)
    expectPrivateModes(dir)
  })

  // Needs root to play two users; CI runs as root.
  it.skipIf(process.getuid?.() !== 0)("the adapter, running as its own user with adapter.json, works and cannot read the node's identity seed", async () => {
    const dir = await initNode()
    // What the operator does: give the adapter's user its own copy, readable by it alone.
    const home = mkdtempSync(join(tmpdir(), 'standin-adapter-'))
    chownSync(home, NOBODY, NOBODY)
    const credentials = join(home, 'adapter.json')
    copyFileSync(join(dir, 'adapter.json'), credentials)
    chownSync(credentials, NOBODY, NOBODY)
    chmodSync(credentials, 0o600)
    const probe = [
      `import { readAdapterCredentials } from ${JSON.stringify(join(ROOT, 'adapters', 'generic', 'credentials.ts'))}`,
      `import { readFileSync } from 'node:fs'`,
      // The code loads first (a clone may sit under a directory only root can enter, as CI's does);
      // then the process becomes the adapter's user, and every file it opens is checked as that user.
      `process.setgid(${NOBODY})`,
      `process.setuid(${NOBODY})`,
      `const own = readAdapterCredentials(${JSON.stringify(credentials)})`,
      `let seed = 'read'`,
      `try { readFileSync(${JSON.stringify(join(dir, 'secrets.json'))}) } catch (e) { seed = e.code }`,
      `let refused = ''`,
      `try { readAdapterCredentials(${JSON.stringify(join(dir, 'secrets.json'))}) } catch (e) { refused = e.message }`,
      `console.log(JSON.stringify({ keys: Object.keys(own).sort(), seed, refused, uid: process.getuid() }))`,
    ].join('\n')
    const result = await run(['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', probe], { cwd: home })
    expect(result.code, result.stderr).toBe(0)
    const out = JSON.parse(result.stdout.trim().split('\n').at(-1) as string)
    expect(out.uid).toBe(NOBODY)
    expect(out.keys).toEqual(['callbackSecret', 'claimKey', 'requestSecret', 'version'])
    expect(out.seed).toBe('EACCES')
    expect(out.refused).toMatch(/EACCES/)
    expect(statSync(join(dir, 'secrets.json')).uid).toBe(0)
  })
})
