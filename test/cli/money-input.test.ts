// Money in an operator's terms file must be whole minor units: 50.00 (which JSON.parse reads as
// 50) and 50.5 are both refused with the field named, by the raw-text scan and the Money schema.
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { fractionalMinorUnits, refuseFractionalMinorUnits } from '../../node/cli/money-input.js'
import { draftTerms } from '../../node/cli/terms-draft.js'

const BIN = fileURLToPath(new URL('../../bin/standin.js', import.meta.url))

function standin(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr })
    })
  })
}

describe('fractionalMinorUnits', () => {
  it('finds a decimal point or exponent at minorUnits and gives its path', () => {
    const text = '{"skus":[{"unitValue":{"minorUnits":100,"currency":"CNY"}},{"unitValue":{"minorUnits": 50.00}}]}'
    expect(fractionalMinorUnits(text)).toEqual({ path: 'skus.1.unitValue.minorUnits', literal: '50.00' })
    expect(fractionalMinorUnits('{"settlement":{"creditLimit":{"minorUnits":1e3}}}')).toEqual({
      path: 'settlement.creditLimit.minorUnits',
      literal: '1e3',
    })
  })

  it('ignores integers, other keys and the text inside strings', () => {
    expect(fractionalMinorUnits('{"a":"\\"minorUnits\\": 5.0","bps":2.5,"x":{"minorUnits":5000}}')).toBeUndefined()
  })

  it('says minor units are integers and what to write instead', () => {
    expect(() => refuseFractionalMinorUnits('{"skus":[{"unitValue":{"minorUnits":50.00}}]}')).toThrow(
      'skus.0.unitValue.minorUnits: 50.00 is not an integer number of minor units (fen): write 5000 for 50.00 CNY',
    )
  })
})

describe('terms file money', () => {
  it('a fractional minorUnits that survives JSON.parse (50.5) is refused by the Money schema, naming the field', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'standin-money-')), 'terms.json')
    writeFileSync(file, JSON.stringify({ settlement: { creditLimit: { minorUnits: 50.5, currency: 'CNY' } } }))
    // The raw scan catches it first; either way the message names the field.
    expect(() => draftTerms({ id: 't', parties: [], preset: 'local', nowMs: 0, termsFile: file })).toThrow(/settlement\.creditLimit\.minorUnits/)
  })

  it('standin join --terms-file with minorUnits 50.00 is refused, storing no agreement and no partner card', async () => {
    const base = mkdtempSync(join(tmpdir(), 'standin-money-'))
    const [a, b] = [join(base, 'A'), join(base, 'B')]
    for (const dir of [a, b]) expect((await standin(['init', '-d', dir, '-n', 'Shop', '--p2p-port', '0', '--http-port', '0'])).code).toBe(0)
    const token = await standin(['invite', '-d', b])
    expect(token.code).toBe(0)
    const file = join(base, 'terms.json')
    writeFileSync(file, '{ "settlement": { "creditLimit": { "minorUnits": 50.00, "currency": "CNY" } } }')
    const result = await standin(['join', '-d', a, '--terms-file', file, token.stdout.trim()])
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain('settlement.creditLimit.minorUnits: 50.00 is not an integer number of minor units (fen)')
    expect(result.stdout).toBe('')
    // No agreement and no partner card (A's own card is written when A signs it, as before).
    expect(readdirSync(join(a, 'agreements'))).toEqual([])
    for (const card of readdirSync(join(b, 'cards'))) expect(readdirSync(join(a, 'cards'))).not.toContain(card)
  }, 90_000)
})
