// Rows read from a shop's database are outside our control: each is validated with zod before use,
// and one that does not match is an error naming the query and the field.
import type { z } from 'zod'
import { formatZodError } from '../../protocol/index.js'

/** The rows parsed by `schema`, or an error naming the query's start, the row and the field. */
export function parseRows<S extends z.ZodType>(schema: S, sql: string, rows: readonly unknown[]): z.infer<S>[] {
  return rows.map((row, i) => {
    const parsed = schema.safeParse(row)
    if (!parsed.success) throw new Error(`${sql.split(/\s+/).slice(0, 6).join(' ')} … row ${i}: ${formatZodError(parsed.error)}`)
    return parsed.data
  })
}
