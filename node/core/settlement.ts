// Statements between a pair (docs/design.md §7): the creditor issues, the debtor accepts or disputes
// lines, the debtor records an off-network payment, the creditor confirms. Every step is a record
// in the actor's feed, applied by the other side when it replicates; both books move in step.
import { type DisputedLine, hashOf, type Money, type ShopId, type Statement } from '../../protocol/index.js'
import { RefusedError } from './api.js'
import type { Federation } from './federation.js'
import type { FeedWriter } from './feed-writer.js'
import type { EventSink } from './events.js'
import type { Clock, Logger, Rng } from './ports.js'
import type { BookLine, Books, StatementState } from './state/ledger.js'
import { Tx } from './state/tx.js'

/** A statement's lines as the fee lines of the books they name (the issuer is owed, the counterparty owes). */
export function feeLinesOf(s: Statement) {
  return s.lines.map((l) => ({
    receipt: l.receipt,
    kind: 'fee' as const,
    origin: l.origin,
    order: l.order,
    debtor: s.counterparty,
    creditor: s.issuer,
    amount: { minorUnits: l.minorUnits, currency: s.currency },
    time: l.time,
    terms: s.terms,
  }))
}

export class Settlement {
  constructor(
    private readonly deps: {
      readonly me: ShopId
      readonly books: Books
      readonly writer: FeedWriter
      readonly federation: Federation
      readonly clock: Clock
      readonly rng: Rng
      readonly logger: Logger
      readonly emit: EventSink
      /** Writes a unit that goes with no feed entry. */
      readonly commit: (tx: Tx) => Promise<void>
    },
  ) {}

  private async mustGet(hash: string, role: 'issued' | 'received'): Promise<StatementState> {
    const state = await this.deps.books.statement(hash)
    if (!state || state.role !== role) throw new RefusedError(`no statement ${hash.slice(0, 12)} that we ${role === 'issued' ? 'issued' : 'received'}`)
    return state
  }

  /** States the open lines `counterparty` owes us, up to `untilMs`. Null when nothing is open. */
  async issue(counterparty: ShopId, untilMs: number = this.deps.clock.now()): Promise<StatementState | null> {
    const fed = this.deps.federation
    if (!fed.isPartner(counterparty)) throw new RefusedError(`${counterparty} is not a partner`)
    const currency = fed.terms.settlement.currency
    const open = await this.deps.books.openLines(counterparty, currency, untilMs)
    if (open.length === 0) return null
    const statement: Statement = {
      id: `st-${Buffer.from(this.deps.rng.bytes(6)).toString('hex')}`,
      issuer: this.deps.me,
      counterparty,
      currency,
      terms: fed.termsHash,
      period: { fromMs: (open[0] as BookLine).line.time, toMs: Math.max(untilMs, (open.at(-1) as BookLine).line.time + 1) },
      lines: open.map((b) => ({
        receipt: b.line.receipt,
        origin: b.line.origin,
        order: b.line.order,
        fulfiller: b.line.creditor,
        minorUnits: b.line.amount.minorUnits,
        time: b.line.time,
      })),
      totalMinorUnits: open.reduce((n, b) => n + b.line.amount.minorUnits, 0),
      time: this.deps.clock.now(),
    }
    const hash = hashOf(statement)
    const state: StatementState = {
      hash,
      statement,
      role: 'issued',
      status: 'issued',
      disputed: [],
      mismatches: [],
      acceptedMinorUnits: null,
      payment: null,
      settledAt: null,
    }
    const tx = new Tx()
    this.deps.books.transition(tx, open, 'state', hash)
    this.deps.books.putStatement(tx, state)
    await this.deps.writer.append([{ type: 'statement', statement }], [], tx)
    return state
  }

  /** The debtor's answer: accept, with any lines disputed (carried out into a dispute record). */
  async accept(hash: string, disputes: readonly DisputedLine[]): Promise<StatementState> {
    const state = await this.mustGet(hash, 'received')
    if (state.status !== 'issued') throw new RefusedError(`statement ${state.statement.id} was already answered`)
    const listed = new Set(state.statement.lines.map((l) => l.receipt))
    for (const d of disputes) if (!listed.has(d.receipt)) throw new RefusedError(`receipt ${d.receipt.slice(0, 12)} is not on statement ${state.statement.id}`)
    const disputed = new Set(disputes.map((d) => d.receipt))
    // A line that does not match our books is never accepted (and paid) by default: altered
    // amounts, receipts we never booked or booked disputed, lines stated twice must be disputed.
    const unanswered = state.mismatches.filter((m) => !disputed.has(m.receipt))
    if (unanswered.length > 0)
      throw new RefusedError(
        `${unanswered.length} lines of statement ${state.statement.id} do not match our books: dispute them (${unanswered.map((m) => `${m.receipt.slice(0, 10)} ${m.reason}`).join(', ')})`,
      )
    const books = await this.booksOf(state)
    const acceptedMinorUnits = state.statement.lines.filter((l) => !disputed.has(l.receipt)).reduce((n, l) => n + l.minorUnits, 0)
    const next: StatementState = { ...state, status: 'accepted', disputed: disputes.map((d) => ({ ...d })), acceptedMinorUnits }
    const records = [
      ...(disputes.length > 0 ? [{ type: 'dispute' as const, issuer: state.statement.issuer, statement: hash, lines: [...disputes] }] : []),
      { type: 'statement.accepted' as const, issuer: state.statement.issuer, statement: hash },
    ]
    const tx = new Tx()
    this.deps.books.transition(
      tx,
      books.filter((b) => disputed.has(b.line.receipt) && b.status !== 'settled' && b.status !== 'accepted'),
      'dispute',
      hash,
      hash,
    )
    this.deps.books.transition(
      tx,
      books.filter((b) => !disputed.has(b.line.receipt) && b.status === 'stated' && b.statement === hash),
      'accept',
      hash,
    )
    this.deps.books.putStatement(tx, next)
    await this.deps.writer.append(records, [], tx)
    return next
  }

