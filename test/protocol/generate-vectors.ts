// npm run vectors — rewrites protocol/vectors/*.json. Only needed when the protocol changes on
// purpose; vectors.test.ts fails on any unintended difference.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildVectors, vectorFileText } from './vectors.js'

const dir = join(import.meta.dirname, '..', '..', 'protocol', 'vectors')
mkdirSync(dir, { recursive: true })
for (const [name, value] of Object.entries(await buildVectors())) {
  writeFileSync(join(dir, name), vectorFileText(value))
  console.log(`wrote protocol/vectors/${name}`)
}
