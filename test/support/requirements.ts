// Suites that need something outside npm (a browser, Docker) run when it is there. In CI
// (CI=true) a missing requirement is a failure, never a silent skip, so a broken provisioning step
// cannot turn a red suite green; on a developer machine the suite is skipped with the reason printed.
import { spawnSync } from 'node:child_process'

/** Seconds a probe command (e.g. `docker info`) may take before it counts as unavailable. */
const PROBE_TIMEOUT_MS = 15_000

/**
 * True when `available`; otherwise throws under CI=true, or prints why and returns false.
 * Use as `describe.skipIf(!requireOrSkip('chromium', existsSync(path), 'how to get it'))`.
 */
export function requireOrSkip(name: string, available: boolean, howToGet = ''): boolean {
  if (available) return true
  const reason = `${name} is not available${howToGet === '' ? '' : ` (${howToGet})`}`
  if (process.env.CI === 'true') throw new Error(`required in CI: ${reason}`)
  console.warn(`skipping tests that need ${name}: ${reason}`)
  return false
}

/** Whether `command args…` runs and exits 0 (e.g. canRun('docker', ['info']) for a live daemon). */
export function canRun(command: string, args: readonly string[] = []): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore', timeout: PROBE_TIMEOUT_MS })
  return result.error === undefined && result.status === 0
}
