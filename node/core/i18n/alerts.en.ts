// What an alert says to the operator, in English: the same ids as alerts.zh-CN.ts.
import type { ALERTS_ZH_CN } from './alerts.zh-CN.js'

export const ALERTS_EN = {
  'alert.own-takeover':
    'Our platform has been taken over by partners (epoch {epoch}, {voters} partners confirmed): they deliver the {pending} paid orders not yet delivered; the shop is fenced.',
  'alert.suspect': 'Partner {partner} is suspected down: {reason}',
  'alert.certified': 'Partner {partner} is certified down (epoch {epoch}, {voters} votes).',
  'alert.taken-over': 'We are now serving the orders of partner {partner} (epoch {epoch}).',
  'alert.fence': '{fenced, select, true {Our shop is fenced (it stopped delivering).} other {Our shop is no longer fenced.}}',
  'alert.handback': 'Handback of partner {partner} is done ({receipts} receipts).',
  'alert.fork': 'The log of partner {partner} forked (seq {seq}); it is quarantined.',
  'alert.rejoin-started':
    'This node was {reason} and writes nothing (new orders are not escrowed) until every partner has said where its own log ends (seq {seq} here). standin status shows who has answered; start any partner that is down.',
  'alert.rejoined': 'Every partner confirmed where our log ends (seq {seq}): the node writes again.',
  'alert.revocation':
    '{by} revoked partner {partner} ({reason}). {reached, select, true {With it enough parties have signed.} other {It takes force once enough parties sign: if you agree, run standin partner revoke {partner}.}}',
  'alert.partner-revoked':
    '{us, select, true {This shop was revoked by {by}: partners take nothing from this node any more.} other {Partner {partner} is revoked (signed by {by}): nothing is sealed to it or taken from it any more. Void the keys of ours it still holds (standin status) and settle with it off the network.}}',
  'alert.removed':
    'Every other party signed terms without this shop (revision {revision}): it was removed from the federation. The node stands down: the shop is unfenced and delivers the orders escrowed before, but new orders are escrowed nowhere. Take the Standin adapter out of the shop, then stop the node.',
  'alert.identity-taken':
    "Partner {partner} passed on a handover of this shop's place to a new identity that this node never made: someone else holds this shop's identity key. Ask the other parties to revoke the old identity (standin partner revoke), then join again under a new one (SECURITY.md).",
  'alert.duplicate': 'Order {order} was delivered more than once ({fulfillers}).',
  'alert.refused': 'Refused {what} from {partner}: {reason}',
  'alert.platform-silent': 'The shop adapter sent no health report for {seconds} s.',
  'alert.order-unserved':
    '{count} order(s) of sku {sku} could not be served by any partner if the shop went down now ({cause, select, terms {the terms do not cover this sku} other {no partner holds enough keys}}): {orders}. Consign keys (standin allot) or add the sku to the terms (standin terms propose --add-sku).',
  'alert.mail-failing':
    '{gaveUp, select, true {Mail to the buyer of order {order} failed {attempts} times and was given up; the claim page still shows the key. Check SMTP (standin mail test).} other {Mail to the buyer of order {order} failed (attempt {attempts}); it will be retried. Check SMTP (standin mail test).}}',
  'alert.statement-received':
    'Statement {statement} received from partner {partner} ({lines} lines, {mismatches, select, 0 {all match our books} other {{mismatches} do not match our books: dispute them}}): standin settle show {statement}',
  'alert.statement-disputed': 'Partner {partner} disputed {lines} lines of our statement {statement}: standin settle show {statement}',
  'alert.credit-limit': 'Partner {partner} owes us {owed}, the credit limit is {limit} (minor units): we take over no more of its orders until it settles.',
  'alert.drill-failed': 'The failover drill failed for partner {partner}: {reason}',
  'alert.test': 'Standin test alert: this channel works.',
  'alert.title': '[Standin {shopName}] {severity, select, critical {CRITICAL} warning {warning} other {info}}',
} as const satisfies Record<keyof typeof ALERTS_ZH_CN, string>
