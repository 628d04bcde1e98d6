// A partner's view of one origin (docs/design.md §6). Unlike the table machines, events carry epochs:
// authority for an epoch at or below the one we know is stale and refused (fencing, docs/design.md §2, invariant 5).
import { fail, ok, type Result } from '../errors.js'

export type FailoverView =
  | { readonly phase: 'healthy'; readonly epoch: number }
  | { readonly phase: 'suspect'; readonly epoch: number }
  | { readonly phase: 'certified'; readonly epoch: number }
  | { readonly phase: 'taken-over'; readonly epoch: number }
  | { readonly phase: 'handed-back'; readonly epoch: number }

export type FailoverEvent =
  | { readonly type: 'heartbeat-ok' } // fresh heartbeat, platform up
  | { readonly type: 'suspect' } // heartbeats missing past suspectAfter, or platform reported down
  | { readonly type: 'certificate'; readonly epoch: number } // quorum certificate verified
  | { readonly type: 'takeover-request'; readonly epoch: number } // the origin asked itself
  | { readonly type: 'takeover-delay-elapsed' }
  | { readonly type: 'handback'; readonly epoch: number }

export const INITIAL_VIEW: FailoverView = { phase: 'healthy', epoch: 0 }

function illegal(view: FailoverView, event: FailoverEvent): Result<FailoverView> {
  return fail('illegal-transition', `failover: ${event.type} is not allowed in phase ${view.phase}`)
}

function staleCheck(view: FailoverView, epoch: number): Result<null> {
  if (epoch <= view.epoch) return fail('stale', `epoch ${epoch} is not above the current epoch ${view.epoch}`)
  return ok(null)
}

export function failoverStep(view: FailoverView, event: FailoverEvent): Result<FailoverView> {
  switch (event.type) {
    case 'heartbeat-ok':
      if (view.phase === 'healthy' || view.phase === 'suspect' || view.phase === 'handed-back') return ok({ phase: 'healthy', epoch: view.epoch })
      return illegal(view, event)
    case 'suspect':
      if (view.phase === 'healthy' || view.phase === 'suspect' || view.phase === 'handed-back') return ok({ phase: 'suspect', epoch: view.epoch })
      return illegal(view, event)
    case 'certificate': {
      if (view.phase === 'certified' || view.phase === 'taken-over') return illegal(view, event)
      const fresh = staleCheck(view, event.epoch)
      if (!fresh.ok) return fresh
      return ok({ phase: 'certified', epoch: event.epoch })
    }
    case 'takeover-request': {
      if (view.phase === 'certified' || view.phase === 'taken-over') return illegal(view, event)
      const fresh = staleCheck(view, event.epoch)
      if (!fresh.ok) return fresh
      // The origin's own request needs no delay: it has already stopped delivering.
      return ok({ phase: 'taken-over', epoch: event.epoch })
    }
    case 'takeover-delay-elapsed':
      if (view.phase === 'certified') return ok({ phase: 'taken-over', epoch: view.epoch })
      return illegal(view, event)
    case 'handback':
      // The origin's own signed handback of a later epoch ends a takeover we never joined, or heard
      // of late: a certificate for it arriving afterwards is stale (found by the simulator,
      // seed-50410: a late certificate started a takeover nobody would ever hand back).
      if (event.epoch > view.epoch) return ok({ phase: 'handed-back', epoch: event.epoch })
      if (view.phase !== 'certified' && view.phase !== 'taken-over') return illegal(view, event)
      if (event.epoch !== view.epoch) return fail('stale', `handback for epoch ${event.epoch}, the takeover is at epoch ${view.epoch}`)
      return ok({ phase: 'handed-back', epoch: view.epoch })
  }
}
