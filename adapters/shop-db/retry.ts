// A transaction the database rolled back as a deadlock's victim (or, on PostgreSQL, a serialization
// failure) did nothing: trying it again is safe. A shop whose sales lock the rows Standin also
// locks (acg-faka's SERIALIZABLE payment, Dujiao-Next's checkout) meets such conflicts under load.

/** Attempts of one transaction, the first included. */
export const CONFLICT_ATTEMPTS = 5
/** Wait before another attempt, times the attempt number, in milliseconds. */
const CONFLICT_BACKOFF_MS = 25

/** Runs `transaction` again while it fails with a conflict; other errors, and the last conflict, are thrown. */
export async function retryingConflicts<T>(transaction: () => Promise<T>, isConflict: (error: unknown) => boolean): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction()
    } catch (error) {
      if (!isConflict(error) || attempt >= CONFLICT_ATTEMPTS) throw error
      await new Promise((resolve) => setTimeout(resolve, CONFLICT_BACKOFF_MS * attempt))
    }
  }
}
