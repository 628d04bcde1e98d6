// The crash loop's only fault: SIGKILL of a real node process at a chosen moment, then a restart
// from its data directory after a chosen downtime. Each incarnation's log is kept in a file, since
// `Cluster.start` starts a fresh buffer and the evidence of a violation is often in a dead node's log.
import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Federation } from '../integration/federation-env.js'
import { shop } from '../integration/federation-env.js'

export type Log = (line: string) => void

export class Faults {
  kills = 0
  /** Nodes found dead that we had not killed: a crash of the node itself, always a violation. */
  readonly selfExits: string[] = []
  private readonly down = new Set<string>()

  constructor(
    private readonly f: Federation,
    private readonly logDir: string,
    private readonly log: Log,
  ) {}

  /**
   * SIGKILLs `victim` `atMs` from now, keeps it down `downMs`, restarts it and waits until it is
   * ready. Resolves when the node is back, so a phase never ends with a node missing.
   */
  async crash(victim: string, atMs: number, downMs: number, during: string): Promise<void> {
    await sleep(atMs)
    if (this.down.has(victim)) return // already down for another scheduled crash: nothing to kill
    this.down.add(victim)
    try {
      if (this.checkAlive(victim)) {
        await this.f.cluster.kill(victim, 'SIGKILL')
        this.kills++
        this.log(`SIGKILL ${victim} during ${during} (kill ${this.kills}), down ${downMs} ms`)
        this.saveLog(victim, `SIGKILL during ${during}`)
      }
      await sleep(downMs)
      await this.f.cluster.start(victim)
    } finally {
      this.down.delete(victim)
    }
    await this.reportPlatform(victim)
  }

  /** False (and recorded, with the end of its output) if the node exited without our SIGKILL. */
  checkAlive(name: string): boolean {
    const child = this.f.cluster.node(name).process
    if (!child || (child.exitCode === null && child.signalCode === null)) return true
    const tail = this.f.cluster.node(name).output.trim().split('\n').slice(-3).join(' | ')
    this.selfExits.push(`${name} exited by itself (${child.exitCode ?? child.signalCode}): ${tail.slice(0, 300)}`)
    this.log(`${name} found dead, not killed by us`)
    this.saveLog(name, 'found dead')
    return false
  }

  /**
   * A restarted node knows nothing of its shop's platform until the adapter reports it; a real
   * adapter reports health periodically, the simulator only on change, so we report for it.
   */
  async reportPlatform(name: string): Promise<void> {
    const s = shop(this.f, name)
    await s.setPlatform(s.platform)
  }

  /** Appends a node's output so far to its log file (node output is reset on every start). */
  saveLog(name: string, why: string): void {
    const node = this.f.cluster.node(name)
    appendFileSync(join(this.logDir, `${name}.log`), `----- ${new Date().toISOString()} ${why}\n${node.output}`)
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
