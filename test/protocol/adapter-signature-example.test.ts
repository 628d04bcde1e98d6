// The worked signing example in adapters/README.md §2 is recomputed here with the code that signs,
// so the page cannot drift from it (issue 19: the HMAC key is the secret's text, not its decoding).
import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { adapterSignature, fromBase64url } from '../../protocol/index.js'

const README = readFileSync(new URL('../../adapters/README.md', import.meta.url), 'utf8')
const EXAMPLE = README.slice(README.indexOf('**Worked example**'))

/** The backquoted value in the example table's row that starts with `label`. */
function row(label: string): string {
  const line = EXAMPLE.split('\n').find((l) => l.replace(/\s+/g, ' ').startsWith(`| ${label} |`))
  const value = line?.match(/\| `([^`]+)`[^|]*\|\s*$/)?.[1]
  if (value === undefined) throw new Error(`adapters/README.md: no example row "${label}"`)
  return value
}

describe('adapters/README.md signing example', () => {
  const secret = row('secret (`requestSecret`)')
  const timestamp = Number(row('`x-standin-timestamp`'))
  const [method, target] = row('method and target').split(' ') as [string, string]
  const body = row('body (17 bytes, no newline)')

  it('the table names a signature adapterSignature computes with the secret as UTF-8 text', () => {
    expect(Buffer.byteLength(body)).toBe(17)
    expect(row('signed text (`\\n` is one newline byte)')).toBe(`standin/1/adapter\\n${timestamp}\\n${method} ${target}\\n${body}`)
    expect(row('`x-standin-signature`')).toBe(adapterSignature(secret, timestamp, method, target, body))
  })

  it('the MAC the page calls wrong is the one under the base64url-decoded key', () => {
    const decoded = fromBase64url(secret)
    const wrong = createHmac('sha256', decoded).update(`standin/1/adapter\n${timestamp}\n${method} ${target}\n${body}`).digest('hex')
    expect(wrong).not.toBe(adapterSignature(secret, timestamp, method, target, body))
    expect(README).toContain(`With the key decoded from base64url instead (${decoded.length} bytes) the MAC would be\n\`${wrong}\``)
  })

  it('the shell recipe and the callback example use the same inputs and signature', () => {
    expect(README).toContain(`printf 'standin/1/adapter\\n%s\\n${method} %s\\n%s' ${timestamp} ${target} '${body}'`)
    expect(README).toContain(`openssl dgst -sha256 -hmac '${secret}'`)
    const fence = adapterSignature(secret, timestamp, 'POST', '/standin/fence', '{"fenced":true}')
    expect(README).toContain(`\`POST /standin/fence\` and body \`{"fenced":true}\` give\n\`${fence}\``)
  })
})
