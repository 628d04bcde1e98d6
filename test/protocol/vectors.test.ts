import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { emptyHead, verifyAgreement, verifyCertificate, verifyDocument, verifyRun, openJson, CardKeyList } from '../../protocol/index.js'
import { bob } from './fixtures.js'
import { buildVectors, vectorFileText } from './vectors.js'

const DIR = join(import.meta.dirname, '..', '..', 'protocol', 'vectors')
const built = await buildVectors()

describe('test vectors', () => {
  it('the published files are exactly what the code produces today', () => {
    expect(
      readdirSync(DIR)
        .filter((f) => f.endsWith('.json'))
        .sort(),
    ).toEqual(Object.keys(built).sort())
    for (const [name, value] of Object.entries(built)) {
      expect(readFileSync(join(DIR, name), 'utf8'), `protocol/vectors/${name} differs: run npm run vectors only if the change is intended`).toBe(
        vectorFileText(value),
      )
    }
  })

  it('the published documents verify from the files alone', () => {
    const read = (name: string) => JSON.parse(readFileSync(join(DIR, name), 'utf8'))
    for (const c of read('signatures.json').cases) expect(verifyDocument(c.type, c.document).ok).toBe(true)
    const agreement = read('agreement.json')
    expect(verifyAgreement(agreement.agreement)).toMatchObject({ ok: true, value: { hash: agreement.termsHash, missing: [] } })
    const feed = read('feed.json')
    expect(verifyRun(emptyHead(feed.entries[0].body.author), feed.entries)).toMatchObject({ ok: true, value: { head: feed.heads.at(-1) } })
    const cert = read('certificate.json')
    expect(verifyCertificate(cert.certificate, cert.terms).ok).toBe(true)
    const sealed = read('sealed.json')
    expect(openJson(sealed.box, bob.identity.id, bob.box, CardKeyList)).toEqual({ ok: true, value: sealed.plaintext })
  })
})
