// Reading the claim form: the urlencoded body a browser posts, then ClaimForm validation turned
// into per-field problems the page can name in the buyer's language.
import { ClaimForm } from '../../../protocol/index.js'

/** A parsed application/x-www-form-urlencoded body. */
export interface UrlencodedBody {
  /** Field → value; a null-prototype object, so a "__proto__" field is just an unexpected field. */
  readonly fields: Readonly<Record<string, string>>
  /** Fields that appeared more than once (ambiguous: refused rather than guessing which counts). */
  readonly repeated: readonly string[]
}

export function parseUrlencoded(body: string): UrlencodedBody {
  const fields = Object.create(null) as Record<string, string>
  const repeated = new Set<string>()
  for (const [name, value] of new URLSearchParams(body)) {
    if (Object.hasOwn(fields, name)) repeated.add(name)
    else fields[name] = value
  }
  return { fields, repeated: [...repeated] }
}

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
  | { readonly ok: true; readonly form: ClaimForm }
  | { readonly ok: false; readonly problems: readonly FieldProblem[]; readonly values: ClaimFormValues }

const isClaimField = (name: unknown): name is ClaimField => CLAIM_FIELDS.includes(name as ClaimField)

function isUrlencodedBody(body: unknown): body is UrlencodedBody {
  return typeof body === 'object' && body !== null && 'fields' in body && 'repeated' in body
}

export function readClaimForm(body: unknown): ClaimFormReading {
  const { fields, repeated } = isUrlencodedBody(body) ? body : { fields: {} as Record<string, string>, repeated: [] }
  // Ids are copied from emails and order pages; surrounding spaces are never part of them. The
  // secret is taken exactly as typed: it is checked against what the shop issued.
  const candidate = Object.create(null) as Record<string, string>
  for (const [name, value] of Object.entries(fields)) candidate[name] = name === 'shop' || name === 'order' ? value.trim() : value
  const values = { shop: candidate.shop ?? '', order: candidate.order ?? '' }

  const problems: FieldProblem[] = repeated.filter(isClaimField).map((field) => ({ field, problem: 'repeated' as const }))
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
