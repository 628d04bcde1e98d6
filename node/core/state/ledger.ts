// Double-entry books per pair (docs/design.md §7): the one module that reads and writes the `ledger`
// section. Each receipt between us and a partner books one fee line, computed from the receipt and
// the terms it names so both sides book the identical line. Lines move open → stated → accepted →
// settled, or → disputed (never settled silently); a line is in at most one statement. Keys:
//   l!<counterparty>!<in|out>!<time>!<receipt hash>  a line (in: owed to us, out: owed by us), a LineRow
//   r!<origin>!<order>!<fulfiller>                  receipt identity → hash (idempotency)
//   o!<counterparty>!in!<time>!<receipt hash>       index of lines still open and owed to us
//   s!<statement hash>                              a statement and where it stands
// Running balances move once a change is durable.
import { z } from 'zod'
import {
  assert,
  feeLineFor,
  Hash,
  hashOf,
  LedgerLine,
  MAX_STATEMENT_LINES,
  type LineEvent,
  lineStep,
  type Receipt,
  type ShopId,
} from '../../../protocol/index.js'
import { StatementStateView } from '../api-schemas.js'
import type { Federation } from '../federation.js'
import type { Logger, Store } from '../ports.js'
import { CorruptRowError, parseOptionalRow, parseRow } from './rows.js'
import type { Tx } from './tx.js'

export const LineStatus = z.enum(['open', 'stated', 'accepted', 'disputed', 'settled'])
export type LineStatus = z.infer<typeof LineStatus>

export const BookLine = z.object({
  line: LedgerLine,
  status: LineStatus,
  statement: Hash.nullable(),
  /** The statement whose answer disputed it, or (statement null) why we disputed it on booking. */
  dispute: z.string().nullable(),
})
export type BookLine = z.infer<typeof BookLine>

/**
 * A line row as stored: a tuple, not the BookLine object, so each line seals and opens about half
 * the bytes (lines are most of the books; each is written four times between booking and stating)
 * and reads back without a schema walk. Only this node wrote and sealed the row (the seal
 * authenticates it), so the shape check below is there to name a row from another version, not to
 * distrust our own. `origin` is 'd' or 'c' when it is the debtor or the creditor (it always is for
 * fees and proceeds): one shop id less per line. Rows stored as objects (before tuples) still read.
 */
type LineRow = [
  v: typeof LINE_ROW,
  receipt: string,
  kind: LedgerLine['kind'],
  origin: string,
  order: string,
  debtor: string,
  creditor: string,
  minorUnits: number,
  currency: string,
  time: number,
  terms: string,
  status: LineStatus,
  statement: string | null,
  dispute: string | null,
]
/** Version tag of the tuple (the object rows before it count as 1). */
const LINE_ROW = 2
const KINDS: ReadonlySet<unknown> = new Set(LedgerLine.shape.kind.options)
const STATUSES: ReadonlySet<unknown> = new Set(LineStatus.options)

function lineRow({ line, status, statement, dispute }: BookLine): LineRow {
  const origin = line.origin === line.debtor ? 'd' : line.origin === line.creditor ? 'c' : line.origin
  const { minorUnits, currency } = line.amount
  return [
    LINE_ROW,
    line.receipt,
    line.kind,
    origin,
    line.order,
    line.debtor,
    line.creditor,
    minorUnits,
    currency,
    line.time,
    line.terms,
    status,
    statement,
    dispute,
  ]
}

