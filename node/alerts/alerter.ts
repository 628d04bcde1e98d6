// The Alerter: takes alerts, drops repeats, and hands each channel its localized text in the
// background. The engine calls `raise` synchronously and never waits: a bounded queue absorbs
// bursts and what does not fit is counted, not blocking (D61).
import { assert } from '../../protocol/index.js'
import type { AlertChannelConfig, AlertSeverity } from '../config/alerts.js'
import type { EngineEvent } from '../core/events.js'
import { type AlertEvent, ALERT_KINDS, alertOf, renderAlert, SEVERITY_RANK } from './events.js'
import { t } from '../core/i18n/index.js'
import { type ChannelDeps, type OutgoingAlert, sendToChannel } from './channels.js'

export const ALERT_LIMITS = {
  /** The same kind and subject raised again within this window is dropped, in milliseconds. */
  dedupWindowMs: 10 * 60_000,
  /** Most alerts one channel sends in one rate window. */
  perChannelPerWindow: 20,
  /** The rate limit's window, in milliseconds. */
  rateWindowMs: 60 * 60_000,
  /** Alerts waiting to be sent, over all channels; more are dropped and counted. */
  maxQueued: 200,
  /** Attempts per alert and channel, the first included. */
  maxAttempts: 3,
  /** Wait before a retry, times the attempt number, in milliseconds. */
  retryBackoffMs: 2_000,
  /** Alerts the log keeps for the console (the newest; older ones are forgotten). */
  maxLogged: 200,
}
export type AlertLimits = typeof ALERT_LIMITS

export interface AlerterLog {
  warn(obj: object, msg: string): void
}

export interface AlerterOptions extends ChannelDeps {
  readonly channels: readonly AlertChannelConfig[]
  readonly secrets: Readonly<Record<string, string>>
  readonly log: AlerterLog
  readonly limits?: Partial<AlertLimits>
  /** Waits between retries; tests pass an immediate one. */
  readonly sleep?: (ms: number) => Promise<void>
  /** The node's name, shown in every title. */
  readonly shopName: string
}

/** What became of an alert on one channel. */
export type AlertDelivery = 'queued' | 'sent' | 'failed' | 'rate-limited' | 'dropped'

/**
 * One alert as the console's alert log shows it: raised at `at`, dropped as a repeat, or handed to
 * the channels whose minimum severity it reaches (none configured is a state worth seeing too).
 * Kept in memory only, the newest `maxLogged`: the channels are the record, this is the glance.
 */
export interface AlertLogEntry {
  readonly at: number
  readonly event: AlertEvent
  readonly severity: AlertSeverity
  readonly deduplicated: boolean
  readonly channels: { readonly id: string; status: AlertDelivery }[]
}

interface Job {
  readonly channel: AlertChannelConfig
  readonly event: AlertEvent
  readonly at: number
  /** The log entry's line for this channel, updated as the job ends. */
  readonly delivery: { status: AlertDelivery }
}

export class Alerter {
  private readonly limits: AlertLimits
  private readonly lastRaised = new Map<string, number>()
  private readonly sentAt = new Map<string, number[]>()
  private readonly queue: Job[] = []
  private readonly logged: AlertLogEntry[] = []
  private running: Promise<void> | null = null
  private readonly stopping = new AbortController()
  /** Counters for metrics and tests. */
  readonly counts = { sent: 0, failed: 0, deduplicated: 0, rateLimited: 0, dropped: 0 }

  constructor(private readonly options: AlerterOptions) {
    this.limits = { ...ALERT_LIMITS, ...options.limits }
  }

  /** For the engine's `emit`: raises the alert an engine event maps to, if any. */
  onEngineEvent(at: number, event: EngineEvent): void {
    const alert = alertOf(event)
    if (alert !== null) this.raise(alert, at)
  }

