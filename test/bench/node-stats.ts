// What a benchmark reads about a running node process: its memory and CPU from /proc (Linux), and
// the figures its own Prometheus endpoint (/metrics, admin token) exports: V8 heap, request times.
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import type { Cluster } from '../integration/cluster.js'

/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`: 100 on Linux x86 and arm). */
const CLOCK_TICKS_PER_SECOND = 100
export const MB = 1024 * 1024

export function pidOf(cluster: Cluster, name: string): number {
  const pid = cluster.node(name).process?.pid
  if (pid === undefined || cluster.node(name).process?.exitCode !== null) throw new Error(`${name} is not running`)
  return pid
}

/** Lines of node `name`'s output (its log) that match `pattern` (a /g regex). */
export function logCount(cluster: Cluster, name: string, pattern: RegExp): number {
  return cluster.node(name).output.match(pattern)?.length ?? 0
}

/** VmRSS (resident now), VmHWM (peak resident since start), RssAnon (heap, stacks: not file pages), in bytes. */
export function procMemory(pid: number): { rss: number; hwm: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kB = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024
  return { rss: kB('VmRSS'), hwm: kB('VmHWM'), anon: kB('RssAnon') }
}

/** User + system CPU seconds the process used so far. */
export function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may hold spaces; fields after its closing parenthesis are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND // utime, stime (fields 14, 15)
}

/**
 * Starts metering CPU: the returned function gives the seconds each named process (by pid) and this
 * process have used since. CPU says what a run costs whatever the cores: at N items/s the
 * processes together need N × their sum per item of CPU each second.
 */
export function cpuMeter<K extends string>(pids: Record<K, number>): () => { processes: Record<K, number>; self: number } {
  const entries = Object.entries(pids) as [K, number][]
  const before = entries.map(([, pid]) => procCpuSeconds(pid))
  const selfBefore = process.cpuUsage()
  return () => {
    const self = process.cpuUsage(selfBefore)
    const processes = Object.fromEntries(entries.map(([name, pid], i) => [name, procCpuSeconds(pid) - (before[i] as number)])) as Record<K, number>
    return { processes, self: (self.user + self.system) / 1e6 }
  }
}

/** One node's /metrics as `name{labels}` → value (labels exactly as exported). */
export async function scrape(cluster: Cluster, name: string): Promise<Map<string, number>> {
  const node = cluster.node(name)
  const response = await fetch(`${node.baseUrl}/metrics`, { headers: { authorization: `Bearer ${node.adminToken}` }, signal: AbortSignal.timeout(10_000) })
  if (!response.ok) throw new Error(`${name} /metrics: ${response.status}`)
  const figures = new Map<string, number>()
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const cut = line.lastIndexOf(' ')
    figures.set(line.slice(0, cut), Number(line.slice(cut + 1)))
  }
  return figures
}

/** The value of `name` (the sum over all its label sets when it has several). */
export function metric(figures: Map<string, number>, name: string, labels?: string): number {
  if (labels !== undefined) return figures.get(`${name}{${labels}}`) ?? NaN
  let total = NaN
  for (const [key, value] of figures) if (key === name || key.startsWith(`${name}{`)) total = (Number.isNaN(total) ? 0 : total) + value
  return total
}

/** Sorted ascending; nearest-rank percentile. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * How busy the machine is besides us: the 1-minute load average and the share of the last 60 s
 * in which some runnable task waited for a CPU (/proc/pressure/cpu, Linux PSI; null without it).
 */
export function machineLoad(): string {
  let pressure = 'n/a'
  try {
    pressure = /^some avg10=[\d.]+ avg60=([\d.]+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1] ?? 'n/a'
  } catch {
    // no PSI on this kernel
  }
  return `loadavg1=${loadavg()[0]?.toFixed(2)} cpu_pressure_some_avg60=${pressure}%`
}
