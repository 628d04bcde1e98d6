// Dujiao-Next's times in each of its engines, as SQL. On PostgreSQL GORM makes them timestamptz. On
// SQLite (glebarez/sqlite) they are TEXT in Go's layout `2006-01-02 15:04:05.999999999-07:00`: GORM's
// own stamps (created_at, updated_at) in UTC, but the times Dujiao-Next takes from time.Now()
// (paid_at, used_at, …) in the server's zone, so the text alone neither compares nor sorts across
// zones. Here every time is read through SQLite's date functions, which honour the offset.
//
// The cursor's key is a time as exact UTC ISO text (fixed width, so texts sort as times): to the
// microsecond on PostgreSQL, the millisecond on SQLite. Ties are broken by id, so the coarser key
// only means a few more rows in the overlap, never a missed one.
import type { Dialect } from '../shop-db/sql.js'

export interface TimeSql {
  /** Now, as Dujiao-Next stores a time. */
  readonly now: string
  /** A time from epoch milliseconds, as Dujiao-Next stores it. */
  fromMs(msParam: string): string
  /** Epoch milliseconds (integer) of a time column. */
  msOf(column: string): string
  /** The cursor key of a time column. */
  key(column: string): string
  /** `(column, id)` comes after `(keyParam, idParam)`. */
  after(column: string, keyParam: string, id: string, idParam: string): string
  /** `column` is before the key `keyParam`. */
  before(column: string, keyParam: string): string
  /** ORDER BY of the cursor. */
  order(column: string, id: string): string
  /** The key `keyParam` minus `secondsParam` seconds. */
  shift(keyParam: string, secondsParam: string): string
  /** The key of the newest `column` of `table` (or of `msParam` when it is empty) minus `secondsParam` seconds: a full SELECT giving `t`. */
  newestMinus(table: string, column: string, msParam: string, secondsParam: string): string
}

const UTC_KEY = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`
const postgres: TimeSql = {
  now: 'NOW()',
  fromMs: (ms) => `to_timestamp(${ms} / 1000.0)`,
  msOf: (c) => `(EXTRACT(EPOCH FROM ${c}) * 1000)::bigint`,
  key: (c) => `to_char(${c} AT TIME ZONE 'UTC', ${UTC_KEY})`,
  after: (c, k, id, idp) => `(${c} > ${k}::timestamptz OR (${c} = ${k}::timestamptz AND ${id} > ${idp}))`,
  before: (c, k) => `${c} < ${k}::timestamptz`,
  order: (c, id) => `${c}, ${id}`,
  shift: (k, s) => `to_char((${k}::timestamptz - make_interval(secs => ${s})) AT TIME ZONE 'UTC', ${UTC_KEY})`,
  newestMinus: (table, c, ms, s) =>
    `SELECT to_char((COALESCE(MAX(${c}), to_timestamp(${ms} / 1000.0)) - make_interval(secs => ${s})) AT TIME ZONE 'UTC', ${UTC_KEY}) AS t FROM ${table}`,
}

/** The widest UTC offset a server's zone may have, in hours: a bound for reading by the raw text's index. */
const MAX_OFFSET_HOURS = 14
const sqliteKey = (c: string) => `strftime('%Y-%m-%dT%H:%M:%fZ', ${c})`
const sqlite: TimeSql = {
  now: `strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')`,
  fromMs: (ms) => `strftime('%Y-%m-%d %H:%M:%f+00:00', ${ms} / 1000.0, 'unixepoch')`,
  msOf: (c) => `CAST(ROUND(unixepoch(${c}, 'subsec') * 1000) AS INTEGER)`,
  key: sqliteKey,
  // The first term lets SQLite use the index on the raw text: whatever its zone, a time after the
  // key reads as a wall-clock text no earlier than the key minus the widest offset.
  after: (c, k, id, idp) =>
    `${c} >= strftime('%Y-%m-%d %H:%M:%S', ${k}, '-${MAX_OFFSET_HOURS} hours') AND (${sqliteKey(c)} > ${k} OR (${sqliteKey(c)} = ${k} AND ${id} > ${idp}))`,
  before: (c, k) => `${sqliteKey(c)} < ${k}`,
  order: (c, id) => `${sqliteKey(c)}, ${id}`,
  shift: (k, s) => `strftime('%Y-%m-%dT%H:%M:%fZ', ${k}, '-' || ${s} || ' seconds')`,
  newestMinus: (table, c, ms, s) =>
    `SELECT strftime('%Y-%m-%dT%H:%M:%fZ', COALESCE(MAX(${sqliteKey(c)}), strftime('%Y-%m-%dT%H:%M:%fZ', ${ms} / 1000.0, 'unixepoch')), '-' || ${s} || ' seconds') AS t FROM ${table}`,
}

export const TIME_SQL: Readonly<Record<Dialect, TimeSql>> = { postgres, sqlite }
