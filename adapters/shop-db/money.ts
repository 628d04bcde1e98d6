// The shops keep prices as DECIMAL (e.g. "12.50"); Standin speaks integer minor units. The
// conversion is done on the digits, never through a float, and refuses anything inexact.
import { LIMITS } from '../../protocol/index.js'

const DECIMAL = /^(\d{1,30})(?:\.(\d{1,30}))?$/

/** "12.50" with 2 minor digits → 1250. Throws on negatives, junk, or sub-minor-unit amounts ("0.001"). */
export function decimalToMinorUnits(text: string, minorDigits: number): number {
  const match = DECIMAL.exec(text.trim())
  if (match === null) throw new Error(`amount ${JSON.stringify(text)}: not a non-negative decimal`)
  const whole = match[1] as string
  const fraction = match[2] ?? ''
  const kept = fraction.slice(0, minorDigits).padEnd(minorDigits, '0')
  const dropped = fraction.slice(minorDigits)
  if (/[1-9]/.test(dropped)) throw new Error(`amount ${text}: finer than a minor unit (${minorDigits} decimal places)`)
  const minor = BigInt(whole) * 10n ** BigInt(minorDigits) + BigInt(kept === '' ? '0' : kept)
  if (minor > BigInt(LIMITS.maxMinorUnits)) throw new Error(`amount ${text}: larger than ${LIMITS.maxMinorUnits} minor units`)
  return Number(minor)
}
