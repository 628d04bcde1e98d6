// The buyer-facing sentences in Chinese, the default language: most buyers of these shops are
// Chinese. This table defines the message ids; every other language must have exactly the same
// ones (messages.en.ts fails to typecheck otherwise). Messages are ICU MessageFormat: `{name}`
// is a value, `{count, plural, …}` picks a form by number, `{time, date, zoned}` is a time in
// the buyer's zone (see index.ts). A literal `{` or `}` is written '{' … '}'.
import { ALERTS_ZH_CN } from './alerts.zh-CN.js'
import { CLI_ZH_CN } from './cli.zh-CN.js'
import { CONSOLE_ZH_CN } from './console.zh-CN.js'

export const ZH_CN = {
  ...CLI_ZH_CN,
  ...ALERTS_ZH_CN,
  ...CONSOLE_ZH_CN,
  'language.name': '中文',
  'time.zoned': '{time, date, zoned}（北京时间）',
  'page.footer': 'Standin：独立店铺之间的互助发货网络',

  'claim.title': '领取订单卡密',
  'claim.intro': '店铺平台出现故障时，由其签约的合作店铺为已付款订单代发货。请输入店铺编号、订单号和订单的查询密码查看卡密。',
  'claim.field.shop': '店铺编号',
  'claim.field.shopHint': '以 12D3KooW 开头，可在您收到的链接或邮件中找到。',
  'claim.field.order': '订单号',
  'claim.field.secret': '查询密码',
  'claim.field.secretHint': '下单时店铺提供给您的订单查询密码。',
  'claim.submit': '查看卡密',

  'claim.formInvalid': '请检查填写的内容：',
  'claim.error.required': '{field}：必填',
  'claim.error.tooLong': '{field}：内容太长',
  'claim.error.shopFormat': '{field}：应以 12D3KooW 开头，后跟 44 位字母和数字',
  'claim.error.orderFormat': '{field}：只能包含字母、数字和符号，不能有空格',
  'claim.error.invalid': '{field}：格式不正确',
  'claim.error.repeated': '{field}：重复提交了多次',
  'claim.error.unexpected': '表单中有多余的字段“{field}”',

  'claim.delivered.title': '您的订单已发货',
  'claim.delivered.byFor': '「{originName}」的平台出现故障，其合作店铺「{fulfillerName}」于{time}根据互助协议代为发货。',
  'claim.delivered.by': '店铺平台出现故障，其合作店铺「{fulfillerName}」于{time}根据互助协议代为发货。',
  'claim.delivered.keysLabel': '订单 {order} 的卡密：',
  'claim.delivered.keysHint': '点击上方文字即可全选复制。请妥善保管，不要分享给他人。',
  'claim.pending.title': '您的订单正在处理中',
  'claim.pending.body': '店铺的合作伙伴正在处理订单 {order}，请几分钟后再来查询。',
  'claim.elsewhere.title': '您的订单已由另一家合作店铺发货',
  'claim.elsewhere.body': '订单 {order} 由合作店铺「{fulfillerName}」代为发货，卡密只保存在该店铺，请到它的领取页面查看（需要再次输入查询密码）。',
  'claim.elsewhere.link': '前往「{fulfillerName}」的领取页面',
  'claim.elsewhere.noLink': '该店铺没有公开领取页面，请查看它发给您的邮件，或联系原店铺。',
  'claim.notFound.title': '未找到发货记录',
  'claim.notFound.body': '本节点没有与该订单号和查询密码对应的发货记录。请核对后重试；如果是其他合作店铺代为发货，请查看其发给您的邮件中的领取地址。',
  'claim.anotherOrder': '查询其他订单',

  'status.title': '「{name}」的运行状态',
  'status.state.operating': '正常营业。',
  'status.state.suspected': '疑似出现故障，其合作店铺正在确认。',
  'status.state.delivering': '店铺平台暂时无法使用，其合作店铺正在为已付款订单代发货。',
  'status.state.recovered': '已恢复，店铺恢复正常营业。',
  'status.since': '自{time}起',
  'status.deliveredCount': '合作店铺已代发订单：{count} 笔',
  'status.pendingCount': '等待发货的已付款订单：{count} 笔',
  'status.claimLink': '领取订单卡密',
  'status.unknownShop.title': '未找到该店铺',
  'status.unknownShop.body': '本节点没有该店铺的运行状态。',

  'refusal.tooMany.title': '请求过于频繁',
  'refusal.tooMany.body': '请在 {seconds} 秒后重试。',
  'refusal.orderClosed.title': '此订单查询错误次数过多',
  'refusal.orderClosed.body': '为保护买家，此订单暂停查询，请在 {seconds} 秒后重试。卡密也已发送到下单时填写的邮箱。',
  'refusal.unavailable.title': '暂时无法处理',
  'refusal.unavailable.body': '本节点暂时无法处理您的请求，请稍后重试。',
  'refusal.badRequest.title': '无法处理该请求',
  'refusal.badRequest.body': '请返回领取页面重新提交。',
  'refusal.failed.title': '出错了',
  'refusal.failed.body': '本节点暂时无法响应，请稍后重试。',

  // The delivery email. It says plainly who delivered and why, so it is not taken for phishing.
  'mail.subject': '【{originName}】订单 {order} 的卡密（由合作店铺「{fulfillerName}」代发）',
  'mail.greeting': '您好！',
  'mail.outage': '您下单的店铺「{originName}」的平台目前出现故障。根据两家店铺签订的互助协议，其合作店铺「{fulfillerName}」代为向您发货。',
  'mail.keysIntro': '订单 {order} 的卡密如下：',
  'mail.claimPage': '您也可以打开领取页面 {claimUrl} ，输入订单号和订单的查询密码查看卡密。',
  'mail.noPayment': '您的订单已付款，本邮件不会要求您再次付款。',
  'mail.signOff': '「{fulfillerName}」代「{originName}」发送（自动邮件）',

  'mail.test.subject': '「{shopName}」的 Standin 测试邮件',
  'mail.test.body':
    '这是「{shopName}」的 Standin 节点于{time}经由发信服务器 {relay} 发出的测试邮件，用于确认买家能收到发货邮件。收到本邮件即说明邮件配置可用，无需任何操作。',
  'mail.test.signOff': '「{shopName}」的 Standin 节点（自动邮件）',
} as const

/** Every message id; a view asking for an id that is not here fails to typecheck. */
export type MessageId = keyof typeof ZH_CN
/** One language's messages: exactly the ids above, no more and no fewer. */
export type Messages = Readonly<Record<MessageId, string>>
