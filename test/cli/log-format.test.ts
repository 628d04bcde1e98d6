// The node logs pretty lines to a terminal and JSON to anything else, unless told otherwise.
import { describe, expect, it } from 'vitest'
import { chooseLogFormat } from '../../node/logger.js'

describe('log format', () => {
  it('auto (or unset, or empty): pretty on a terminal, JSON to a pipe or file', () => {
    for (const env of [{}, { STANDIN_LOG_FORMAT: '' }, { STANDIN_LOG_FORMAT: 'auto' }]) {
      expect(chooseLogFormat(env, true)).toBe('pretty')
      expect(chooseLogFormat(env, false)).toBe('json')
    }
  })

  it('json or pretty wins over the guess', () => {
    expect(chooseLogFormat({ STANDIN_LOG_FORMAT: 'json' }, true)).toBe('json')
    expect(chooseLogFormat({ STANDIN_LOG_FORMAT: 'pretty' }, false)).toBe('pretty')
  })

  it('anything else is refused, naming the variable', () => {
    expect(() => chooseLogFormat({ STANDIN_LOG_FORMAT: 'xml' }, true)).toThrow(/^environment: STANDIN_LOG_FORMAT: .*"json"/)
  })
})
