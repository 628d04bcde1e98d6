// The Mailer of a node without SMTP config: buyers still get their keys on the claim page
// (docs/design.md §8), so a missing relay is logged, not treated as a failed delivery to retry.
import type { Logger } from '../core/ports.js'
import type { ClosableMailer } from './smtp-mailer.js'

export function createNullMailer(logger: Logger): ClosableMailer {
  logger.warn({}, 'email is not configured (config smtp is null): buyers get their keys on the claim page only')
  return {
    async send(): Promise<void> {
      // Nothing about the message is logged: it carries card keys and the buyer's address.
      logger.info({}, 'email is not configured: delivery email not sent; the claim page serves the keys')
    },
    async close(): Promise<void> {},
  }
}
