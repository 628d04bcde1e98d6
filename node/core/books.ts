// Double-entry books per pair (DESIGN.md §7). Each receipt between us and a partner books one fee
// line, computed from the receipt and the terms it names so both sides book the identical line.
// Lines move open → stated → accepted → settled, or → disputed (never settled silently); a line is
// in at most one statement. Everything is keyed in the `ledger` section:
//   l!<counterparty>!<in|out>!<time>!<receipt hash>  a line (in: owed to us, out: owed by us)
//   r!<origin>!<order>!<fulfiller>                  receipt identity → hash (idempotency)
//   o!<counterparty>!in!<time>!<receipt hash>       index of lines still open and owed to us
//   s!<statement hash>                              a statement and where it stands
import {
  feeLineFor,
  hashOf,
  type LedgerLine,
  MAX_STATEMENT_LINES,
  type Receipt,
  type ShopId,
  type StatementStateView,
} from '../../protocol/index.js'
import type { Federation } from './federation.js'
import type { Logger, Store, StoreOp } from './ports.js'

export type LineStatus = 'open' | 'stated' | 'accepted' | 'disputed' | 'settled'

export interface BookLine {
  readonly line: LedgerLine
  readonly status: LineStatus
  readonly statement: string | null
  /** The statement whose answer disputed it, or (statement null) why we disputed it on booking. */
  readonly dispute: string | null
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
   * Ops booking receipts between us and a partner. Idempotent: the same receipt again books
   * nothing; another receipt for the same (origin, order, fulfiller) is a typed conflict.
   * `hashes[i]` is receipts[i]'s hash when the caller has it already (hashing is the hot cost).
   */
  async bookReceipts(receipts: readonly Receipt[], fulfiller: ShopId, staged: Map<string, string>, hashes?: readonly string[], dispute: string | null = null): Promise<StoreOp[]> {
    const me = this.deps.me
    const mine = receipts.map((r, i) => ({ r, i })).filter(({ r }) => r.origin === me || fulfiller === me)
    const ids = mine.map(({ r }) => identityKey(r, fulfiller))
    const stored = await this.deps.store.getMany<{ hash: string }>('ledger', ids.filter((id) => !staged.has(id)))
    const storedById = new Map(ids.filter((id) => !staged.has(id)).map((id, k) => [id, stored[k]?.hash]))
    const ops: StoreOp[] = []
    mine.forEach(({ r, i }, k) => {
      const hash = hashes?.[i] ?? hashOf(r)
      const id = ids[k] as string
      const known = staged.get(id) ?? storedById.get(id)
      if (known === hash) return
      if (known !== undefined) throw new ConflictingReceiptError(`receipt for order ${r.order} by ${fulfiller} already booked with different content`)
      const terms = this.deps.federation.termsFor(r.terms)
      if (!terms) throw new ConflictingReceiptError(`receipt for order ${r.order} names terms we never signed`)
      const line = feeLineFor(r, hash, fulfiller, terms.fee)
      if (!line.ok) throw new ConflictingReceiptError(`receipt for order ${r.order}: ${line.error.message}`)
      staged.set(id, hash)
      const book: BookLine = { line: line.value, status: dispute === null ? 'open' : 'disputed', statement: null, dispute }
      this.account(book, 1)
      const key = lineKey(line.value, me)
      ops.push({ type: 'put', section: 'ledger', key: id, value: { hash } }, { type: 'put', section: 'ledger', key, value: book })
      if (line.value.creditor === me && dispute === null) ops.push({ type: 'put', section: 'ledger', key: `o${key.slice(1)}`, value: 1 })
    })
    return ops
  }

  /** One receipt; `dispute` books its line disputed at once, with that reason (the origin's refusal). */
  async bookReceipt(receipt: Receipt, fulfiller: ShopId, staged: Map<string, string>, hash?: string, dispute: string | null = null): Promise<StoreOp[]> {
    return this.bookReceipts([receipt], fulfiller, staged, hash === undefined ? undefined : [hash], dispute)
  }

  /**
   * Open lines owed to us by `counterparty` in `currency`, oldest first, up to one statement.
   * Read through the open-line index (o!…), so stating a long history never rescans stated lines.
   */
  async openLines(counterparty: ShopId, currency: string, untilMs: number): Promise<BookLine[]> {
    const keys: string[] = []
    for await (const [key] of this.deps.store.range<number>('ledger', { gt: `o!${counterparty}!in!`, lte: `o!${counterparty}!in!${pad(untilMs)}!\xff`, limit: MAX_STATEMENT_LINES * 2 })) keys.push(`l${key.slice(1)}`)
    const books = await this.deps.store.getMany<BookLine>('ledger', keys)
    return books.filter((b): b is BookLine => b !== undefined && b.status === 'open' && b.line.amount.currency === currency).slice(0, MAX_STATEMENT_LINES)
  }

  async linesFor(me: ShopId, lines: readonly LedgerLine[], staged?: ReadonlyMap<string, unknown>): Promise<(BookLine | undefined)[]> {
    const keys = lines.map((l) => lineKey(l, me))
    const stored = await this.deps.store.getMany<BookLine>('ledger', keys)
    return keys.map((key, i) => (staged?.get(key) as BookLine | undefined) ?? stored[i])
  }

  /** Ops moving `books` to `status` (and keeping the running balances right). */
  transition(books: readonly BookLine[], status: LineStatus, statement: string | null, dispute: string | null = null): StoreOp[] {
    return books.flatMap((book): StoreOp[] => {
      this.account(book, -1)
      const next: BookLine = { ...book, status, statement: statement ?? book.statement, dispute: dispute ?? book.dispute }
      this.account(next, 1)
      const key = lineKey(book.line, this.deps.me)
      const put: StoreOp = { type: 'put', section: 'ledger', key, value: next }
      // Leaving 'open' leaves the open-line index.
      return book.status === 'open' && status !== 'open' ? [put, { type: 'del', section: 'ledger', key: `o${key.slice(1)}` }] : [put]
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
