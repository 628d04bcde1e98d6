import { z } from 'zod'
import { Signature } from './primitives.js'

/** A single-signer document: the body names its signer in a field fixed per document type. */
export function signedSchema<B extends z.ZodType>(body: B) {
  return z.strictObject({ body, sig: Signature })
}

export interface Signed<B> {
  body: B
  sig: string
}
