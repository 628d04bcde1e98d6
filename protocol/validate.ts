import type { z } from 'zod'
import { fail, ok, type Result } from './errors.js'

/** "field.path: reason; other.field: reason" — what every 4xx and rejection log shows. */
export function formatZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ')
}

/** Parses untrusted input with a protocol schema into a typed result naming field and reason. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, what: string): Result<z.infer<S>> {
  const parsed = schema.safeParse(input)
  if (!parsed.success) return fail('invalid', `${what}: ${formatZodError(parsed.error)}`)
  return ok(parsed.data)
}
