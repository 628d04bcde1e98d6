// Double-entry books per pair (DESIGN.md §7). Each receipt between us and a partner books one fee
// line, computed from the receipt and the terms it names so both sides book the identical line.
// Lines move open → stated → accepted → settled, or → disputed (never settled silently); a line is
// in at most one statement. Everything is keyed in the `ledger` section:
//   l!<counterparty>!<in|out>!<time>!<receipt hash>  a line (in: owed to us, out: owed by us)
//   r!<origin>!<order>!<fulfiller>                  receipt identity → hash (idempotency)
//   s!<statement hash>                              a statement and where it stands
import {
  feeLineFor,
  hashOf,
  type LedgerLine,
  MAX_STATEMENT_LINES,
  type Receipt,
  type ShopId,
  type Statement,
} from '../../protocol/index.js'
import type { Federation } from './federation.js'
import type { Logger, Store, StoreOp } from './ports.js'

export type LineStatus = 'open' | 'stated' | 'accepted' | 'disputed' | 'settled'

export interface BookLine {
  readonly line: LedgerLine
  readonly status: LineStatus
  readonly statement: string | null
  readonly dispute: string | null
}

export type StatementStatus = 'issued' | 'accepted' | 'paid' | 'settled'

export interface StatementState {
  readonly hash: string
  readonly statement: Statement
  /** issued: we are owed (creditor); received: we owe (debtor). */
  readonly role: 'issued' | 'received'
  readonly status: StatementStatus
  readonly disputed: readonly { receipt: string; reason: string; note: string }[]
  /** Lines the receiving side could not match against its own books (suggested disputes). */
  readonly mismatches: readonly { receipt: string; reason: string }[]
  readonly acceptedMinorUnits: number | null
  readonly payment: { reference: string; minorUnits: number } | null
  readonly settledAt: number | null
}

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

const pad = (ms: number) => String(ms).padStart(15, '0')
export const lineKey = (line: LedgerLine, me: ShopId) => {
  const inbound = line.creditor === me
  return `l!${inbound ? line.debtor : line.creditor}!${inbound ? 'in' : 'out'}!${pad(line.time)}!${line.receipt}`
}
const identityKey = (r: Receipt, fulfiller: ShopId) => `r!${r.origin}!${r.order}!${fulfiller}`
export const statementKey = (hash: string) => `s!${hash}`

export class Books {
  private readonly balances = new Map<string, Balance>()

  constructor(
    private readonly deps: { readonly me: ShopId; readonly store: Store; readonly federation: Federation; readonly logger: Logger },
  ) {}

  async load(): Promise<void> {
    for await (const [, book] of this.deps.store.range<BookLine>('ledger', { gt: 'l!', lt: 'l!\xff' })) this.account(book, 1)
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
   * Ops booking a receipt between us and a partner. Idempotent: the same receipt again books
   * nothing; another receipt for the same (origin, order, fulfiller) is a typed conflict.
   */
  async bookReceipt(receipt: Receipt, fulfiller: ShopId, staged: Map<string, string>): Promise<StoreOp[]> {
    const me = this.deps.me
    if (receipt.origin !== me && fulfiller !== me) return []
    const hash = hashOf(receipt)
    const id = identityKey(receipt, fulfiller)
    const known = staged.get(id) ?? (await this.deps.store.get<{ hash: string }>('ledger', id))?.hash
    if (known === hash) return []
    if (known !== undefined) throw new ConflictingReceiptError(`receipt for order ${receipt.order} by ${fulfiller} already booked with different content`)
    const terms = this.deps.federation.termsFor(receipt.terms)
    if (!terms) throw new ConflictingReceiptError(`receipt for order ${receipt.order} names terms we never signed`)
    const line = feeLineFor(receipt, hash, fulfiller, terms.fee)
    if (!line.ok) throw new ConflictingReceiptError(`receipt for order ${receipt.order}: ${line.error.message}`)
    staged.set(id, hash)
    const book: BookLine = { line: line.value, status: 'open', statement: null, dispute: null }
    this.account(book, 1)
    return [
      { type: 'put', section: 'ledger', key: id, value: { hash } },
      { type: 'put', section: 'ledger', key: lineKey(line.value, me), value: book },
    ]
  }

  /** Open lines owed to us by `counterparty` in `currency`, oldest first, up to one statement. */
  async openLines(counterparty: ShopId, currency: string, untilMs: number): Promise<BookLine[]> {
    const out: BookLine[] = []
    for await (const [, book] of this.deps.store.range<BookLine>('ledger', { gt: `l!${counterparty}!in!`, lte: `l!${counterparty}!in!${pad(untilMs)}!\xff` })) {
      if (book.status === 'open' && book.line.amount.currency === currency) out.push(book)
      if (out.length >= MAX_STATEMENT_LINES) break
    }
    return out
  }

  async linesFor(me: ShopId, lines: readonly LedgerLine[], staged?: ReadonlyMap<string, unknown>): Promise<(BookLine | undefined)[]> {
    const keys = lines.map((l) => lineKey(l, me))
    const stored = await this.deps.store.getMany<BookLine>('ledger', keys)
    return keys.map((key, i) => (staged?.get(key) as BookLine | undefined) ?? stored[i])
  }

  /** Ops moving `books` to `status` (and keeping the running balances right). */
  transition(books: readonly BookLine[], status: LineStatus, statement: string | null, dispute: string | null = null): StoreOp[] {
    return books.map((book) => {
      this.account(book, -1)
      const next: BookLine = { ...book, status, statement: statement ?? book.statement, dispute: dispute ?? book.dispute }
      this.account(next, 1)
      return { type: 'put', section: 'ledger', key: lineKey(book.line, this.deps.me), value: next }
    })
  }

  async statement(hash: string, staged?: ReadonlyMap<string, unknown>): Promise<StatementState | undefined> {
    return (staged?.get(statementKey(hash)) as StatementState | undefined) ?? this.deps.store.get<StatementState>('ledger', statementKey(hash))
  }

  async statements(): Promise<StatementState[]> {
    const out: StatementState[] = []
    for await (const [, state] of this.deps.store.range<StatementState>('ledger', { gt: 's!', lt: 's!\xff' })) out.push(state)
    return out.sort((a, b) => a.statement.time - b.statement.time)
  }
}
