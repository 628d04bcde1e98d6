// Every buyer-facing sentence of the claim page and the outage notice, one table per locale, so a
// translator edits only this file. `{name}` placeholders are filled in (and escaped) by the views.
import type { Locale } from '../../../protocol/index.js'

export interface PageTexts {
  /** This language's own name, for the language links. */
  readonly languageName: string
  /** How times are shown: an Intl locale, the time zone buyers read, and how the zone is named. */
  readonly dateLocale: string
  readonly timeZone: string
  readonly timeWithZone: string
  readonly footer: string

  readonly claimTitle: string
  readonly claimIntro: string
  readonly fieldShop: string
  readonly fieldShopHint: string
  readonly fieldOrder: string
  readonly fieldSecret: string
  readonly fieldSecretHint: string
  readonly submit: string

  readonly formInvalid: string
  readonly errRequired: string
  readonly errTooLong: string
  readonly errShopFormat: string
  readonly errOrderFormat: string
  readonly errInvalid: string
  readonly errRepeated: string
  readonly errUnexpected: string

  readonly deliveredTitle: string
  readonly deliveredByFor: string
  readonly deliveredBy: string
  readonly keysLabelOne: string
  readonly keysLabelMany: string
  readonly keysHint: string
  readonly pendingTitle: string
  readonly pendingBody: string
  readonly elsewhereTitle: string
  readonly elsewhereBody: string
  readonly elsewhereLink: string
  readonly elsewhereNoLink: string
  readonly notFoundTitle: string
  readonly notFoundBody: string
  readonly anotherOrder: string

  readonly statusTitle: string
  readonly stateOperating: string
  readonly stateSuspected: string
  readonly stateDelivering: string
  readonly stateRecovered: string
  readonly since: string
  readonly deliveredCount: string
  readonly pendingCount: string
  readonly claimLink: string
  readonly unknownShopTitle: string
  readonly unknownShopBody: string

  readonly tooManyTitle: string
  readonly tooManyBody: string
  readonly orderClosedTitle: string
  readonly orderClosedBody: string
  readonly unavailableTitle: string
  readonly unavailableBody: string
  readonly badRequestTitle: string
  readonly badRequestBody: string
  readonly failedTitle: string
  readonly failedBody: string
}

const ZH_CN: PageTexts = {
  languageName: '中文',
  dateLocale: 'zh-CN',
  timeZone: 'Asia/Shanghai',
  timeWithZone: '{time}（北京时间）',
  footer: 'Standin：独立店铺之间的互助发货网络',

  claimTitle: '领取订单卡密',
  claimIntro: '店铺平台出现故障时，由其签约的合作店铺为已付款订单代发货。请输入店铺编号、订单号和订单的查询密码查看卡密。',
  fieldShop: '店铺编号',
  fieldShopHint: '以 12D3KooW 开头，可在您收到的链接或邮件中找到。',
  fieldOrder: '订单号',
  fieldSecret: '查询密码',
  fieldSecretHint: '下单时店铺提供给您的订单查询密码。',
  submit: '查看卡密',

  formInvalid: '请检查填写的内容：',
  errRequired: '{field}：必填',
  errTooLong: '{field}：内容太长',
  errShopFormat: '{field}：应以 12D3KooW 开头，后跟 44 位字母和数字',
  errOrderFormat: '{field}：只能包含字母、数字和符号，不能有空格',
  errInvalid: '{field}：格式不正确',
  errRepeated: '{field}：重复提交了多次',
  errUnexpected: '表单中有多余的字段“{field}”',

  deliveredTitle: '您的订单已发货',
  deliveredByFor: '「{originName}」的平台出现故障，其合作店铺「{fulfillerName}」于{time}根据互助协议代为发货。',
  deliveredBy: '店铺平台出现故障，其合作店铺「{fulfillerName}」于{time}根据互助协议代为发货。',
  keysLabelOne: '订单 {order} 的卡密：',
  keysLabelMany: '订单 {order} 的卡密：',
  keysHint: '点击上方文字即可全选复制。请妥善保管，不要分享给他人。',
  pendingTitle: '您的订单正在处理中',
  pendingBody: '店铺的合作伙伴正在处理订单 {order}，请几分钟后再来查询。',
  elsewhereTitle: '您的订单已由另一家合作店铺发货',
  elsewhereBody: '订单 {order} 由合作店铺「{fulfillerName}」代为发货，卡密只保存在该店铺，请到它的领取页面查看（需要再次输入查询密码）。',
  elsewhereLink: '前往「{fulfillerName}」的领取页面',
  elsewhereNoLink: '该店铺没有公开领取页面，请查看它发给您的邮件，或联系原店铺。',
  notFoundTitle: '未找到发货记录',
  notFoundBody: '本节点没有与该订单号和查询密码对应的发货记录。请核对后重试；如果是其他合作店铺代为发货，请查看其发给您的邮件中的领取地址。',
  anotherOrder: '查询其他订单',

  statusTitle: '「{name}」的运行状态',
  stateOperating: '正常营业。',
  stateSuspected: '疑似出现故障，其合作店铺正在确认。',
  stateDelivering: '店铺平台暂时无法使用，其合作店铺正在为已付款订单代发货。',
  stateRecovered: '已恢复，店铺恢复正常营业。',
  since: '自{time}起',
  deliveredCount: '合作店铺已代发订单：{count} 笔',
  pendingCount: '等待发货的已付款订单：{count} 笔',
  claimLink: '领取订单卡密',
  unknownShopTitle: '未找到该店铺',
  unknownShopBody: '本节点没有该店铺的运行状态。',

  tooManyTitle: '请求过于频繁',
  tooManyBody: '请在 {seconds} 秒后重试。',
  orderClosedTitle: '此订单查询错误次数过多',
  orderClosedBody: '为保护买家，此订单暂停查询，请在 {seconds} 秒后重试。卡密也已发送到下单时填写的邮箱。',
  unavailableTitle: '暂时无法处理',
  unavailableBody: '本节点暂时无法处理您的请求，请稍后重试。',
  badRequestTitle: '无法处理该请求',
  badRequestBody: '请返回领取页面重新提交。',
  failedTitle: '出错了',
  failedBody: '本节点暂时无法响应，请稍后重试。',
}