/** The line stored under `key` (a tuple row, or an object row from before them); throws CorruptRowError. */
export function bookLineOf(key: string, value: unknown): BookLine {
  if (!Array.isArray(value)) return parseRow(BookLine, 'ledger', key, value)
  const [v, receipt, kind, origin, order, debtor, creditor, minorUnits, currency, time, terms, status, statement, dispute] = value as unknown[]
  const text = (x: unknown) => typeof x === 'string' && x.length > 0
  const count = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0
  const bad =
    (value.length !== 14 || v !== LINE_ROW ? 'not a line row of this version' : null) ??
    (![receipt, origin, order, debtor, creditor, currency, terms].every(text) ? 'a text field is missing' : null) ??
    (!KINDS.has(kind) || !STATUSES.has(status) ? 'unknown kind or status' : null) ??
    (!count(minorUnits) || !count(time) ? 'amount or time is not a whole number' : null) ??
    (!(statement === null || text(statement)) || !(dispute === null || typeof dispute === 'string') ? 'statement or dispute malformed' : null)
  if (bad !== null) throw new CorruptRowError('ledger', key, bad)
  const [, , , , , d, c] = value as LineRow
  return {
    line: {
      receipt: receipt as string,
      kind: kind as LedgerLine['kind'],
      origin: origin === 'd' ? d : origin === 'c' ? c : (origin as string),
      order: order as string,
      debtor: d,
      creditor: c,
      amount: { minorUnits: minorUnits as number, currency: currency as string },
      time: time as number,
      terms: terms as string,
    },
    status: status as LineStatus,
    statement: statement as string | null,
    dispute: dispute as string | null,
  }
}

export type StatementStatus = 'issued' | 'accepted' | 'paid' | 'settled'

/** A statement and where it stands, on either side (the admin API shows it as is). */
export type StatementState = StatementStateView

export interface Balance {
  readonly counterparty: ShopId
  readonly currency: string
  /** Unsettled, undisputed: what the counterparty owes us, and what we owe it. */
  owedToUs: number
  owedByUs: number
  disputed: number
}

export class ConflictingReceiptError extends Error {
  readonly code = 'conflict'
}

const Identity = z.object({ hash: Hash })

const pad = (ms: number) => String(ms).padStart(15, '0')
export const lineKey = (line: LedgerLine, me: ShopId) => {
  const inbound = line.creditor === me
  return `l!${inbound ? line.debtor : line.creditor}!${inbound ? 'in' : 'out'}!${pad(line.time)}!${line.receipt}`
}
const identityKey = (r: Receipt, fulfiller: ShopId) => `r!${r.origin}!${r.order}!${fulfiller}`
export const statementKey = (hash: string) => `s!${hash}`

export class Books {
  private readonly balances = new Map<string, Balance>()

  constructor(private readonly deps: { readonly me: ShopId; readonly store: Store; readonly federation: Federation; readonly logger: Logger }) {}

  async load(): Promise<void> {
    for await (const [key, value] of this.deps.store.range('ledger', { gt: 'l!', lt: 'l!\xff' })) this.account(bookLineOf(key, value), 1)
  }

  private balanceOf(counterparty: ShopId, currency: string): Balance {
    const key = `${counterparty}!${currency}`
    let b = this.balances.get(key)
    if (!b) this.balances.set(key, (b = { counterparty, currency, owedToUs: 0, owedByUs: 0, disputed: 0 }))
    return b
  }

  /** Adds (sign 1) or removes (sign -1) a line's effect on the running balances. */
  private account(book: BookLine, sign: 1 | -1): void {
    const me = this.deps.me
    const { line } = book
    const counterparty = line.creditor === me ? line.debtor : line.creditor
    const b = this.balanceOf(counterparty, line.amount.currency)
    const amount = sign * line.amount.minorUnits
    if (book.status === 'disputed') b.disputed += amount
    else if (book.status !== 'settled') {
      if (line.creditor === me) b.owedToUs += amount
      else b.owedByUs += amount
    }
  }

  allBalances(): Balance[] {
    return [...this.balances.values()].map((b) => ({ ...b }))
  }

  /** What `debtor` owes us, unsettled and undisputed, in the settlement currency. */
  owedToUsBy(debtor: ShopId): number {
    return this.balances.get(`${debtor}!${this.deps.federation.terms.settlement.currency}`)?.owedToUs ?? 0
  }

