// Parting with a party while it still is one (D95), or handing our place to a new identity (D99):
// every allotment of ours it holds recalled, and a final statement of what it owes us issued. Once
// the revision takes force nothing reaches it, so this runs as the revision is proposed. One home
// for the CLI (over the admin API) and the console (the node's API in process).
import type { ShopId } from '../../protocol/index.js'
import type { HoldingView } from '../core/api-schemas.js'

/** What the wind-down asks of the running node. */
export interface WindDownApi {
  holdings(): Promise<HoldingView[]>
  recall(holder: ShopId, allotment: string): Promise<unknown>
  /** Issues a statement of what `counterparty` owes us now; false when there is nothing to settle. */
  issueStatement(counterparty: ShopId): Promise<boolean>
}

export interface WoundDown {
  readonly recalled: readonly string[]
  readonly issued: boolean
}

export async function windDown(api: WindDownApi, partner: ShopId): Promise<WoundDown> {
  const recalled = await recallAll(api, partner)
  return { recalled, issued: await api.issueStatement(partner) }
}

/** Every allotment of ours `holder` still holds, recalled; returns their ids. */
export async function recallAll(api: Pick<WindDownApi, 'holdings' | 'recall'>, holder: ShopId): Promise<string[]> {
  const allotments = (await api.holdings()).filter((h) => h.holder === holder).flatMap((h) => h.allotments.filter((a) => a.held > 0).map((a) => a.allotment))
  for (const allotment of allotments) await api.recall(holder, allotment)
  return allotments
}