const EN: PageTexts = {
  languageName: 'English',
  dateLocale: 'en-GB',
  timeZone: 'UTC',
  timeWithZone: '{time} UTC',
  footer: 'Standin: mutual-aid delivery between independent shops',

  claimTitle: "Claim your order's key",
  claimIntro:
    "When a shop's platform is down, its partner shops deliver its paid orders. Enter the shop id, your order number and the order's query secret to see your key.",
  fieldShop: 'Shop id',
  fieldShopHint: 'Starts with 12D3KooW; it is in the link or email you received.',
  fieldOrder: 'Order number',
  fieldSecret: 'Query secret',
  fieldSecretHint: 'The secret the shop gave you at checkout to look up your order.',
  submit: 'Show my key',

  formInvalid: 'Please check the form:',
  errRequired: '{field}: required',
  errTooLong: '{field}: too long',
  errShopFormat: '{field}: should be 12D3KooW followed by 44 letters and digits',
  errOrderFormat: '{field}: letters, digits and symbols only, no spaces',
  errInvalid: '{field}: not valid',
  errRepeated: '{field}: sent more than once',
  errUnexpected: 'unexpected field "{field}" in the form',

  deliveredTitle: 'Your order has been delivered',
  deliveredByFor:
    "The platform of {originName} is down, so its partner shop {fulfillerName} delivered this order on {time} under the shops' mutual-aid agreement.",
  deliveredBy: "The shop's platform is down, so its partner shop {fulfillerName} delivered this order on {time} under the shops' mutual-aid agreement.",
  keysLabelOne: 'Key for order {order}:',
  keysLabelMany: 'Keys for order {order}:',
  keysHint: 'Click the text above to select it all for copying. Keep it private.',
  pendingTitle: 'Your order is being handled',
  pendingBody: "The shop's partners are working on order {order}. Please check again in a few minutes.",
  elsewhereTitle: 'Another partner shop delivered your order',
  elsewhereBody: 'Partner shop {fulfillerName} delivered order {order}. Only that shop holds its keys: see them on its claim page (you will type the query secret again there).',
  elsewhereLink: "Open {fulfillerName}'s claim page",
  elsewhereNoLink: 'That shop has no public claim page: see the email it sent you, or ask the shop you bought from.',
  notFoundTitle: 'No delivery found',
  notFoundBody:
    'This node has no delivery for this order number and secret. Check both and try again; if another partner shop delivered your order, its email tells you where to claim it.',
  anotherOrder: 'Look up another order',

  statusTitle: 'Status of {name}',
  stateOperating: 'Operating normally.',
  stateSuspected: 'An outage is suspected; its partner shops are checking.',
  stateDelivering: "The shop's platform is down; its partner shops are delivering paid orders.",
  stateRecovered: 'Recovered: the shop is operating normally again.',
  since: 'Since {time}',
  deliveredCount: 'Orders delivered by partners: {count}',
  pendingCount: 'Paid orders waiting for delivery: {count}',
  claimLink: "Claim your order's key",
  unknownShopTitle: 'Unknown shop',
  unknownShopBody: 'This node has no status for this shop.',

  tooManyTitle: 'Too many requests',
  tooManyBody: 'Please try again in {seconds} seconds.',
  orderClosedTitle: 'Too many wrong secrets for this order',
  orderClosedBody: 'To protect the buyer, this order takes no claims for now. Please try again in {seconds} seconds. The keys were also sent to the email given at checkout.',
  unavailableTitle: 'Temporarily unavailable',
  unavailableBody: 'This node cannot handle your request right now. Please try again shortly.',
  badRequestTitle: 'The request could not be read',
  badRequestBody: 'Please go back to the claim page and submit the form again.',
  failedTitle: 'Something went wrong',
  failedBody: 'This node could not answer. Please try again later.',
}

export const PAGE_TEXTS: Readonly<Record<Locale, PageTexts>> = { 'zh-CN': ZH_CN, en: EN }

/** Fills `{name}` placeholders (plain text; the `html` tag escapes the result). */
export function fill(template: string, vars: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(vars, name) ? String(vars[name]) : whole))
}

export function formatTime(ms: number, t: PageTexts): string {
  const formatted = new Intl.DateTimeFormat(t.dateLocale, { timeZone: t.timeZone, dateStyle: 'long', timeStyle: 'short' }).format(ms)
  return fill(t.timeWithZone, { time: formatted })
}
