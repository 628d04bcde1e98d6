// requireOrSkip: run when present; skip with a printed reason locally; fail loudly in CI.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { canRun, requireOrSkip } from './requirements.js'

afterEach(() => {
  vi.unstubAllEnvs()
  vi.restoreAllMocks()
})

describe('requireOrSkip', () => {
  it('present → run', () => {
    vi.stubEnv('CI', 'true')
    expect(requireOrSkip('chromium', true)).toBe(true)
  })

  it('missing outside CI → skip, saying why', () => {
    vi.stubEnv('CI', '')
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    expect(requireOrSkip('chromium', false, 'no /usr/bin/chromium')).toBe(false)
    expect(warn).toHaveBeenCalledWith('skipping tests that need chromium: chromium is not available (no /usr/bin/chromium)')
  })

  it('missing in CI → throws, so the suite fails', () => {
    vi.stubEnv('CI', 'true')
    expect(() => requireOrSkip('docker', false, 'docker info failed')).toThrow('required in CI: docker is not available (docker info failed)')
  })
})

describe('canRun', () => {
  it('is true for a command that exits 0, false for a failing or missing one', () => {
    expect(canRun(process.execPath, ['-e', ''])).toBe(true)
    expect(canRun(process.execPath, ['-e', 'process.exit(3)'])).toBe(false)
    expect(canRun('standin-no-such-command-xyz')).toBe(false)
  })
})
