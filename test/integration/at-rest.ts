// What a copy of a node's data directory shows (issue 18): no card key or buyer contact in any
// file, and nothing another user may read. Used at the end of real-process federation tests.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'

function entriesUnder(dir: string): string[] {
  return [dir, ...readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((name) => join(dir, name))]
}

/**
 * No file under any of `dirs` contains any of `secrets`; `control` (text the store keeps plain,
 * e.g. an order id, which is a LevelDB key) is found, so the scan reads what is on disk.
 */
export function expectNoPlaintext(dirs: readonly string[], secrets: readonly string[], control: string): void {
  let controlFound = false
  for (const dir of dirs) {
    for (const path of entriesUnder(dir)) {
      if (!statSync(path).isFile()) continue
      const bytes = readFileSync(path)
      if (bytes.includes(control)) controlFound = true
      for (const secret of secrets) expect(bytes.includes(secret), `${path} holds "${secret}" in plaintext`).toBe(false)
    }
  }
  expect(controlFound, `the control "${control}" was found in no file: the scan proves nothing`).toBe(true)
}

/** The data directory and its subdirectories 0700, every file 0600. */
export function expectPrivateModes(dir: string): void {
  for (const path of entriesUnder(dir)) {
    const stat = statSync(path)
    expect((stat.mode & 0o777).toString(8), path).toBe(stat.isDirectory() ? '700' : '600')
  }
}