  /** The debtor paid outside the network: the reference goes into its feed. */
  async pay(hash: string, reference: string): Promise<StatementState> {
    const state = await this.mustGet(hash, 'received')
    if (state.status !== 'accepted') throw new RefusedError(`statement ${state.statement.id} must be accepted before it is paid (it is ${state.status})`)
    const minorUnits = state.acceptedMinorUnits ?? 0
    const next: StatementState = { ...state, status: 'paid', payment: { reference, minorUnits } }
    const tx = new Tx()
    this.deps.books.putStatement(tx, next)
    await this.deps.writer.append(
      [{ type: 'payment.recorded', payee: state.statement.issuer, statement: hash, amount: { minorUnits, currency: state.statement.currency }, reference }],
      [],
      tx,
    )
    return next
  }

  /** The creditor confirms the payment arrived: the accepted lines are settled on both sides. */
  async confirm(hash: string): Promise<StatementState> {
    const state = await this.mustGet(hash, 'issued')
    if (state.status !== 'paid' || !state.payment)
      throw new RefusedError(`statement ${state.statement.id} has no recorded payment to confirm (it is ${state.status})`)
    const books = (await this.booksOf(state)).filter((b) => b.status === 'accepted')
    const next: StatementState = { ...state, status: 'settled', settledAt: this.deps.clock.now() }
    const tx = new Tx()
    this.deps.books.transition(tx, books, 'settle', hash)
    this.deps.books.putStatement(tx, next)
    await this.deps.writer.append(
      [{ type: 'payment.confirmed', payer: state.statement.counterparty, statement: hash, reference: state.payment.reference }],
      [],
      tx,
    )
    return next
  }

  private async booksOf(state: StatementState, tx?: Tx): Promise<BookLine[]> {
    return (await this.deps.books.linesFor(this.deps.me, feeLinesOf(state.statement), tx)).filter(
      (b): b is BookLine => b !== undefined && b.line.receipt !== undefined,
    )
  }

  // ---- applying the other side's records ----

  /** A statement addressed to us: match every line against our own books. */
  async onStatement(tx: Tx, author: ShopId, statement: Statement): Promise<void> {
    if (statement.issuer !== author || statement.counterparty !== this.deps.me) return
    const hash = hashOf(statement)
    if (await this.deps.books.statement(hash, tx)) return
    const { matched, mismatches } = await this.match(tx, hash, statement, new Set(statement.lines.map((l) => l.receipt)))
    const state: StatementState = {
      hash,
      statement,
      role: 'received',
      status: 'issued',
      disputed: [],
      mismatches,
      acceptedMinorUnits: null,
      payment: null,
      settledAt: null,
    }
    if (mismatches.length > 0)
      this.deps.logger.warn({ statement: statement.id, mismatches: mismatches.length }, 'statement lines that do not match our books: dispute them')
    this.deps.books.transition(tx, matched, 'state', hash)
    this.deps.books.putStatement(tx, state)
    const event = { kind: 'statement-received', from: author, statement: statement.id, lines: statement.lines.length, mismatches: mismatches.length } as const
    tx.afterCommit(() => this.deps.emit(this.deps.clock.now(), event))
  }

