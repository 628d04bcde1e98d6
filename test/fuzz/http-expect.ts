// What every refused request must look like: a 4xx with exactly { error, message }, a message that
// names the offending field where validation refused it, and no call into the engine.
// Checked with plain comparisons rather than expect(): at 150,000 requests, chai's per-assertion
// bookkeeping would cost more than the requests themselves.
import type { LightMyRequestResponse } from 'fastify'
import type { FakeApi } from '../http/fake-api.js'
import { related } from './mutate.js'
import type { Target } from './http-inputs.js'

const ISSUE = /(?:^|; )(body|query|params)((?:\.[^.:;\s]+)*): /g
const FIRST_ISSUE = /^(body|query|params)(\.[^.:;\s]+)*: \S/

/** The (part, field path) of every issue in a formatValidation message, e.g. body.orders.0.qty. */
export function issuesOf(message: string): { part: string; path: string[] }[] {
  return [...message.matchAll(ISSUE)].map((m) => ({ part: m[1]!, path: (m[2] ?? '').split('.').filter((s) => s !== '') }))
}

export interface Refusal {
  response: LightMyRequestResponse
  api: FakeApi
  /** What was broken; empty when only authentication was. */
  targets: readonly Target[]
  /** Error codes this request may draw. */
  codes: readonly string[]
}

/** Checks one refusal and returns its error code, for the suite's tally; throws what is wrong. */
export function expectRefusal({ response, api, targets, codes }: Refusal): string {
  const fail = (what: string): never => {
    throw new Error(`${what}\n  got ${response.statusCode} ${response.body.slice(0, 500)}`)
  }
  if (response.statusCode < 400 || response.statusCode >= 500) fail('status is not a 4xx')
  if (!/^application\/json/.test(response.headers['content-type']?.toString() ?? '')) fail('reply is not JSON')
  let body: unknown
  try {
    body = response.json()
  } catch {
    fail('reply is not JSON')
  }
  const { error, message } = body as Record<string, unknown>
  if (
    Object.keys(body as object)
      .sort()
      .join() !== 'error,message' ||
    typeof error !== 'string' ||
    typeof message !== 'string'
  ) {
    return fail('reply is not an ErrorReply { error, message }')
  }
  if (!codes.includes(error)) fail(`error code '${error}' is not one of ${codes.join(', ')}`)
  if (message.trim() === '') fail('empty message')
  // Messages are read by adapters and operators: never a stack trace or a source location.
  if (/\n\s+at |\.ts:\d+/.test(message)) fail('message leaks a stack trace')
  if (error === 'invalid') checkNamesField(message, targets, fail)
  // The property is about the HTTP layer: whatever was refused never reached the engine.
  if (api.calls.length > 0) fail(`the engine was called: ${JSON.stringify(api.calls).slice(0, 300)}`)
  return error
}

function checkNamesField(message: string, targets: readonly Target[], fail: (what: string) => never): void {
  if (!FIRST_ISSUE.test(message)) fail('validation message does not start with "<part>.<field>: <reason>"')
  const issues = issuesOf(message)
  for (const issue of issues) {
    if (!targets.some((t) => t.part === issue.part)) fail(`issue about ${issue.part}, which was not broken`)
  }
  // Where we know which field we broke, the refusal must be about that field, its parent or its contents.
  const reported = new Set(issues.map((i) => i.part))
  for (const target of targets) {
    const path = target.path
    if (path === undefined || !reported.has(target.part)) continue
    if (!issues.some((i) => i.part === target.part && related(i.path, path))) fail(`refusal does not name ${[target.part, ...path].join('.')}`)
  }
}
