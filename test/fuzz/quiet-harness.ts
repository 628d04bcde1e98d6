// The HTTP harness the route fuzzers share. Refusals log at info; only a failure (a 5xx, a crash)
// logs at warn or above, so `loud` must stay empty. Dropping the info lines also keeps tens of
// thousands of them out of memory.
import pino from 'pino'
import { afterAll, beforeAll } from 'vitest'
import { harness, type Harness } from '../http/helpers.js'

export function quietHarness(): { readonly h: Harness; readonly loud: readonly string[] } {
  const loud: string[] = []
  const state: { h?: Harness } = {}
  beforeAll(async () => {
    state.h = await harness({ logger: pino({ level: 'warn' }, { write: (line: string) => void loud.push(line) }) })
  })
  afterAll(async () => {
    await state.h?.app.close()
  })
  return {
    get h() {
      return state.h as Harness
    },
    loud,
  }
}