  /** Matches the statement's lines named in `which` against our books: the ones we booked open, and the rest with why. */
  private async match(
    tx: Tx,
    hash: string,
    statement: Statement,
    which: ReadonlySet<string>,
  ): Promise<{ matched: BookLine[]; mismatches: { receipt: string; reason: string }[] }> {
    const books = await this.booksOf({ hash, statement } as StatementState, tx)
    const byReceipt = new Map(books.map((b) => [b.line.receipt, b]))
    const mismatches: { receipt: string; reason: string }[] = []
    const matched: BookLine[] = []
    for (const line of statement.lines) {
      if (!which.has(line.receipt)) continue
      const book = byReceipt.get(line.receipt)
      // The receipt as the line describes it (order, origin, fulfiller) must be the one we booked.
      if (!book || book.line.order !== line.order || book.line.origin !== line.origin || line.fulfiller !== statement.issuer)
        mismatches.push({ receipt: line.receipt, reason: 'unknown-receipt' })
      else if (book.line.amount.minorUnits !== line.minorUnits) mismatches.push({ receipt: line.receipt, reason: 'wrong-amount' })
      else if (book.status === 'disputed' && book.statement === null)
        mismatches.push({ receipt: line.receipt, reason: book.dispute ?? 'other' }) // refused on booking
      else if (book.status !== 'open') mismatches.push({ receipt: line.receipt, reason: 'duplicate' })
      else matched.push(book)
    }
    return { matched, mismatches }
  }

  /**
   * Receipts we held (their epoch's authority reached us after them) may be booked only after a
   * statement naming them arrived: unanswered statements match their unknown lines again.
   */
  async rematch(): Promise<void> {
    const tx = new Tx()
    for (const state of await this.deps.books.statements()) {
      if (state.role !== 'received' || state.status !== 'issued') continue
      const unknown = new Set(state.mismatches.filter((m) => m.reason === 'unknown-receipt').map((m) => m.receipt))
      if (unknown.size === 0) continue
      const { matched, mismatches } = await this.match(tx, state.hash, state.statement, unknown)
      if (matched.length === 0 && mismatches.length === unknown.size) continue
      this.deps.books.transition(tx, matched, 'state', state.hash)
      this.deps.books.putStatement(tx, { ...state, mismatches: [...state.mismatches.filter((m) => !unknown.has(m.receipt)), ...mismatches] })
    }
    await this.deps.commit(tx)
  }

  async onDispute(tx: Tx, author: ShopId, statementHash: string, lines: readonly DisputedLine[]): Promise<void> {
    const state = await this.deps.books.statement(statementHash, tx)
    if (!state || state.role !== 'issued' || state.statement.counterparty !== author) return
    const disputed = new Set(lines.map((l) => l.receipt))
    const books = (await this.booksOf(state, tx)).filter((b) => disputed.has(b.line.receipt) && b.status === 'stated')
    this.deps.logger.warn({ statement: state.statement.id, lines: lines.length }, 'counterparty disputed statement lines')
    this.deps.books.transition(tx, books, 'dispute', statementHash, statementHash)
    this.deps.books.putStatement(tx, { ...state, disputed: lines.map((l) => ({ ...l })) })
    const event = { kind: 'statement-disputed', by: author, statement: state.statement.id, lines: lines.length } as const
    tx.afterCommit(() => this.deps.emit(this.deps.clock.now(), event))
  }

  async onAccepted(tx: Tx, author: ShopId, statementHash: string): Promise<void> {
    const state = await this.deps.books.statement(statementHash, tx)
    if (!state || state.role !== 'issued' || state.statement.counterparty !== author || state.status !== 'issued') return
    const disputed = new Set(state.disputed.map((d) => d.receipt))
    const books = (await this.booksOf(state, tx)).filter((b) => b.status === 'stated' && !disputed.has(b.line.receipt))
    const acceptedMinorUnits = state.statement.lines.filter((l) => !disputed.has(l.receipt)).reduce((n, l) => n + l.minorUnits, 0)
    this.deps.books.transition(tx, books, 'accept', statementHash)
    this.deps.books.putStatement(tx, { ...state, status: 'accepted', acceptedMinorUnits })
  }

  async onPaymentRecorded(tx: Tx, author: ShopId, statementHash: string, amount: Money, reference: string): Promise<void> {
    const state = await this.deps.books.statement(statementHash, tx)
    if (!state || state.role !== 'issued' || state.statement.counterparty !== author || state.status !== 'accepted') return
    // Only a payment of exactly what was accepted can be confirmed: anything else stays unpaid.
    if (amount.minorUnits !== state.acceptedMinorUnits || amount.currency !== state.statement.currency) {
      this.deps.logger.warn(
        { statement: state.statement.id, paid: amount, accepted: state.acceptedMinorUnits },
        'payment recorded for another amount than accepted: refused, the statement stays unpaid',
      )
      return
    }
    this.deps.books.putStatement(tx, { ...state, status: 'paid', payment: { reference, minorUnits: amount.minorUnits } })
  }

  async onPaymentConfirmed(tx: Tx, author: ShopId, statementHash: string): Promise<void> {
    const state = await this.deps.books.statement(statementHash, tx)
    if (!state || state.role !== 'received' || state.statement.issuer !== author || state.status !== 'paid') return
    const books = (await this.booksOf(state, tx)).filter((b) => b.status === 'accepted')
    this.deps.books.transition(tx, books, 'settle', statementHash)
    this.deps.books.putStatement(tx, { ...state, status: 'settled', settledAt: this.deps.clock.now() })
  }
}
