// The incident report each node writes per outage (origin, epoch): what happened, who delivered
// what and how fast, duplicates, keys used. Served by the admin API and `standin incidents`.
import { z } from 'zod'
import { ShopId, TimeMs } from './primitives.js'

export const FulfillerStats = z.strictObject({
  orders: z.number().int().nonnegative(),
  keys: z.number().int().nonnegative(),
  firstAt: TimeMs.nullable(),
  lastAt: TimeMs.nullable(),
  /** Sum and max of (delivered − paid), for the average and worst buyer wait. */
  waitMsSum: z.number().int().nonnegative(),
  waitMsMax: z.number().int().nonnegative(),
})
export type FulfillerStats = z.infer<typeof FulfillerStats>

export const IncidentReport = z.strictObject({
  id: z.string(),
  origin: ShopId,
  epoch: z.number().int().nonnegative(),
  role: z.enum(['origin', 'partner']),
  openedAt: TimeMs,
  closedAt: TimeMs.nullable(),
  timeline: z.array(z.strictObject({ at: TimeMs, what: z.string(), by: ShopId.nullable() })),
  fulfillers: z.record(z.string(), FulfillerStats),
  duplicates: z.array(z.strictObject({ order: z.string(), fulfillers: z.array(ShopId) })),
  keysUsed: z.number().int().nonnegative(),
})
export type IncidentReport = z.infer<typeof IncidentReport>
export const IncidentsReply = z.strictObject({ incidents: z.array(IncidentReport) })
