// What a shop's store durably holds, mirrored in memory as its writes land, so the invariant checker
// can look after every simulator step without reading memory-level (which would cost more than the
// step). Key rows are checked as they are written: a key never moves backwards or to a second order.
import { KEY_TRANSITIONS, type ShopId } from '../../protocol/index.js'
import type { KeyRow, Holding } from '../../node/core/state/keys.js'
import type { Section, StoreOp } from '../../node/core/ports.js'

const WATCHED: ReadonlySet<Section> = new Set<Section>(['keys', 'orders', 'ledger', 'heads', 'meta', 'allotments', 'receipts', 'authority'])

/** Looks at each write before it lands (the shadow still holds what was there). */
export type WriteCheck = (op: StoreOp, shadow: StoreShadow) => void

export class StoreShadow {
  readonly sections = new Map<Section, Map<string, unknown>>([...WATCHED].map((s) => [s, new Map()]))
  /** Key rows per `origin|holder|state`, kept incrementally. */
  readonly keyCounts = new Map<string, number>()
  /** Transitions that broke the key state machine, with the virtual time they landed at. */
  readonly violations: string[] = []
  /** Extra checks of every write (the invariant checker's). */
  readonly checks: WriteCheck[] = []

  constructor(
    readonly me: ShopId,
    private readonly nameOf: (id: ShopId) => string,
    private readonly now: () => number,
  ) {}

  section(section: Section): Map<string, unknown> {
    return this.sections.get(section) as Map<string, unknown>
  }

  apply(ops: readonly StoreOp[]): void {
    for (const op of ops) {
      for (const check of this.checks) check(op, this)
      const section = this.sections.get(op.section)
      if (!section) continue
      if (op.section === 'keys') this.checkKeyRow(section.get(op.key) as KeyRow | undefined, op.type === 'put' ? (op.value as KeyRow) : undefined)
      if (op.type === 'put') section.set(op.key, op.value)
      else section.delete(op.key)
    }
  }

  /** The store was put back to these rows (a restore): so is the shadow (not a write: nothing to check). */
  putBack(rows: readonly (readonly [Section, string, unknown])[]): void {
    for (const section of this.sections.values()) section.clear()
    this.keyCounts.clear()
    for (const [section, key, value] of rows) {
      this.sections.get(section)?.set(key, value)
      if (section === 'keys') this.count(value as KeyRow, 1)
    }
  }

  keyCount(origin: ShopId, holder: ShopId, state: KeyRow['state']): number {
    return this.keyCounts.get(`${origin}|${holder}|${state}`) ?? 0
  }

  holding(origin: ShopId, sku: string, holder: ShopId): Holding | undefined {
    return this.section('allotments').get(`${origin}!${sku}!${holder}`) as Holding | undefined
  }

  private count(row: KeyRow, by: number): void {
    const key = `${row.origin}|${row.holder}|${row.state}`
    this.keyCounts.set(key, (this.keyCounts.get(key) ?? 0) + by)
  }

  private checkKeyRow(before: KeyRow | undefined, after: KeyRow | undefined): void {
    const at = this.now()
    if (!after) {
      if (before) this.violations.push(`${at} ${this.nameOf(this.me)} deleted key row ${before.keyId} (${before.state})`)
      return
    }
    if (before) this.count(before, -1)
    this.count(after, 1)
    if (!before || (before.state === after.state && before.order === after.order)) return
    // The origin never sees a reservation: its rows go from consigned to delivered ('receipted').
    const allowed = Object.values(KEY_TRANSITIONS[before.state]).includes(after.state) && (before.order === null || before.order === after.order)
    if (!allowed) {
      this.violations.push(
        `${at} ${this.nameOf(this.me)} key ${after.keyId} of ${this.nameOf(after.origin)} went ${before.state}(${before.order ?? '-'}) → ${after.state}(${after.order ?? '-'})`,
      )
    }
  }
}
