// The positional arguments of `npm run bench -- <name> [args…]`, parsed like every other input: one
// zod object per bench, its keys in argument order. A missing argument takes the schema's default;
// a bad one is refused with its name and the reason, before anything starts.
import { z } from 'zod'
import { formatZodError } from '../../protocol/validate.js'

export function benchArgs<S extends z.ZodObject>(bench: string, schema: S, args: string[]): z.infer<S> {
  const names = Object.keys(schema.shape)
  const usage = `npm run bench -- ${bench} ${names.map((n) => `[${n}]`).join(' ')}`
  if (args.length > names.length) throw new Error(`${usage}: ${args.length} arguments given, at most ${names.length}`)
  const parsed = schema.safeParse(Object.fromEntries(names.map((name, i) => [name, args[i]])))
  if (!parsed.success) throw new Error(`${usage}: ${formatZodError(parsed.error)}`)
  return parsed.data
}

/** A whole number ≥ `min`, written in digits. */
export const wholeNumber = (min: number) =>
  z.string().regex(/^\d+$/, 'digits only').transform(Number).pipe(z.number().int().min(min).max(Number.MAX_SAFE_INTEGER))

/** A number > 0 (a rate, a duration), decimals allowed. */
export const positiveNumber = () =>
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, 'a number: digits and one optional decimal point')
    .transform(Number)
    .pipe(z.number().positive())

/** A comma-separated list of `item`s (each parsed from its text), at least one. */
export const listOf = <I extends z.ZodType<unknown, string>>(item: I) =>
  z
    .string()
    .transform((s) => s.split(','))
    .pipe(z.array(item).min(1))
