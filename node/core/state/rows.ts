// Rows are read back through their schema: a row that does not parse is a corrupt store (or a
// store written by another version), reported with its section, key and the field at fault, never
// used as if it were right.
import type { z } from 'zod'
import { formatZodError } from '../../../protocol/index.js'
import type { Section, Store } from '../ports.js'
import type { Tx } from './tx.js'

export class CorruptRowError extends Error {
  readonly code = 'corrupt-row'
  constructor(section: Section, key: string, reason: string) {
    super(`store row ${section}/${key} is not valid: ${reason}`)
  }
}

export function parseRow<S extends z.ZodType>(schema: S, section: Section, key: string, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw new CorruptRowError(section, key, formatZodError(parsed.error))
  return parsed.data
}

/** `parseRow` for a value that may be absent (undefined or null: no row). */
export function parseOptionalRow<S extends z.ZodType>(schema: S, section: Section, key: string, value: unknown): z.infer<S> | undefined {
  return value === undefined || value === null ? undefined : parseRow(schema, section, key, value)
}

/**
 * Rows of `section` under `keys`, as `tx` sees them (its own writes first, then the store),
 * validated; what the store gave is noted in `tx`, so later steps of the unit agree with earlier.
 */
export async function readRows<S extends z.ZodType>(
  store: Store,
  schema: S,
  section: Section,
  keys: readonly string[],
  tx?: Tx,
): Promise<(z.infer<S> | undefined)[]> {
  const missing = tx === undefined ? keys : keys.filter((k) => !tx.hasSeen(section, k))
  const found = missing.length > 0 ? await store.getMany(section, missing) : []
  // found[m] answers missing[m]; the keys the unit had seen take its rows instead.
  let m = 0
  return keys.map((key) => {
    if (missing[m] !== key) return (tx?.seen(section, key) as z.infer<S> | null | undefined) ?? undefined
    const row = parseOptionalRow(schema, section, key, found[m++])
    tx?.note(section, key, row)
    return row
  })
}
