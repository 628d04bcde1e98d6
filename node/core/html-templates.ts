// Every piece of HTML this node writes (the buyer pages, the delivery email) is an Eta template
// rendered here, and Eta escapes every `<%= value %>`, so a shop name, order number or key can
// never become markup. `<%~ value %>` writes a value unescaped: templates use it only for `Html`,
// which is what a template returns. The fs-free build of Eta: templates are strings in the views.
import { Eta } from 'eta/core'

declare const rendered: unique symbol
/** Markup a template produced: the only kind of value a template may write unescaped. */
export type Html = string & { readonly [rendered]: true }

// Escaping is Eta's default; it is spelt out because everything here relies on it. No trimming:
// the markup comes out as the template writes it.
const eta = new Eta({ autoEscape: true, autoTrim: false })

/** Compiles `source` once; the result renders it with `data` as `it`. `name` appears in errors. */
export function htmlTemplate<T extends object>(name: string, source: string): (data: T) => Html {
  const key = `@${name}`
  if (eta.templatesSync.get(key) !== undefined) throw new Error(`htmlTemplate: two templates named ${name}`)
  eta.loadTemplate(key, source)
  return (data) => eta.render(key, data) as Html
}
