// The package version for `standin --version`, read from package.json at run time: importing the
// JSON would pull it into the tsc build (rootDir), and the file sits two levels up from the
// sources (node/cli) but three from the build output (dist/node/cli), so both are tried.
import { readFileSync } from 'node:fs'
import { PROTOCOL_VERSION } from '../../protocol/index.js'
import { STORE_VERSION } from '../store/migrations.js'

export function packageVersion(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'standin' && typeof pkg.version === 'string') return pkg.version
    } catch {
      // not at this level: try the next one
    }
  }
  return 'unknown'
}

/** What `standin --version` prints: the release, then the versions of what it reads and speaks (an upgrade's compatibility at a glance). */
export function versionLine(): string {
  return `${packageVersion()} (store ${STORE_VERSION}, protocol ${PROTOCOL_VERSION})`
}
