// The statement exchange, driven as operators would with `standin settle …`: every creditor
// states what each partner owes it, the debtor accepts (disputing the lines its node says do not
// match its books), pays with a reference, and the creditor confirms. A node may be SIGKILLed at
// any step, so every step is attempted, and a refusal or a dead node only means "next round".
import { cliAsync } from '../integration/cluster.js'
import type { Federation } from '../integration/federation-env.js'
import type { Log } from './faults.js'

/** Mismatch reasons the node reports that are also dispute reasons. */
const REASONS = new Set(['unknown-receipt', 'wrong-amount', 'duplicate'])

interface Summary {
  hash: string
  id: string
  role: 'issued' | 'received'
  status: 'issued' | 'accepted' | 'paid' | 'settled'
  issuer: string
  counterparty: string
}

export interface SettleCounts {
  issued: number
  accepted: number
  paid: number
  confirmed: number
  /** Lines a debtor's node found not matching its books when the statement arrived (disputed). */
  mismatchedLines: number
  /** Steps that failed (node down, statement not replicated yet, …): retried in a later round. */
  failed: number
}

export function newSettleCounts(): SettleCounts {
  return { issued: 0, accepted: 0, paid: 0, confirmed: 0, mismatchedLines: 0, failed: 0 }
}

async function statements(f: Federation, name: string): Promise<Summary[]> {
  return (await f.cluster.admin<{ statements: Summary[] }>(name, '/v1/admin/statements')).statements
}

/** One CLI step; failures are counted, never thrown (the node may be dead right now). */
async function step(counts: SettleCounts, log: Log, what: 'accepted' | 'paid' | 'confirmed', args: string[]): Promise<void> {
  try {
    await cliAsync(args)
    counts[what]++
  } catch (error) {
    counts.failed++
    log(`${args.slice(0, 2).join(' ')} failed: ${String(error).split('\n')[0]?.slice(0, 160)}`)
  }
}

/** Moves every statement of the federation one step on, and issues new ones for open lines. */
export async function settleRound(f: Federation, names: readonly string[], counts: SettleCounts, log: Log): Promise<void> {
  // Each shop's operator works on its own node; the three work at the same time.
  await Promise.all(names.map((name) => settleAt(f, name, names, counts, log)))
}

// Statements are named by id (`st-…`) as `settle statements` shows them: a hash may begin with
// '-', which the CLI would read as an option.
async function settleAt(f: Federation, name: string, names: readonly string[], counts: SettleCounts, log: Log): Promise<void> {
  const dir = f.cluster.node(name).dir
  let mine: Summary[]
  try {
    mine = await statements(f, name)
  } catch {
    counts.failed++
    return
  }
  for (const s of mine) {
    if (s.role === 'received' && s.status === 'issued') {
      const view = await f.cluster.admin<{ mismatches: { receipt: string; reason: string }[] }>(name, `/v1/admin/statements/${s.hash}`).catch(() => null)
      const mismatches = view?.mismatches ?? []
      counts.mismatchedLines += mismatches.length
      const disputes = mismatches.flatMap((m) => ['--dispute', `${m.receipt}:${REASONS.has(m.reason) ? m.reason : 'other'}:does not match our books`])
      await step(counts, log, 'accepted', ['settle', 'accept', s.id, '-d', dir, ...disputes])
    } else if (s.role === 'received' && s.status === 'accepted') {
      await step(counts, log, 'paid', ['settle', 'pay', s.id, '--reference', `chaos transfer ${s.id}`, '-d', dir])
    } else if (s.role === 'issued' && s.status === 'paid') {
      await step(counts, log, 'confirmed', ['settle', 'confirm', s.id, '-d', dir])
    }
  }
  for (const partner of names) {
    if (partner === name) continue
    // `issue` says so when nothing is open; only a printed statement counts as issued.
    try {
      const out = await cliAsync(['settle', 'issue', `Shop ${partner}`, '-d', dir])
      if (out.startsWith('STATEMENT')) counts.issued++
    } catch (error) {
      counts.failed++
      log(`settle issue at ${name} failed: ${String(error).split('\n')[0]?.slice(0, 160)}`)
    }
  }
}
