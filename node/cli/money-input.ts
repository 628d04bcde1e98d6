// Money an operator writes in a JSON file must be whole minor units (fen). JSON.parse turns 50.00
// into 50, so "minorUnits": 50.00 (meant as 50 yuan) would pass the integer check as 50 fen; the
// literal is only visible in the raw text, so this scans it before parsing.

/** The first number written with a fraction or exponent at a key named minorUnits, or undefined. */
export function fractionalMinorUnits(text: string): { path: string; literal: string } | undefined {
  // A minimal JSON walk that keeps the path: containers on a stack, the key awaiting its value.
  const stack: { key: string | number | undefined; array: boolean; index: number }[] = []
  let pendingKey: string | undefined
  let i = 0
  const path = (last: string | number) => [...stack.slice(1).map((s) => s.key), last].join('.')
  const valueKey = (): string | number | undefined => {
    const top = stack.at(-1)
    return top?.array ? top.index : pendingKey
  }
  while (i < text.length) {
    const c = text[i] ?? ''
    if (c === '"') {
      let j = i + 1
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      const raw = text.slice(i, j + 1)
      i = j + 1
      let k = i
      while (/\s/.test(text[k] ?? '')) k++
      const top = stack.at(-1)
      if (text[k] === ':' && top && !top.array) {
        try {
          pendingKey = JSON.parse(raw) as string
        } catch {
          pendingKey = raw
        }
        i = k + 1
      }
    } else if (c === '{' || c === '[') {
      stack.push({ key: valueKey(), array: c === '[', index: 0 })
      pendingKey = undefined
      i++
    } else if (c === '}' || c === ']') {
      stack.pop()
      i++
    } else if (c === ',') {
      const top = stack.at(-1)
      if (top?.array) top.index++
      i++
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      const literal = /^-?\d+(\.\d*)?([eE][+-]?\d+)?/.exec(text.slice(i))?.[0] ?? c
      const key = valueKey()
      if (key === 'minorUnits' && /[.eE]/.test(literal)) return { path: path(key), literal }
      i += literal.length
    } else i++
  }
  return undefined
}

/** Throws, naming the field, when a minorUnits value in the file is not written as an integer. */
export function refuseFractionalMinorUnits(text: string, currency = 'CNY'): void {
  const found = fractionalMinorUnits(text)
  if (!found) return
  const value = Number(found.literal)
  const hint = Number.isFinite(value) ? `: write ${Math.round(value * 100)} for ${found.literal} ${currency}` : ''
  throw new Error(`${found.path}: ${found.literal} is not an integer number of minor units (fen)${hint}`)
}
