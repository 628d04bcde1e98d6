// Tokens operators copy between shops: "standin1." + base64url(canonical JSON), parsed strictly.
import { canonicalBytes, fromBase64url, fromUtf8, toBase64url } from './encoding.js'
import { fail, ok, type Result } from './errors.js'
import { Token, TOKEN_PREFIX } from './schemas/tokens.js'
import { formatZodError } from './validate.js'

export function encodeToken(token: Token): string {
  return TOKEN_PREFIX + toBase64url(canonicalBytes(token))
}

export function decodeToken(text: string): Result<Token> {
  const trimmed = text.trim()
  if (!trimmed.startsWith(TOKEN_PREFIX)) return fail('invalid', `token: must start with ${TOKEN_PREFIX}`)
  let json: unknown
  try {
    json = JSON.parse(fromUtf8(fromBase64url(trimmed.slice(TOKEN_PREFIX.length))))
  } catch {
    return fail('invalid', 'token: not base64url-encoded JSON (was it copied whole?)')
  }
  const parsed = Token.safeParse(json)
  if (!parsed.success) return fail('invalid', `token: ${formatZodError(parsed.error)}`)
  return ok(parsed.data)
}
