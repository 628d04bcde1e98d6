// What the end of health reports means (issue 17, item 5; adapters/README.md, "Silence"). The
// adapter repeats its report every `healthReportMs`; after `missedHealthReports` in a row are
// missing the platform is `unknown` and the operator is told what to do. Silence never starts a
// takeover: a shop whose reporter stopped may still be delivering, and a fence it cannot hear
// cannot stop it. The operator's own word (`standin platform down|up`) holds until the adapter
// reports again, and is never overruled by the adapter's silence.
import { healthSilenceMs, type PlatformHealth, type Timing } from '../../protocol/index.js'

export type HealthSource = 'adapter' | 'operator'

export interface HealthReport {
  readonly platform: PlatformHealth
  readonly source: HealthSource
  readonly at: number
}

export class HealthSilence {
  private last: HealthReport | null = null
  /** When silence is counted from if nothing was reported: our start, or our return from a pause. */
  private since: number
  private silent = false

  constructor(startedAt: number) {
    this.since = startedAt
  }

  /** The newest report, if any since this node started. */
  get lastReport(): HealthReport | null {
    return this.last
  }

  get isSilent(): boolean {
    return this.silent
  }

  /** A report arrived. Returns true when it ends a silence (worth a log line). */
  reported(report: HealthReport): boolean {
    this.last = report
    const ended = this.silent
    this.silent = false
    return ended
  }

  /** We did not run for a while: reports the adapter sent meanwhile may still be on their way. */
  resumed(at: number): void {
    this.since = Math.max(this.since, at)
  }

  /**
   * Whether silence began just now (the caller sets the platform `unknown` and warns once). The
   * operator's word is not timed out: the operator said it knowing the adapter may be gone.
   */
  check(now: number, timing: Timing): boolean {
    if (this.silent || this.last?.source === 'operator') return false
    const from = Math.max(this.since, this.last?.at ?? Number.NEGATIVE_INFINITY)
    if (now - from <= healthSilenceMs(timing)) return false
    this.silent = true
    return true
  }
}
