import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['./node/polyfills.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The CLI's language follows the machine's locale (D70); tests that read its output expect
    // English unless they set another (test/cli/version-and-unreachable.test.ts).
    env: { STANDIN_LANG: 'en' },
  },
})