  /** Queues `event` for every channel whose minimum severity it reaches. Never throws, never waits. */
  raise(event: AlertEvent, at: number = this.options.now()): void {
    const key = `${event.kind}\u0000${event.subject}`
    const last = this.lastRaised.get(key)
    const severity = ALERT_KINDS[event.kind]
    if (last !== undefined && at - last < this.limits.dedupWindowMs) {
      this.counts.deduplicated++
      this.remember({ at, event, severity, deduplicated: true, channels: [] })
      return
    }
    if (this.stopping.signal.aborted) {
      this.counts.dropped++
      return
    }
    this.lastRaised.set(key, at)
    this.pruneDedup(at)
    const entry: AlertLogEntry = { at, event, severity, deduplicated: false, channels: [] }
    for (const channel of this.options.channels) {
      if (SEVERITY_RANK[severity] < SEVERITY_RANK[channel.minSeverity]) continue
      const delivery = { id: channel.id, status: 'queued' as AlertDelivery }
      entry.channels.push(delivery)
      if (this.queue.length >= this.limits.maxQueued) {
        this.counts.dropped++
        delivery.status = 'dropped'
        continue
      }
      this.queue.push({ channel, event, at, delivery })
    }
    this.remember(entry)
    this.kick()
  }

  /** The alert log, newest first (the console's alert page). */
  log(): readonly AlertLogEntry[] {
    return [...this.logged].reverse()
  }

  private remember(entry: AlertLogEntry): void {
    this.logged.push(entry)
    if (this.logged.length > this.limits.maxLogged) this.logged.shift()
    assert(this.logged.length <= this.limits.maxLogged, 'alert log past its limit')
  }

  /** Starts the sender unless it runs; when it ends it looks again, so no job raised meanwhile is left. */
  private kick(): void {
    if (this.running !== null || this.queue.length === 0) return
    this.running = this.drain().finally(() => {
      this.running = null
      this.kick()
    })
  }

  /** Resolves when everything queued has been sent or given up on. */
  async idle(): Promise<void> {
    while (this.running) await this.running
  }

  /**
   * The node stops: what waits in the queue is dropped (counted), a request in flight is aborted
   * and no retry waits on. Later alerts are dropped too. Resolves once the sender has ended.
   */
  async stop(): Promise<void> {
    this.stopping.abort()
    this.counts.dropped += this.queue.length
    for (const job of this.queue) job.delivery.status = 'dropped'
    this.queue.length = 0
    await this.idle()
  }

  /** Sends one alert to one channel now, bypassing dedup and rate limits: `standin alerts test`. */
  async sendNow(channel: AlertChannelConfig, event: AlertEvent, at: number): Promise<void> {
    await sendToChannel(channel, this.options.secrets[channel.id], this.outgoing(channel, event, at), { ...this.options, signal: this.stopping.signal })
  }

  private outgoing(channel: AlertChannelConfig, event: AlertEvent, at: number): OutgoingAlert {
    const severity = ALERT_KINDS[event.kind]
    return {
      title: t(channel.locale, 'alert.title', { shopName: this.options.shopName, severity }),
      text: renderAlert(event, channel.locale),
      kind: event.kind,
      subject: event.subject,
      severity,
      at,
    }
  }

  private pruneDedup(now: number): void {
    if (this.lastRaised.size < 1000) return
    for (const [key, at] of this.lastRaised) if (now - at >= this.limits.dedupWindowMs) this.lastRaised.delete(key)
  }

  private allowed(channelId: string, now: number): boolean {
    const recent = (this.sentAt.get(channelId) ?? []).filter((t) => now - t < this.limits.rateWindowMs)
    if (recent.length >= this.limits.perChannelPerWindow) {
      this.sentAt.set(channelId, recent)
      return false
    }
    recent.push(now)
    this.sentAt.set(channelId, recent)
    return true
  }

  private async drain(): Promise<void> {
    const signal = this.stopping.signal
    const sleep =
      this.options.sleep ??
      ((ms: number) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms)
          timer.unref()
          signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true })
        }))
    for (let job = this.queue.shift(); job !== undefined; job = this.queue.shift()) {
      if (!this.allowed(job.channel.id, this.options.now())) {
        this.counts.rateLimited++
        job.delivery.status = 'rate-limited'
        continue
      }
      for (let attempt = 1; ; attempt++) {
        try {
          await this.sendNow(job.channel, job.event, job.at)
          this.counts.sent++
          job.delivery.status = 'sent'
          break
        } catch (err) {
          if (attempt >= this.limits.maxAttempts || signal.aborted) {
            this.counts.failed++
            job.delivery.status = 'failed'
            this.options.log.warn({ channel: job.channel.id, alert: job.event.kind, err: err instanceof Error ? err.message : 'failed' }, 'alert not delivered')
            break
          }
          await sleep(this.limits.retryBackoffMs * attempt)
        }
      }
    }
  }
}
