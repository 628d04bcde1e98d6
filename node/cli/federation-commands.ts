// invite, join and terms: how shops exchange cards and sign the agreement. Tokens travel between
// operators once (invites, the first terms); running nodes pass later signatures on (D65).
import { say } from './locale.js'
import { decodeToken, encodeToken, TOKEN_PREFIX, formatZodError, type ShopCard, type Signed } from '../../protocol/index.js'
import { existsSync, readFileSync } from 'node:fs'
import { setTimeout as delay } from 'node:timers/promises'
import type { SelfStatus } from '../core/api-schemas.js'
import { admin, partnerId } from './local-commands.js'
import { NodeNotRunningError, WaitTimedOutError } from './node-request.js'
import { WaitArg } from './status-command.js'
import { JoinArgs } from './schemas.js'
import { ownCard, TermsInputError, TermsService } from '../terms/service.js'
import type { TermsResult } from '../terms/schemas.js'
import { TermsBook } from '../terms/book.js'
import { DataDir } from '../datadir.js'
import { draftTerms } from './terms-draft.js'

export function invite(dirPath: string): string {
  return encodeToken({ kind: 'invite', card: ownCard(new DataDir(dirPath), Date.now()) })
}

export function join(raw: { dir: string; tokens: string[]; preset: string; id: string; termsFile?: string; sku?: string[]; cap?: string }): TermsResult {
  const args = JoinArgs.safeParse(raw)
  if (!args.success) throw new Error(`arguments: ${formatZodError(args.error)}`)
  const dir = new DataDir(args.data.dir)
  const now = Date.now()
  const me = ownCard(dir, now)
  const parties = [me.body.id]
  const cards: Signed<ShopCard>[] = []
  for (const [i, text] of args.data.tokens.entries()) {
    const token = decodeToken(tokenText(text))
    if (!token.ok) throw new Error(`token ${i + 1}: ${token.error.message}`)
    cards.push(...(token.value.kind === 'invite' ? [token.value.card] : token.value.cards))
  }
  parties.push(...cards.map((card) => card.body.id))
  if (new Set(parties).size < 2) throw new Error("join needs at least one other shop's invite token")
  const skus = args.data.sku.map((s) => ({
    shop: me.body.id,
    sku: s.sku,
    allotmentCap: args.data.cap,
    unitValue: { minorUnits: s.unitMinorUnits, currency: 'CNY' },
  }))
  const terms = draftTerms({ id: args.data.id, parties, preset: args.data.preset, nowMs: now, termsFile: args.data.termsFile, skus })
  // Partners' cards are stored only once the terms are valid, so a refused terms file writes nothing.
  return new TermsService(dir).propose1(terms, cards, now)
}

/** A token given on the command line, or the path of a file holding one (`> terms.token`). */
export function tokenText(arg: string): string {
  if (arg.trim().startsWith(TOKEN_PREFIX)) return arg
  if (!existsSync(arg)) throw new Error(`${arg}: neither a token (${TOKEN_PREFIX}…) nor a file holding one`)
  return readFileSync(arg, 'utf8')
}

function namesIn(dir: DataDir): Map<string, string> {
  return new Map(dir.cards().map((c) => [c.body.id, c.body.name]))
}

/**
 * Signs terms: from a token (or a file holding one) another party sent, or, without one, the
 * single proposal a partner's node passed to ours (`terms list` shows it), or one named by hash.
 */
export function accept(dirPath: string, arg?: string): TermsResult {
  const service = new TermsService(new DataDir(dirPath))
  const isToken = arg !== undefined && (arg.trim().startsWith(TOKEN_PREFIX) || existsSync(arg))
  return termsCall(() => service.accept(isToken ? { token: tokenText(arg).trim() } : arg === undefined ? {} : { hash: arg }, Date.now()))
}

/** The next revision of the terms in force, with skus of ours added or removed; signed by us. */
export function propose(raw: { dir: string; addSku: string[]; removeSku: string[]; cap?: string; removeParty?: string[]; addParty?: string[] }): TermsResult {
  const dir = new DataDir(raw.dir)
  const service = new TermsService(dir)
  const removeParties = (raw.removeParty ?? []).map((who) => partnerId(dir, who))
  const addParties = (raw.addParty ?? []).map(tokenText)
  return termsCall(() => service.propose({ addSkus: raw.addSku, removeSkus: raw.removeSku, cap: raw.cap, removeParties, addParties }, Date.now()))
}

