// A statement hash is 43 base64url characters and one in 64 begins with '-', which commander reads
// as an option. The real `standin` binary is run: the operator must be told how to pass such a
// hash, and `--` must get it through argument parsing (the run then stops at the missing data
// directory, which proves parsing accepted it).
import { execFile } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const BIN = fileURLToPath(new URL('../../bin/standin.js', import.meta.url))
const DASHED_HASH = `-${'Ab3_'.repeat(10)}xy`

function standin(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 20_000 }, (error, _stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? -1) : 0, stderr })
    })
  })
}

describe('standin settle with a hash that begins with "-"', () => {
  const missingDir = join(mkdtempSync(join(tmpdir(), 'standin-cli-')), 'no-node-here')

  it('is refused as an option with a hint naming -- and the statement id', async () => {
    expect(DASHED_HASH).toHaveLength(43)
    const result = await standin(['settle', 'accept', DASHED_HASH, '-d', missingDir])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(`unknown option '${DASHED_HASH}'`)
    expect(result.stderr).toContain(`is a statement hash, not an option: put -- before it`)
    expect(result.stderr).toContain(`-- ${DASHED_HASH}`)
  })

  it('passes argument parsing after --', async () => {
    const result = await standin(['settle', 'show', '-d', missingDir, '--', DASHED_HASH])
    expect(result.code).toBe(2)
    expect(result.stderr).not.toContain('unknown option')
    expect(result.stderr).toContain(`${missingDir}/config.json`)
  })

  it('gives no hint for an unknown option that is not a hash', async () => {
    const result = await standin(['settle', 'show', 'st-1', '--bogus'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(`unknown option '--bogus'`)
    expect(result.stderr).not.toContain('statement hash')
  })
})
