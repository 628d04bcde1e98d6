// What an alert says to the operator, in Chinese: one message per alert kind (node/alerts/events.ts
// lists the kinds and what raises each). The same ids as alerts.en.ts; spread into the catalogue.
export const ALERTS_ZH_CN = {
  'alert.own-takeover': '我们的平台已被伙伴接管（第 {epoch} 轮，{voters} 个伙伴确认）：{pending} 个已付款未发货的订单由伙伴代发，店铺已隔离。',
  'alert.suspect': '伙伴 {partner} 疑似宕机：{reason}',
  'alert.certified': '伙伴 {partner} 已被确认宕机（第 {epoch} 轮，{voters} 票）。',
  'alert.taken-over': '我们正在替伙伴 {partner} 接单（第 {epoch} 轮）。',
  'alert.fence': '{fenced, select, true {我们的店铺已被隔离（停止发货）。} other {我们的店铺已解除隔离。}}',
  'alert.handback': '伙伴 {partner} 的交还已完成（{receipts} 张回执）。',
  'alert.fork': '伙伴 {partner} 的日志出现分叉（序号 {seq}），已隔离。',
  'alert.rejoin-started':
    '本节点（{reason}）在每个伙伴告知本店日志的末尾之前不写任何记录（新订单暂不托管；本地序号 {seq}）。用 standin status 查看哪些伙伴已回复；有伙伴宕机请让它恢复。',
  'alert.rejoined': '所有伙伴都已确认本店日志的末尾（序号 {seq}）：节点恢复写入。',
  'alert.revocation':
    '{by} 撤销了伙伴 {partner}（{reason}）。{reached, select, true {签署方已达到所需数量。} other {需足够多的参与方签署后才生效：如果你同意，请运行 standin partner revoke {partner}。}}',
  'alert.partner-revoked':
    '{us, select, true {本店已被 {by} 撤销：伙伴不再接受本节点的任何消息。} other {伙伴 {partner} 已被撤销（签署方：{by}）：不再向它加密任何记录，也不再接受它的任何消息。请作废仍寄存在它那里的本店卡密（见 standin status），并在网络之外与它结算。}}',
  'alert.removed':
    '其他所有参与方已签署不含本店的新条款（修订版 {revision}）：本店已被移出联盟。节点停止工作：店铺解除隔离，之前托管的订单由店铺自己发货，但新订单不再有任何托管。请先从店铺中移除 Standin 适配器，再停止节点。',
  'alert.identity-taken':
    '伙伴 {partner} 转来一份把本店位置交给新身份的交接，但本节点从未发起过：有人掌握了本店的身份密钥。请其他参与方撤销旧身份（standin partner revoke），再以新身份重新加入（见 SECURITY.md）。',
  'alert.duplicate': '订单 {order} 被重复发货（{fulfillers}）。',
  'alert.refused': '拒绝了来自 {partner} 的请求（{what}）：{reason}',
  'alert.platform-silent': '店铺适配器已 {seconds} 秒没有上报健康状态。',
  'alert.order-unserved':
    '{count} 个订单（商品 {sku}）如果店铺现在宕机，没有任何伙伴能够发货（{cause, select, terms {条款不包含这个商品} other {没有伙伴持有足够的卡密}}）：{orders}。请寄售卡密（standin allot）或把商品加入条款（standin terms propose --add-sku）。',
  'alert.mail-failing':
    '{gaveUp, select, true {订单 {order} 的买家邮件 {attempts} 次都没发出去，已放弃；买家仍可在取卡页看到卡密。请检查 SMTP（standin mail test）。} other {订单 {order} 的买家邮件发送失败（第 {attempts} 次），稍后重试。请检查 SMTP（standin mail test）。}}',
  'alert.statement-received':
    '收到伙伴 {partner} 的结算单 {statement}（{lines} 行，{mismatches, select, 0 {都与我们的账一致} other {其中 {mismatches} 行与我们的账不符，请提出异议}}）：standin settle show {statement}',
  'alert.statement-disputed': '伙伴 {partner} 对我们的结算单 {statement} 中的 {lines} 行提出异议：standin settle show {statement}',
  'alert.credit-limit': '伙伴 {partner} 欠我们 {owed}，已到信用额度 {limit}（分）：在它结算之前，我们不再替它接单。',
  'alert.drill-failed': '故障演练失败：伙伴 {partner}：{reason}',
  'alert.test': 'Standin 测试告警：此渠道配置正确。',
  'alert.title': '[Standin {shopName}] {severity, select, critical {严重} warning {警告} other {通知}}',
} as const
