// A deterministic byte stream from a seed (SHA-256 in counter mode). Used for test vectors and by
// the simulator; a live node passes crypto-strength randomness instead. Never use it for real keys.
import { concatBytes, sha256, utf8 } from './encoding.js'
import type { RandomBytes } from './seal.js'

export function deterministicRandom(seed: string): RandomBytes {
  const prefix = utf8(`standin/1/drbg\n${seed}\n`)
  let counter = 0
  let pool: Uint8Array = new Uint8Array(0)
  return (byteLength: number) => {
    while (pool.byteLength < byteLength) {
      const block = sha256(concatBytes(prefix, utf8(String(counter++))))
      pool = concatBytes(pool, block)
    }
    const out = pool.slice(0, byteLength)
    pool = pool.slice(byteLength)
    return out
  }
}
