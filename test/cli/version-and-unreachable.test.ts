// `standin --version` prints package.json's version, and a command that needs the running node
// says the node is not running (exit 1) instead of "fetch failed", in the operator's language
// (STANDIN_LANG, else the system locale; D70). The real binary is run.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { STORE_VERSION } from '../../node/store/migrations.js'
import { PROTOCOL_VERSION } from '../../protocol/index.js'

const BIN = fileURLToPath(new URL('../../bin/standin.js', import.meta.url))
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version

/** English unless `env` says otherwise, whatever this machine's locale is. */
function standin(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = { ...process.env, STANDIN_LANG: 'en', LC_ALL: '', LC_MESSAGES: '', LANG: 'C.UTF-8' }
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 20_000, env: { ...base, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr })
    })
  })
}

/** A port nothing listens on: bound by the OS, then released. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

describe('standin --version', () => {
  it.each(['--version', '-V'])(
    '%s prints the package version, with the store and protocol versions, and exits 0',
    async (flag) => {
      const result = await standin([flag])
      expect(result.code).toBe(0)
      expect(result.stdout.trim()).toBe(`${VERSION} (store ${STORE_VERSION}, protocol ${PROTOCOL_VERSION})`)
    },
    30_000,
  )
})

describe('a command that needs the node, with the node stopped', () => {
  it('says the node is not running and how to start it, exit 1, no "fetch failed"', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'standin-down-')), 'node')
    const port = await freePort()
    expect((await standin(['init', '-d', dir, '-n', 'Shop', '--p2p-port', '0', '--http-port', String(port)])).code).toBe(0)
    const result = await standin(['status', '-d', dir])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`node not running at http://127.0.0.1:${port} (start it with: standin run -d ${dir})`)
    expect(result.stderr).not.toMatch(/fetch failed/)
    expect(result.stderr).not.toMatch(/\n\s+at /)

    // In Chinese when asked, by STANDIN_LANG or by the system locale; a wrong STANDIN_LANG is named.
    const zh = `节点没有在 http://127.0.0.1:${port} 运行（启动它：standin run -d ${dir}）`
    for (const env of [
      { STANDIN_LANG: 'zh-CN' },
      { STANDIN_LANG: '', LANG: 'zh_CN.UTF-8' },
      { STANDIN_LANG: '', LC_ALL: 'zh_TW.UTF-8', LANG: 'en_US.UTF-8' },
    ]) {
      const chinese = await standin(['status', '-d', dir], env)
      expect([chinese.code, chinese.stderr.trim()], JSON.stringify(env)).toEqual([1, `standin: ${zh}`])
    }
    const english = await standin(['status', '-d', dir], { STANDIN_LANG: '', LC_ALL: 'en_GB.UTF-8', LANG: 'zh_CN.UTF-8' })
    expect(english.stderr).toContain('node not running at')
    const wrong = await standin(['status', '-d', dir], { STANDIN_LANG: 'fr' })
    expect(wrong.code).toBe(2)
    expect(wrong.stderr).toMatch(/^standin: STANDIN_LANG: .*\(zh-CN or en\)/)
  }, 120_000)
})