  /**
   * Books receipts between us and a partner with `tx`. Idempotent: the same receipt again books
   * nothing; another receipt for the same (origin, order, fulfiller) is a typed conflict.
   * `hashes[i]` is receipts[i]'s hash when the caller has it already (hashing is the hot cost).
   * `dispute` books the lines disputed at once, with that reason (the origin's judgement).
   */
  async bookReceipts(tx: Tx, receipts: readonly Receipt[], fulfiller: ShopId, hashes?: readonly string[], dispute: string | null = null): Promise<void> {
    const me = this.deps.me
    const mine = receipts.map((r, i) => ({ r, i })).filter(({ r }) => r.origin === me || fulfiller === me)
    const ids = mine.map(({ r }) => identityKey(r, fulfiller))
    const unseen = ids.filter((id) => !tx.hasSeen('ledger', id))
    const stored = unseen.length > 0 ? await this.deps.store.getMany('ledger', unseen) : []
    unseen.forEach((id, k) => tx.note('ledger', id, parseOptionalRow(Identity, 'ledger', id, stored[k])))
    const lines: BookLine[] = []
    mine.forEach(({ r, i }, k) => {
      const hash = hashes?.[i] ?? hashOf(r)
      const id = ids[k] as string
      const known = (tx.seen('ledger', id) as { hash: string } | null | undefined)?.hash
      if (known === hash) return
      if (known !== undefined) throw new ConflictingReceiptError(`receipt for order ${r.order} by ${fulfiller} already booked with different content`)
      const terms = this.deps.federation.termsFor(r.terms)
      if (!terms) throw new ConflictingReceiptError(`receipt for order ${r.order} names terms we never signed`)
      const line = feeLineFor(r, hash, fulfiller, terms.fee)
      if (!line.ok) throw new ConflictingReceiptError(`receipt for order ${r.order}: ${line.error.message}`)
      const book: BookLine = { line: line.value, status: dispute === null ? 'open' : 'disputed', statement: null, dispute }
      const key = lineKey(line.value, me)
      tx.put('ledger', id, { hash })
      tx.put('ledger', key, lineRow(book))
      if (line.value.creditor === me && dispute === null) tx.put('ledger', `o${key.slice(1)}`, 1)
      lines.push(book)
    })
    if (lines.length > 0)
      tx.afterCommit(() => {
        for (const book of lines) this.account(book, 1)
      })
  }

  /**
   * A proceeds line: a holder owes the origin for keys billed to it (`allotment.billed`, named by
   * the record's hash). Idempotent like receipts; both sides book the identical line.
   */
  async bookBilled(tx: Tx, line: LedgerLine): Promise<void> {
    const id = `b!${line.receipt}`
    if (!tx.hasSeen('ledger', id)) tx.note('ledger', id, parseOptionalRow(Identity, 'ledger', id, await this.deps.store.get('ledger', id)))
    if (tx.seen('ledger', id)) return
    const book: BookLine = { line, status: 'open', statement: null, dispute: null }
    const key = lineKey(line, this.deps.me)
    tx.put('ledger', id, { hash: line.receipt })
    tx.put('ledger', key, lineRow(book))
    if (line.creditor === this.deps.me) tx.put('ledger', `o${key.slice(1)}`, 1)
    tx.afterCommit(() => this.account(book, 1))
  }

  /**
   * Open lines owed to us by `counterparty` in `currency`, oldest first, up to one statement.
   * Read through the open-line index (o!…), so stating a long history never rescans stated lines.
   */
  async openLines(counterparty: ShopId, currency: string, untilMs: number): Promise<BookLine[]> {
    const open: BookLine[] = []
    let after = `o!${counterparty}!in!`
    // A page of index keys, then their lines; a second page only when lines in another currency
    // left the first short (at most two pages: a statement never scans more than that).
    for (let page = 0; page < 2 && open.length < MAX_STATEMENT_LINES; page++) {
      const keys: string[] = []
      for await (const [key] of this.deps.store.range('ledger', {
        gt: after,
        lte: `o!${counterparty}!in!${pad(untilMs)}!\xff`,
        limit: MAX_STATEMENT_LINES,
        values: false,
      }))
        keys.push(`l${key.slice(1)}`)
      const found = await this.deps.store.getMany('ledger', keys)
      keys.forEach((key, i) => {
        const book = found[i] === undefined ? undefined : bookLineOf(key, found[i])
        if (book !== undefined && book.status === 'open' && book.line.amount.currency === currency && open.length < MAX_STATEMENT_LINES) open.push(book)
      })
      if (keys.length < MAX_STATEMENT_LINES) break
      after = `o${(keys.at(-1) as string).slice(1)}`
    }
    return open
  }

