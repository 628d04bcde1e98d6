// `standin settle accept --dispute <receipt>:<reason>[:note]`: the receipt may be given as the
// prefix a statement prints, but it must name exactly one line, or the line meant would be
// accepted and paid while another is disputed.
import { describe, expect, it } from 'vitest'
import { resolveDisputes } from '../../node/cli/settle-commands.js'

const LINES = [{ receipt: 'rc-4f1a2b3c4d5e6f70' }, { receipt: 'rc-4f1a2b3c99887766' }, { receipt: 'rc-0a0b0c0d0e0f1011' }]

describe('resolveDisputes', () => {
  it('resolves a unique prefix to the full receipt, keeping reason and note (colons included)', () => {
    expect(resolveDisputes(LINES, ['rc-0a0b0c:duplicate:seen at 10:42'])).toEqual([
      { receipt: 'rc-0a0b0c0d0e0f1011', reason: 'duplicate', note: 'seen at 10:42' },
    ])
    expect(resolveDisputes(LINES, ['rc-4f1a2b3c4d5e6f70'])).toEqual([{ receipt: 'rc-4f1a2b3c4d5e6f70', reason: 'other', note: '' }])
  })

  it('refuses an ambiguous prefix, naming the lines it matches', () => {
    expect(() => resolveDisputes(LINES, ['rc-4f1a2b3c:wrong-amount'])).toThrow(/matches 2 lines \(rc-4f1a2b3c4d5e6, rc-4f1a2b3c99887\); give more of it/)
  })

  it('refuses an empty or short prefix and one that matches no line', () => {
    expect(() => resolveDisputes(LINES, [':duplicate'])).toThrow(/at least 8 characters/)
    expect(() => resolveDisputes(LINES, ['rc-4f:duplicate'])).toThrow(/at least 8 characters/)
    expect(() => resolveDisputes(LINES, ['rc-ffffffff:duplicate'])).toThrow(/matches no line/)
  })
})
