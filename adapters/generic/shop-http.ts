// Minimal node:http plumbing for shop-side servers (the callback host here, and the example shop
// simulator): bounded body reads, JSON replies in the protocol's error shape, and a parser that
// refuses prototype keys as the node's does.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { z } from 'zod'
import { formatZodError } from '../../protocol/index.js'

/** A refusal with its HTTP status and short code; the message names the field and the reason. */
export class ShopError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/** The body bytes, or null when larger than `maxBytes` (the caller answers 413 and drops the connection). */
export async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer | null> {
  const declared = Number(request.headers['content-length'] ?? 0)
  if (declared > maxBytes) return null
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of request as AsyncIterable<Buffer>) {
    total += chunk.length
    if (total > maxBytes) return null
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

export function sendJson(response: ServerResponse, status: number, body: unknown, close = false): void {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...(close ? { connection: 'close' } : {}),
  })
  response.end(text)
}

export function sendError(response: ServerResponse, error: ShopError, close = false): void {
  sendJson(response, error.status, { error: error.code, message: error.message }, close)
}

/** Parses JSON then the schema; a ShopError(400) naming the field otherwise. */
export function parseBody<S extends z.ZodType>(raw: Buffer, schema: S): z.infer<S> {
  let json: unknown
  try {
    json = JSON.parse(raw.toString('utf8'), (key, value: unknown) => {
      if (key === '__proto__') throw new SyntaxError('"__proto__" is not allowed as a key')
      return value
    })
  } catch (error) {
    throw new ShopError(400, 'malformed_json', `body: malformed JSON: ${error instanceof Error ? error.message : String(error)}`)
  }
  return parseInput(schema, json, 'body')
}

export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(input)
  if (!parsed.success) {
    const message = formatZodError(parsed.error)
      .split('; ')
      .map((issue) => `${what}.${issue}`)
      .join('; ')
    throw new ShopError(400, 'invalid', message)
  }
  return parsed.data
}