/** Input errors read as the CLI's own (`arguments: addSkus.0: …`). */
function termsCall(call: () => TermsResult): TermsResult {
  try {
    return call()
  } catch (error) {
    if (error instanceof TermsInputError) throw new Error(`arguments: ${error.message}`)
    throw error
  }
}

const STATE_TEXT = { 'in-force': 'cli.terms.inForce', superseded: 'cli.terms.superseded', signed: 'cli.terms.signed' } as const

export function listTerms(dirPath: string): string {
  const dir = new DataDir(dirPath)
  const names = namesIn(dir)
  const book = new TermsBook(dir, dir.keys().identity)
  const waitingForUs = book.awaitingUs(Date.now()).length
  const rows = book.held(Date.now()).map((h) => {
    const terms = h.agreement.terms
    const skus = terms.skus.map((s) => `${names.get(s.shop) ?? s.shop}:${s.sku}`).join(' ') || '-'
    const state =
      h.state === 'waiting'
        ? h.signedByUs
          ? say('cli.terms.waitingFor', { names: h.missing.map((m) => names.get(m) ?? m).join(', ') })
          : say('cli.terms.waitingForUs', {
              command: `standin terms accept${waitingForUs === 1 ? '' : ` ${h.hash.startsWith('-') ? '-- ' : ''}${h.hash.slice(0, 12)}`}`,
            })
        : say(STATE_TEXT[h.state])
    return say('cli.terms.row', {
      hash: h.hash.slice(0, 12),
      id: terms.id,
      revision: String(terms.revision),
      parties: terms.parties.map((p) => names.get(p) ?? p).join(', '),
      skus,
      state,
    })
  })
  return rows.length > 0 ? rows.join('\n') : say('cli.terms.none')
}

/** Between two looks while `terms list --wait` waits. */
const TERMS_WAIT_POLL_MS = 500

/**
 * `terms list --wait <s>`: returns the list once no terms we signed wait for anyone and, if the node
 * runs, it runs on the newest terms in force (it changes engines within a second of the last
 * signature, D67). Throws after `seconds`, naming who has not signed.
 */
export async function waitForTerms(dirPath: string, rawSeconds: string): Promise<string> {
  const seconds = WaitArg.safeParse(rawSeconds)
  if (!seconds.success) throw new Error(`arguments: --wait: ${formatZodError(seconds.error)}`)
  const dir = new DataDir(dirPath)
  const book = new TermsBook(dir, dir.keys().identity)
  const names = namesIn(dir)
  const deadline = Date.now() + seconds.data * 1000
  let waitingFor = ''
  while (Date.now() < deadline) {
    const held = book.held(Date.now())
    const open = held.filter((h) => h.state === 'waiting' && h.signedByUs && h.agreement.terms.expiresAt > Date.now())
    const inForce = held.find((h) => h.state === 'in-force')
    if (open.length > 0) waitingFor = `signatures of ${[...new Set(open.flatMap((h) => h.missing))].map((m) => names.get(m) ?? m).join(', ')}`
    else if (inForce) {
      const running = await admin<SelfStatus>(dir, '/v1/admin/self').then(
        (self) => self.terms.hash,
        (error: unknown) => {
          if (error instanceof NodeNotRunningError) return inForce.hash
          throw error
        },
      )
      if (running === inForce.hash) return listTerms(dirPath)
      waitingFor = 'the node to run on the terms in force'
    } else waitingFor = 'terms in force'
    await delay(TERMS_WAIT_POLL_MS)
  }
  throw new WaitTimedOutError(waitingFor, seconds.data)
}

export function showTerms(dirPath: string, hashPrefix: string): string {
  const matches = new DataDir(dirPath).agreements().filter((a) => a.hash.startsWith(hashPrefix))
  if (matches.length !== 1) throw new Error(`${matches.length} agreements match ${hashPrefix}`)
  return JSON.stringify(matches[0]?.agreement, null, 2)
}