  async linesFor(me: ShopId, lines: readonly LedgerLine[], tx?: Tx): Promise<(BookLine | undefined)[]> {
    const keys = lines.map((l) => lineKey(l, me))
    const stored = await this.deps.store.getMany('ledger', keys)
    return keys.map((key, i) => {
      const row = tx?.hasSeen('ledger', key) ? tx.seen('ledger', key) : stored[i]
      return row === undefined || row === null ? undefined : bookLineOf(key, row)
    })
  }

  /** Our lines for receipts `fulfiller` wrote (hashes given), as booked, if they are. */
  async linesOfReceipts(tx: Tx, receipts: readonly Receipt[], hashes: readonly string[], fulfiller: ShopId): Promise<(BookLine | undefined)[]> {
    const lines: LedgerLine[] = []
    for (const [i, r] of receipts.entries()) {
      const terms = this.deps.federation.termsFor(r.terms)
      const line = terms ? feeLineFor(r, hashes[i] as string, fulfiller, terms.fee) : null
      if (line?.ok) lines.push(line.value)
      else
        lines.push({
          receipt: hashes[i] as string,
          kind: 'fee',
          origin: r.origin,
          order: r.order,
          debtor: r.origin,
          creditor: fulfiller,
          amount: r.amount,
          time: r.time,
          terms: r.terms,
        })
    }
    return this.linesFor(this.deps.me, lines, tx)
  }

  /**
   * Moves `books` with `tx` by one step of the protocol's line machine (balances follow once
   * durable). `statement` names the statement that moves them (null: the origin's judgement on
   * booking, mirrored by the fulfiller).
   */
  transition(tx: Tx, books: readonly BookLine[], event: LineEvent, statement: string | null, dispute: string | null = null): void {
    const moved: [BookLine, BookLine][] = []
    for (const book of books) {
      const step = lineStep(book.status, event)
      assert(step.ok, `line ${book.line.receipt}: ${step.ok ? '' : step.error.message}`)
      const next: BookLine = { ...book, status: step.value, statement: statement ?? book.statement, dispute: dispute ?? book.dispute }
      const key = lineKey(book.line, this.deps.me)
      tx.put('ledger', key, lineRow(next))
      // Leaving 'open' leaves the open-line index.
      if (book.status === 'open') tx.del('ledger', `o${key.slice(1)}`)
      moved.push([book, next])
    }
    if (moved.length > 0)
      tx.afterCommit(() => {
        for (const [before, after] of moved) {
          this.account(before, -1)
          this.account(after, 1)
        }
      })
  }

  async statement(hash: string, tx?: Tx): Promise<StatementState | undefined> {
    const key = statementKey(hash)
    if (tx?.hasSeen('ledger', key)) return (tx.seen('ledger', key) as StatementState | null) ?? undefined
    return parseOptionalRow(StatementStateView, 'ledger', key, await this.deps.store.get('ledger', key))
  }

  putStatement(tx: Tx, state: StatementState): void {
    tx.put('ledger', statementKey(state.hash), state)
  }

  async statements(): Promise<StatementState[]> {
    const out: StatementState[] = []
    for await (const [key, value] of this.deps.store.range('ledger', { gt: 's!', lt: 's!\xff' })) out.push(parseRow(StatementStateView, 'ledger', key, value))
    return out.sort((a, b) => a.statement.time - b.statement.time)
  }
}
