// Who is logged in to the operator console (D72). A one-time link, minted by `standin console`
// through the admin API (bearer token, this machine), or the admin token typed into the login form,
// opens a session: a random id in an HttpOnly, SameSite=Strict cookie, with its own CSRF token for
// every form. Links and sessions live in memory only, bounded: a restart logs everyone out, and
// nothing about them is on disk.
import { randomBytes } from 'node:crypto'
import { matchesSecret, type RotatingSecret, sameSecret } from '../../config/rotating-secret.js'

/** A one-time link works this long after `standin console` printed it. */
export const CONSOLE_LINK_TTL_MS = 10 * 60_000
/** Links printed and not used yet; minting one more forgets the oldest. */
export const MAX_CONSOLE_LINKS = 8
/** A session lasts this long after its login, however active. */
export const CONSOLE_SESSION_TTL_MS = 8 * 60 * 60_000
/** Sessions at once; a new login past this ends the oldest. */
export const MAX_CONSOLE_SESSIONS = 16
/** Random bytes in a link token, a session id and a CSRF token. */
const TOKEN_BYTES = 32

export interface ConsoleSession {
  readonly id: string
  readonly csrf: string
  readonly expiresAt: number
}

/** What the last form did, shown once on the page it leads back to. */
export interface ConsoleFlash {
  readonly ok: boolean
  readonly text: string
}
/** Longest flash text kept, in characters (an error message from a partner's terms can be long). */
const MAX_FLASH_CHARS = 2_000

const token = () => randomBytes(TOKEN_BYTES).toString('base64url')

export class ConsoleSessions {
  private readonly links = new Map<string, number>()
  private readonly sessions = new Map<string, ConsoleSession>()
  /** At most one per live session. */
  private readonly flashes = new Map<string, ConsoleFlash>()

  constructor(
    private readonly adminToken: RotatingSecret,
    private readonly now: () => number,
  ) {}

  /** A one-time link token, for `standin console`. */
  mintLink(): { token: string; expiresAt: number } {
    this.prune()
    if (this.links.size >= MAX_CONSOLE_LINKS) this.links.delete(this.links.keys().next().value as string)
    const t = token()
    const expiresAt = this.now() + CONSOLE_LINK_TTL_MS
    this.links.set(t, expiresAt)
    return { token: t, expiresAt }
  }

  /** Uses up a link token: a session, or null when it is unknown, used or expired. */
  redeemLink(t: string): ConsoleSession | null {
    const expiresAt = this.links.get(t)
    if (expiresAt === undefined) return null
    this.links.delete(t)
    return expiresAt > this.now() ? this.open() : null
  }

  /** The admin token typed into the login form: a session, or null. */
  loginWithToken(typed: string): ConsoleSession | null {
    return matchesSecret(typed, this.adminToken, this.now()) ? this.open() : null
  }

  /** The live session with this id, if any. */
  get(id: string | undefined): ConsoleSession | null {
    if (id === undefined) return null
    const session = this.sessions.get(id)
    if (!session) return null
    if (session.expiresAt <= this.now()) {
      this.end(id)
      return null
    }
    return session
  }

  checkCsrf(session: ConsoleSession, sent: string | undefined): boolean {
    return sent !== undefined && sameSecret(sent, session.csrf)
  }

  end(id: string): void {
    this.sessions.delete(id)
    this.flashes.delete(id)
  }

  /** Keeps what a form did for the next page of this session (a newer one replaces it). */
  flash(session: ConsoleSession, ok: boolean, text: string): void {
    if (this.sessions.has(session.id)) this.flashes.set(session.id, { ok, text: text.slice(0, MAX_FLASH_CHARS) })
  }

  /** The flash of this session, once. */
  takeFlash(session: ConsoleSession): ConsoleFlash | null {
    const flash = this.flashes.get(session.id) ?? null
    this.flashes.delete(session.id)
    return flash
  }

  private open(): ConsoleSession {
    this.prune()
    if (this.sessions.size >= MAX_CONSOLE_SESSIONS) this.end(this.sessions.keys().next().value as string)
    const session = { id: token(), csrf: token(), expiresAt: this.now() + CONSOLE_SESSION_TTL_MS }
    this.sessions.set(session.id, session)
    return session
  }

  private prune(): void {
    const now = this.now()
    for (const [t, expiresAt] of this.links) if (expiresAt <= now) this.links.delete(t)
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.end(id)
  }
}
