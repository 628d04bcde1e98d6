import { configDefaults, defineConfig } from 'vitest/config'

// Two projects that run side by side, each one file at a time. The simulator's seeds are CPU work
// that no timing depends on (test/sim/vopr.test.ts runs its broad runs in child processes at the
// lowest priority); everything else is mostly waiting on real processes, sockets and timers. Run
// one after the other they took 33 minutes of CI; side by side the sims use the time the rest
// spends waiting, and the rest keeps the CPU whenever it needs it.
export default defineConfig({
  test: {
    setupFiles: ['./node/polyfills.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'simulator', include: ['test/sim/**/*.test.ts'], fileParallelism: false } },
      { extends: true, test: { name: 'processes', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, 'test/sim/**'], fileParallelism: false } },
    ],
  },
})
