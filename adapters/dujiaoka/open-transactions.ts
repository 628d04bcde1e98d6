// The list of open transactions (information_schema.INNODB_TRX), read so that it can be trusted.
//
// INNODB_TRX is not live. InnoDB serves it from one server-wide cache and refreshes that cache only
// when it has gone unread for 100 ms (trx0i_s.cc, CACHE_MIN_IDLE_TIME). Anyone who reads it more
// often (a second consignment polling, a monitoring agent) freezes it, and a frozen list misses
// every sale that began after it was filled: exactly the sales the settle step must wait for
// (stock.ts). So each read proves it filled the cache itself: it runs inside a transaction of its
// own and names a one-off token in its text, and it counts only if the list shows our thread
// running that very statement. Stale reads are retried until the caller's deadline. One reader
// serves every caller in the process and spaces its reads more than 100 ms apart, so concurrent
// consignments do not freeze the list for each other; callers waiting at the same time share a read.
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { z } from 'zod'
import { AdapterError } from '../contract.js'
import { type Pool, selectRows } from '../mysql/db.js'
import { RowId } from './schema.js'

/** InnoDB refreshes the list only after this long without a read; ours are spaced a bit wider. */
const CACHE_IDLE_MS = 100
const MIN_READ_SPACING_MS = 120
/** After a stale read, wait MIN_READ_SPACING_MS plus up to this much (random, to fall between another reader's reads). */
const STALE_JITTER_MS = 200
/** Callers waiting at once; consignments are few (one per partner request). */
const MAX_WAITERS = 256

/** A transaction is its session thread and its start second (read-only ones have no trx_id). */
export interface OpenTransaction {
  readonly thread: string
  readonly started: string
}

const TrxRow = z.object({ thread: RowId, started: z.string(), self: z.coerce.number().int(), fresh: z.coerce.number().int() })

interface Waiter {
  readonly deadlineMs: number
  readonly resolve: (transactions: OpenTransaction[]) => void
  readonly reject: (error: unknown) => void
}

export class OpenTransactionsReader {
  private readonly waiters: Waiter[] = []
  private reading = false
  private nextReadAtMs = Number.NEGATIVE_INFINITY

  constructor(private readonly pool: Pool) {}

  /**
   * The transactions open at some moment after this call, other than the reader's own. Rejects with
   * AdapterError('unavailable') if no fresh list could be read within `timeoutMs`.
   */
  read(timeoutMs: number): Promise<OpenTransaction[]> {
    if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs: ${timeoutMs} is not positive`)
    if (this.waiters.length >= MAX_WAITERS)
      return Promise.reject(new AdapterError('unavailable', `stock: ${MAX_WAITERS} consignments already wait for the list of open transactions; try again`))
    return new Promise((resolve, reject) => {
      this.waiters.push({ deadlineMs: performance.now() + timeoutMs, resolve, reject })
      // serve() catches each read's failure; anything else it throws must not leave callers waiting.
      this.serve().catch((error: unknown) => {
        for (const waiter of this.waiters.splice(0, this.waiters.length)) waiter.reject(error)
      })
    })
  }

  /** Reads until no caller waits; each read serves every caller that was waiting when it began. */
  private async serve(): Promise<void> {
    if (this.reading) return
    this.reading = true
    try {
      while (this.waiters.length > 0) {
        const waitMs = this.nextReadAtMs - performance.now()
        if (waitMs > 0) await sleep(waitMs)
        const served = this.waiters.splice(0, this.waiters.length)
        let list: OpenTransaction[] | null
        try {
          list = await this.readOnce()
        } catch (error) {
          for (const waiter of served) waiter.reject(error)
          continue
        } finally {
          this.nextReadAtMs = performance.now() + MIN_READ_SPACING_MS
        }
        if (list !== null) {
          for (const waiter of served) waiter.resolve(list)
          continue
        }
        const nowMs = performance.now()
        for (const waiter of served) {
          if (nowMs < waiter.deadlineMs) this.waiters.push(waiter)
          else
            waiter.reject(
              new AdapterError(
                'unavailable',
                `stock: information_schema.INNODB_TRX did not refresh in time: something reads it more often than every ${CACHE_IDLE_MS} ms (InnoDB refreshes it only after ${CACHE_IDLE_MS} ms without reads); nothing consigned, try again`,
              ),
            )
        }
        // Our own reads count as reads too: step out of the other reader's rhythm at random.
        this.nextReadAtMs += Math.random() * STALE_JITTER_MS
      }
    } finally {
      this.reading = false
    }
  }

  /** One read in a transaction of our own: the list if our thread is in it running this statement, else null. */
  private async readOnce(): Promise<OpenTransaction[] | null> {
    const token = `standin-trx-${randomUUID()}`
    const connection = await this.pool.getConnection()
    let reusable = false
    try {
      // InnoDB lists a transaction from its first read; this starts one at once.
      await connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT')
      const rows = await selectRows(
        connection,
        TrxRow,
        `SELECT trx_mysql_thread_id AS thread, trx_started AS started, trx_mysql_thread_id = CONNECTION_ID() AS self,
           (trx_mysql_thread_id = CONNECTION_ID() AND LOCATE(?, trx_query) > 0) AS fresh
         FROM information_schema.INNODB_TRX`,
        [token],
      )
      await connection.query('ROLLBACK')
      reusable = true
      if (!rows.some((row) => row.fresh === 1)) return null
      return rows.filter((row) => row.self === 0).map((row) => ({ thread: row.thread, started: row.started }))
    } finally {
      // A connection that failed mid-way may still hold our transaction: never hand it back.
      if (reusable) connection.release()
      else connection.destroy()
    }
  }
}
