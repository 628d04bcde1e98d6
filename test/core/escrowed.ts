// The set-up the takeover tests share: shop A consigns keys to some partners, then escrows orders
// O-0 … O-(n-1), and partners hold them (virtual time 1.5 s).
import { SimFederation, type SimOptions, type SimShop, simOrder } from '../sim/sim-federation.js'

export async function escrowedAtA(
  seed: string,
  options: { holders: readonly string[]; keysEach: number; orders: number; clockFor?: SimOptions['clockFor'] },
): Promise<{ sim: SimFederation; shops: SimShop[] }> {
  const sim = await SimFederation.create({ seed, shops: 3, ...(options.clockFor ? { clockFor: options.clockFor } : {}) })
  const shops = ['A', 'B', 'C'].map((n) => sim.shop(n))
  const a = sim.shop('A')
  await sim.runUntil(600)
  for (const holder of options.holders) await a.engine.consign(sim.shop(holder).identity.id, 'card-100', options.keysEach)
  await sim.runUntil(1_200)
  await a.engine.submitOrders(Array.from({ length: options.orders }, (_, i) => simOrder(sim.prng, i)))
  await sim.runUntil(1_500)
  return { sim, shops }
}
