import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['./node/polyfills.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
