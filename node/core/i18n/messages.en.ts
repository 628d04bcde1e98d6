// The buyer-facing sentences in English: the same ids as messages.zh-CN.ts, which defines them.
import type { Messages } from './messages.zh-CN.js'

import { ALERTS_EN } from './alerts.en.js'
import { CLI_EN } from './cli.en.js'
import { CONSOLE_EN } from './console.en.js'
export const EN = {
  ...CLI_EN,
  ...ALERTS_EN,
  ...CONSOLE_EN,
  'language.name': 'English',
  'time.zoned': '{time, date, zoned} UTC',
  'page.footer': 'Standin: mutual-aid delivery between independent shops',

  'claim.title': "Claim your order's key",
  'claim.intro':
    "When a shop's platform is down, its partner shops deliver its paid orders. Enter the shop id, your order number and the order's query secret to see your key.",
  'claim.field.shop': 'Shop id',
  'claim.field.shopHint': 'Starts with 12D3KooW; it is in the link or email you received.',
  'claim.field.order': 'Order number',
  'claim.field.secret': 'Query secret',
  'claim.field.secretHint': 'The secret the shop gave you at checkout to look up your order.',
  'claim.submit': 'Show my key',

  'claim.formInvalid': 'Please check the form:',
  'claim.error.required': '{field}: required',
  'claim.error.tooLong': '{field}: too long',
  'claim.error.shopFormat': '{field}: should be 12D3KooW followed by 44 letters and digits',
  'claim.error.orderFormat': '{field}: letters, digits and symbols only, no spaces',
  'claim.error.invalid': '{field}: not valid',
  'claim.error.repeated': '{field}: sent more than once',
  'claim.error.unexpected': 'unexpected field "{field}" in the form',

  'claim.delivered.title': 'Your order has been delivered',
  'claim.delivered.byFor':
    "The platform of {originName} is down, so its partner shop {fulfillerName} delivered this order on {time} under the shops' mutual-aid agreement.",
  'claim.delivered.by':
    "The shop's platform is down, so its partner shop {fulfillerName} delivered this order on {time} under the shops' mutual-aid agreement.",
  'claim.delivered.keysLabel': '{count, plural, one {Key for order {order}:} other {Keys for order {order}:}}',
  'claim.delivered.keysHint': 'Click the text above to select it all for copying. Keep it private.',
  'claim.pending.title': 'Your order is being handled',
  'claim.pending.body': "The shop's partners are working on order {order}. Please check again in a few minutes.",
  'claim.elsewhere.title': 'Another partner shop delivered your order',
  'claim.elsewhere.body':
    'Partner shop {fulfillerName} delivered order {order}. Only that shop holds its keys: see them on its claim page (you will type the query secret again there).',
  'claim.elsewhere.link': "Open {fulfillerName}'s claim page",
  'claim.elsewhere.noLink': 'That shop has no public claim page: see the email it sent you, or ask the shop you bought from.',
  'claim.notFound.title': 'No delivery found',
  'claim.notFound.body':
    'This node has no delivery for this order number and secret. Check both and try again; if another partner shop delivered your order, its email tells you where to claim it.',
  'claim.anotherOrder': 'Look up another order',

  'status.title': 'Status of {name}',
  'status.state.operating': 'Operating normally.',
  'status.state.suspected': 'An outage is suspected; its partner shops are checking.',
  'status.state.delivering': "The shop's platform is down; its partner shops are delivering paid orders.",
  'status.state.recovered': 'Recovered: the shop is operating normally again.',
  'status.since': 'Since {time}',
  'status.deliveredCount': 'Orders delivered by partners: {count}',
  'status.pendingCount': 'Paid orders waiting for delivery: {count}',
  'status.claimLink': "Claim your order's key",
  'status.unknownShop.title': 'Unknown shop',
  'status.unknownShop.body': 'This node has no status for this shop.',

  'refusal.tooMany.title': 'Too many requests',
  'refusal.tooMany.body': 'Please try again in {seconds, plural, one {# second} other {# seconds}}.',
  'refusal.orderClosed.title': 'Too many wrong secrets for this order',
  'refusal.orderClosed.body':
    'To protect the buyer, this order takes no claims for now. Please try again in {seconds, plural, one {# second} other {# seconds}}. The keys were also sent to the email given at checkout.',
  'refusal.unavailable.title': 'Temporarily unavailable',
  'refusal.unavailable.body': 'This node cannot handle your request right now. Please try again shortly.',
  'refusal.badRequest.title': 'The request could not be read',
  'refusal.badRequest.body': 'Please go back to the claim page and submit the form again.',
  'refusal.failed.title': 'Something went wrong',
  'refusal.failed.body': 'This node could not answer. Please try again later.',

  'mail.subject': 'Order {order} from {originName}: delivered by partner shop {fulfillerName}',
  'mail.greeting': 'Hello,',
  'mail.outage':
    "The shop {originName} is having an outage on its platform. Under the two shops' mutual-aid agreement, its partner shop {fulfillerName} has delivered your order on its behalf.",
  'mail.keysIntro': '{count, plural, one {Here is the key for order {order}:} other {Here are the keys for order {order}:}}',
  'mail.claimPage': "You can also see the keys on the claim page at {claimUrl} with your order number and the order's query secret.",
  'mail.noPayment': 'Your order is already paid; this email never asks you to pay again.',
  'mail.signOff': 'Sent by {fulfillerName} on behalf of {originName} (automated message)',

  'mail.test.subject': 'Standin test message from {shopName}',
  'mail.test.body':
    "This is a test message from {shopName}'s Standin node, sent on {time} through the relay {relay} to check that buyers receive delivery mail. If you are reading it, mail works; there is nothing to do.",
  'mail.test.signOff': "{shopName}'s Standin node (automated message)",
} as const satisfies Messages
