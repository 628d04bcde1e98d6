// The package version for `standin --version`, read from package.json at run time: importing the
// JSON would pull it into the tsc build (rootDir), and the file sits two levels up from the
// sources (node/cli) but three from the build output (dist/node/cli), so both are tried.
import { readFileSync } from 'node:fs'

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
