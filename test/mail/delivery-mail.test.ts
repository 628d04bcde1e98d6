// The buyer's delivery email: honest about who delivered and why, in the buyer's language, with
// every key, and safe to render as HTML whatever the names and keys contain.
import { describe, expect, it } from 'vitest'
import { deliveryEmail, type DeliveryEmailInput } from '../../node/core/delivery-mail.js'
import { t } from '../../node/core/i18n/index.js'

const base: DeliveryEmailInput = {
  locale: 'zh-CN',
  to: 'buyer@example.com',
  originName: '星光数码',
  fulfillerName: '月影卡铺',
  order: 'ORD-20260921-0042',
  keys: ['KEY-AAAA-1111', 'KEY-BBBB-2222'],
  claimUrl: 'https://partner.example/claim?shop=12D3KooWexample',
}

describe('deliveryEmail', () => {
  it.each(['zh-CN', 'en'] as const)('%s: subject, text and html name both shops and the order, and carry every key', (locale) => {
    const mail = deliveryEmail({ ...base, locale })
    expect(mail.to).toBe('buyer@example.com')
    for (const part of [mail.subject, mail.text, mail.html ?? '']) {
      expect(part).toContain(base.order)
      expect(part).toContain(base.originName)
      expect(part).toContain(base.fulfillerName)
    }
    for (const key of base.keys) {
      expect(mail.text).toContain(key)
      expect(mail.html).toContain(key)
    }
    expect(mail.text).toContain(base.claimUrl)
    expect(mail.html).toContain(`<a href="${base.claimUrl}">`)
    expect(mail.html).toContain(`<html lang="${locale}">`)
  })

  it("speaks the buyer's language: outage, mutual-aid agreement, claim page with order number and query secret", () => {
    const zh = deliveryEmail(base)
    expect(zh.text).toContain('出现故障')
    expect(zh.text).toContain('互助协议')
    expect(zh.text).toContain('查询密码')
    expect(zh.subject).toBe('【星光数码】订单 ORD-20260921-0042 的卡密（由合作店铺「月影卡铺」代发）')
    const en = deliveryEmail({ ...base, locale: 'en' })
    expect(en.text).toMatch(/outage/)
    expect(en.text).toMatch(/mutual-aid agreement/)
    expect(en.text).toMatch(/order number and the order's query secret/)
    expect(en.text).toContain('Here are the keys for order')
    expect(deliveryEmail({ ...base, locale: 'en', keys: ['ONE'] }).text).toContain('Here is the key for order')
  })

  it('without a claim page there is no claim sentence', () => {
    for (const locale of ['zh-CN', 'en'] as const) {
      const mail = deliveryEmail({ ...base, locale, claimUrl: null })
      const claimSentence = t(locale, 'mail.claimPage', { claimUrl: '\u0000' }).split('\u0000')[0] ?? ''
      expect(mail.text).not.toContain(claimSentence)
      expect(mail.html).not.toContain('<a ')
    }
  })

  it('escapes everything that goes into the html', () => {
    const mail = deliveryEmail({
      ...base,
      locale: 'en',
      originName: '<script>alert(1)</script>',
      fulfillerName: 'Tom & "Jerry"',
      order: "o<'1'>",
      keys: ['<b>bold</b>&amp;'],
      claimUrl: 'https://x.example/claim?a=1&b="2"',
    })
    const html = mail.html ?? ''
    expect(html).not.toContain('<script>')
    expect(html).not.toContain('<b>')
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(html).toContain('Tom &amp; &quot;Jerry&quot;')
    expect(html).toContain('o&lt;&#39;1&#39;&gt;')
    expect(html).toContain('&lt;b&gt;bold&lt;/b&gt;&amp;amp;')
    expect(html).toContain('href="https://x.example/claim?a=1&amp;b=&quot;2&quot;"')
    // The text part is plain text: the values appear as they are.
    expect(mail.text).toContain('<b>bold</b>&amp;')
  })

  it('a claim URL that is not a web link is shown as text, never as an anchor', () => {
    const mail = deliveryEmail({ ...base, claimUrl: 'javascript:alert(1)' })
    expect(mail.html).not.toContain('<a ')
    expect(mail.html).toContain('javascript:alert(1)')
  })

  it('keeps the subject on one line whatever the names contain', () => {
    const mail = deliveryEmail({ ...base, originName: 'Evil\r\nBcc: victim@example.com', locale: 'en' })
    expect(mail.subject).not.toMatch(/[\r\n]/)
    expect(mail.subject).toContain('Evil Bcc: victim@example.com')
  })

  it('a placeholder-like value is not expanded again', () => {
    const mail = deliveryEmail({ ...base, originName: '{order}', locale: 'en' })
    expect(mail.text).toContain('The shop {order} is having an outage')
  })

  it('refuses to build a delivery without keys', () => {
    expect(() => deliveryEmail({ ...base, keys: [] })).toThrow(/at least one key/)
  })
})
