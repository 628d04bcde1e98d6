// A database-backed shop's platform health (dujiaoka, acg-faka, Dujiao-Next): its HTTP front answers (below 500)
// and its database answers a query.
// A failure is `degraded` until it repeats `downAfterFailures` times in a row, then `down`: a
// `down` report makes the node ask its partners to take over at once, so a blip must not cause it.
import type { PlatformHealth } from '../../protocol/index.js'
import type { HealthConfig } from './config.js'

export interface HealthReading {
  readonly platform: PlatformHealth
  readonly detail: string
}

export interface HealthProbeOptions {
  /** The shop software's name, first in every detail ("dujiaoka: …"). */
  readonly name: string
  /** The shop's database: anything that runs `SELECT 1` (a mysql2 or pg pool). */
  readonly db: { query(sql: string): Promise<unknown> }
  readonly shopUrl: string
  readonly config: Pick<HealthConfig, 'timeoutMs' | 'downAfterFailures'>
}

function reason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause?.code
  const code = (error as { code?: unknown } | null)?.code
  const text = error instanceof Error ? error.message : String(error)
  return typeof cause === 'string' ? `${text} (${cause})` : typeof code === 'string' ? `${text} (${code})` : text
}

async function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

export class HealthProbe {
  private failures = 0

  constructor(private readonly options: HealthProbeOptions) {}

  /** One probe of both; never throws. */
  async check(): Promise<HealthReading> {
    const { timeoutMs } = this.options.config
    const problems: string[] = []
    await Promise.all([
      (async () => {
        try {
          const response = await fetch(this.options.shopUrl, { method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) })
          await response.body?.cancel()
          if (response.status >= 500) problems.push(`shop front answered ${response.status}`)
        } catch (error) {
          problems.push(`shop front: ${reason(error)}`)
        }
      })(),
      (async () => {
        try {
          await withTimeout(this.options.db.query('SELECT 1'), timeoutMs, 'database')
        } catch (error) {
          problems.push(`database: ${reason(error)}`)
        }
      })(),
    ])
    if (problems.length === 0) {
      this.failures = 0
      return { platform: 'up', detail: `${this.options.name}: shop front and database answer` }
    }
    this.failures++
    const platform = this.failures >= this.options.config.downAfterFailures ? 'down' : 'degraded'
    return { platform, detail: `${this.options.name}: ${problems.sort().join('; ')} (${this.failures} failed probe(s) in a row)`.slice(0, 500) }
  }
}
