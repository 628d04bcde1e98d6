// What the database adapters' fences share: the flag lives in the shop database's `standin_state`
// (../mysql/fence.ts; ./sql-fence.ts for PostgreSQL and SQLite) so it survives restarts of the adapter and the bridge
// reads what the port wrote; the operator's rule is logged when it changes.
import { AdapterError, type Logger } from '../contract.js'

export const FENCED = 'fenced'

export function logFence(logger: Logger, fenced: boolean, shop: string): void {
  logger.info({ fenced }, fenced ? `${shop} fenced: do not deliver escrowed orders by hand` : `${shop} unfenced`)
}

/** A takeStock count the port can act on, or the refusal. */
export function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 1) throw new AdapterError('invalid', `count: ${count} is not a positive integer`)
}
