// Requests from the CLI to the running node. A node that cannot be reached (stopped, wrong port,
// hung) is the common case for an operator, so it gets its own error with the fix instead of
// undici's bare "fetch failed"; HTTP errors from a node that answered keep their own message.
import { say } from './locale.js'

/** Long enough for a busy node to answer an admin call, short enough that a hung one is reported. */
export const NODE_REQUEST_TIMEOUT_MS = 30_000

/** The node did not answer at all: main.ts prints the message and exits 1, without a stack. */
export class NodeNotRunningError extends Error {
  constructor(baseUrl: string, dirPath: string) {
    super(say('cli.error.nodeNotRunning', { url: baseUrl, dir: dirPath }))
    this.name = 'NodeNotRunningError'
  }
}

/** A `--wait` ran out: main.ts prints what it still waited for and exits 1, like a stopped node. */
export class WaitTimedOutError extends Error {
  constructor(what: string, seconds: number) {
    super(say('cli.error.waitTimedOut', { what, seconds: String(seconds) }))
    this.name = 'WaitTimedOutError'
  }
}

/**
 * fetch with a timeout; a refused connection, a DNS failure or the timeout become
 * NodeNotRunningError. With `signal: null` the timeout bounds only the wait for the response's
 * head, not the reading of its body (a backup's stream may take minutes).
 */
export async function fetchNode(baseUrl: string, path: string, dirPath: string, init: RequestInit = {}): Promise<Response> {
  const headOnly = init.signal === null
  const controller = new AbortController()
  const timer = headOnly ? setTimeout(() => controller.abort(new DOMException('node request timed out', 'TimeoutError')), NODE_REQUEST_TIMEOUT_MS) : undefined
  try {
    return await fetch(`${baseUrl}${path}`, { ...init, signal: headOnly ? controller.signal : AbortSignal.timeout(NODE_REQUEST_TIMEOUT_MS) })
  } catch (error) {
    // fetch rejects with TypeError('fetch failed') for network errors and with a TimeoutError
    // DOMException for the timeout; anything else (a bug in the body, say) is rethrown as is.
    const name = (error as Error).name
    if (error instanceof TypeError || name === 'TimeoutError' || name === 'AbortError') throw new NodeNotRunningError(baseUrl, dirPath)
    throw error
  } finally {
    clearTimeout(timer)
  }
}
