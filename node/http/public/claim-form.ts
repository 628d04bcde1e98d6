// Reading the claim form: the urlencoded body @fastify/formbody parsed, validated by ClaimForm,
// its problems turned into per-field problems the page can name in the buyer's language.
import { ClaimForm } from '../../core/api-schemas.js'

export type ClaimField = 'shop' | 'order' | 'secret'
export const CLAIM_FIELDS: readonly ClaimField[] = ['shop', 'order', 'secret']

export type FieldProblem =
  | { readonly field: ClaimField; readonly problem: 'required' | 'too-long' | 'format' | 'invalid' | 'repeated' }
  | { readonly field: string; readonly problem: 'unexpected' }

/** What the buyer typed, to put back into the form (never the secret). */
export interface ClaimFormValues {
  readonly shop: string
  readonly order: string
}

export type ClaimFormReading =
  { readonly ok: true; readonly form: ClaimForm } | { readonly ok: false; readonly problems: readonly FieldProblem[]; readonly values: ClaimFormValues }

const isClaimField = (name: unknown): name is ClaimField => CLAIM_FIELDS.includes(name as ClaimField)

/**
 * What @fastify/formbody hands over: field → value, or all the values of a field sent more than
 * once. It has no prototype, so a "__proto__" field is just an unexpected field.
 */
type FormBody = Readonly<Record<string, unknown>>

const isFormBody = (body: unknown): body is FormBody => typeof body === 'object' && body !== null

export function readClaimForm(body: unknown): ClaimFormReading {
  // Ids are copied from emails and order pages; surrounding spaces are never part of them. The
  // secret is taken exactly as typed: it is checked against what the shop issued. A field sent
  // twice is ambiguous: refused rather than guessing which counts (the first is typed back).
  const candidate = Object.create(null) as Record<string, string>
  const repeated: ClaimField[] = []
  for (const [name, value] of Object.entries(isFormBody(body) ? body : {})) {
    const first: unknown = Array.isArray(value) ? value[0] : value
    if (typeof first !== 'string') continue
    if (Array.isArray(value) && isClaimField(name)) repeated.push(name)
    candidate[name] = name === 'shop' || name === 'order' ? first.trim() : first
  }
  const values = { shop: candidate.shop ?? '', order: candidate.order ?? '' }

  const problems: FieldProblem[] = repeated.map((field) => ({ field, problem: 'repeated' as const }))
  const parsed = ClaimForm.safeParse(candidate)
  if (parsed.success && problems.length === 0) return { ok: true, form: parsed.data }

  for (const issue of parsed.error?.issues ?? []) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ field: key, problem: 'unexpected' })
      continue
    }
    const field = issue.path[0]
    if (!isClaimField(field) || problems.some((p) => p.field === field)) continue
    const value = candidate[field]
    if (value === undefined || value === '') problems.push({ field, problem: 'required' })
    else if (issue.code === 'too_big') problems.push({ field, problem: 'too-long' })
    else if (issue.code === 'invalid_format') problems.push({ field, problem: 'format' })
    else problems.push({ field, problem: 'invalid' })
  }
  return { ok: false, problems: problems.sort((a, b) => rank(a) - rank(b)), values }
}

// Problems are listed in the order the fields appear on the page; unexpected fields last.
const rank = (problem: FieldProblem) => (isClaimField(problem.field) ? CLAIM_FIELDS.indexOf(problem.field) : CLAIM_FIELDS.length)
