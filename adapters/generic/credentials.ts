// An adapter process reads its credentials (adapter.json, written by the node) with this, and
// only this: it never needs, and is never given, the node's secrets.json.
import { readFileSync } from 'node:fs'
import { formatZodError } from '../../protocol/index.js'
import { AdapterCredentials } from '../contract.js'

export class CredentialsError extends Error {}

export function readAdapterCredentials(path: string): AdapterCredentials {
  let json: unknown
  try {
    json = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new CredentialsError(`${path}: ${(error as Error).message}`)
  }
  // The node's own secrets.json holds its identity; an adapter handed it holds far too much.
  if (typeof json === 'object' && json !== null && 'seed' in json) {
    throw new CredentialsError(`${path}: this is the node's secrets.json; give the adapter the node's adapter.json instead`)
  }
  const parsed = AdapterCredentials.safeParse(json)
  if (!parsed.success) throw new CredentialsError(`${path}: ${formatZodError(parsed.error)}`)
  return parsed.data
}
