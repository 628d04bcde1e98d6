// protocol/ must do no I/O (docs/design.md §3). The lint (eslint no-restricted-imports and
// dependency-cruiser) enforces this too; this test keeps the rule visible in `vitest run`.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..', '..', 'protocol')
const ALLOWED_PACKAGES = new Set(['zod', 'canonicalize', 'tweetnacl', 'sodium-native', '@libp2p/crypto', '@libp2p/peer-id'])
const ALLOWED_BUILTINS = new Set(['node:crypto'])

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return path.endsWith('.ts') ? [path] : []
  })
}

function packageOf(specifier: string): string {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] as string)
}

describe('protocol/ purity', () => {
  it('imports only pure modules', () => {
    const offenders: string[] = []
    for (const file of sources(ROOT)) {
      const text = readFileSync(file, 'utf8')
      for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
        const spec = (match[1] ?? match[2]) as string
        if (spec.startsWith('.')) continue
        if (ALLOWED_BUILTINS.has(spec) || ALLOWED_PACKAGES.has(packageOf(spec))) continue
        offenders.push(`${relative(ROOT, file)} imports ${spec}`)
      }
      for (const banned of ['Date.now', 'Math.random', 'setTimeout(', 'setInterval(', 'process.env', 'fetch(']) {
        if (text.includes(banned)) offenders.push(`${relative(ROOT, file)} uses ${banned}`)
      }
    }
    expect(offenders).toEqual([])
  })
})
