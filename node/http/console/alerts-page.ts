// The alert log: what the node raised since it started (the newest 200, node/alerts/alerter.ts),
// in the reader's language, and what became of it on each channel. An alert with no channel is
// listed too: the operator sees what they would have been told.
import { renderAlert } from '../../alerts/events.js'
import { htmlTemplate } from '../../core/html-templates.js'
import type { ConsoleContext } from './context.js'
import { type Cell, table, when } from './views.js'

export function alertsPage(c: ConsoleContext): void {
  c.show('/console/alerts', 'alerts', async ({ locale, tr }) => {
    const log = c.alerts?.log() ?? []
    const outcome = (entry: (typeof log)[number]): Cell => {
      if (entry.deduplicated) return tr('console.alerts.deduplicated')
      if (entry.channels.length === 0) return tr('console.alerts.noChannel')
      const text = entry.channels.map((ch) => `${ch.id}: ${tr(`console.alerts.delivery.${ch.status}`)}`).join(', ')
      return { text, cls: entry.channels.some((ch) => ch.status === 'failed' || ch.status === 'dropped') ? 'bad' : '' }
    }
    return alertsTemplate({
      title: tr('console.alerts.title'),
      intro: tr('console.alerts.intro'),
      none: log.length === 0 ? tr('console.alerts.none') : null,
      table: table(
        (['time', 'severity', 'alert', 'channels'] as const).map((col) => tr(`console.alerts.col.${col}`)),
        log.map((entry): Cell[] => [
          when(locale, entry.at),
          { text: tr(`console.alerts.severity.${entry.severity}`), cls: entry.severity === 'critical' ? 'bad' : '' },
          renderAlert(entry.event, locale),
          outcome(entry),
        ]),
      ),
    })
  })
}

const alertsTemplate = htmlTemplate<{ title: string; intro: string; none: string | null; table: ReturnType<typeof table> }>(
  'console-alerts',
  `<h1><%= it.title %></h1>
<p><%= it.intro %></p>
<% if (it.none !== null) { %><p><%= it.none %></p><% } else { %><%~ it.table %><% } %>`,
)
