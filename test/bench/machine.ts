import { cpus, totalmem } from 'node:os'

/** The line every benchmark prints first, so a figure is never read without its machine. */
export function machineLine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown cpu'
  return `machine: ${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}, ${process.platform}/${process.arch}`
}
