// Seeded randomness for the simulator. Bytes come from the protocol's SHA-256 DRBG so sealed
// boxes are reproducible; numbers from mulberry32, which is tiny, fast and good enough for
// drawing delays and fault mixes (never for keys).
import { deterministicRandom } from '../../protocol/index.js'
import type { Rng } from '../../node/core/ports.js'

export class Prng implements Rng {
  private state: number
  private readonly byteSource: (n: number) => Uint8Array

  constructor(seed: string) {
    const bytes = deterministicRandom(`prng/${seed}`)(4)
    this.state = ((bytes[0] as number) << 24) | ((bytes[1] as number) << 16) | ((bytes[2] as number) << 8) | (bytes[3] as number)
    this.byteSource = deterministicRandom(`bytes/${seed}`)
  }

  bytes(byteLength: number): Uint8Array {
    return this.byteSource(byteLength)
  }

  /** Uniform float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  chance(probability: number): boolean {
    return this.next() < probability
  }
}
