// Node containers for test/containers/node-image.test.ts: `docker run` of the repository's image
// with host networking and a data directory bind-mounted at /data, through the docker CLI without
// blocking this process (the test's shop simulator must keep answering the node's callbacks).
import { execFile } from 'node:child_process'
import { chownSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { LABEL, OWNER_LABEL, removeOrphans } from '../images.js'

/** The label value of these containers (`standin.test=standin-node`): a killed run's are removed by the next. */
export const CONTAINER_LABEL = 'standin-node'
/** The image's user and group (Dockerfile: `useradd --uid 10001`). */
export const IMAGE_UID = 10001
/** Most a plain docker command (run -d, inspect, logs, rm) may take on a busy machine. */
export const DOCKER_COMMAND_TIMEOUT_MS = 60_000

export function dockerAsync(args: string[], timeoutMs = DOCKER_COMMAND_TIMEOUT_MS): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('docker', args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`docker ${args.slice(0, 2).join(' ')} failed: ${error.message} ${stderr.trim()}`))
      else resolve({ stdout, stderr })
    })
  })
}

function chownTree(path: string, uid: number): void {
  chownSync(path, uid, uid)
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.isDirectory()) chownTree(join(path, entry.name), uid)
    else chownSync(join(path, entry.name), uid, uid)
  }
}

/**
 * How a container may use a data directory the CLI made on the host (0700, its files 0600). As
 * root (CI here) the directory is given to the image's user, so the node runs as that user, as it
 * does for operators; otherwise the container runs as this process's user, who owns the directory.
 */
export function runAsArgs(dir: string): string[] {
  const uid = process.getuid?.()
  const gid = process.getgid?.()
  if (uid === 0) {
    chownTree(dir, IMAGE_UID)
    return []
  }
  return uid === undefined || gid === undefined ? [] : ['--user', `${uid}:${gid}`]
}

export interface NodeContainerOptions {
  readonly image: string
  /** Unique among this process's containers. */
  readonly name: string
  /** The node's data directory on the host, mounted at /data. */
  readonly dir: string
  /** Extra `docker run` options (e.g. a shorter --health-interval). */
  readonly options?: readonly string[]
}

/** `docker run -d` of the image's default command (`run -d /data`); returns the container id. */
export async function runNodeContainer(o: NodeContainerOptions): Promise<string> {
  const { stdout } = await dockerAsync([
    'run',
    '--detach',
    '--name',
    `standin-test-node-${process.pid}-${o.name}`,
    '--label',
    `${LABEL}=${CONTAINER_LABEL}`,
    '--label',
    `${OWNER_LABEL}=${process.pid}`,
    '--network',
    'host',
    '--volume',
    `${o.dir}:/data`,
    ...runAsArgs(o.dir),
    ...(o.options ?? []),
    o.image,
  ])
  return stdout.trim()
}

/** `docker inspect --format <format>` of a container or image. */
export async function inspect(id: string, format: string): Promise<string> {
  return (await dockerAsync(['inspect', '--format', format, id])).stdout.trim()
}

/** The container's output so far: the node's JSON log lines (stdout) and the CLI's own messages (stderr). */
export async function containerLog(id: string): Promise<string> {
  const { stdout, stderr } = await dockerAsync(['logs', id])
  return `${stdout}${stderr}`
}

/** The `msg` of each JSON log line in `log` (other lines are skipped). */
export function logMessages(log: string): string[] {
  return log.split('\n').flatMap((line) => {
    try {
      const entry = JSON.parse(line) as { msg?: unknown }
      return typeof entry.msg === 'string' ? [entry.msg] : []
    } catch {
      return []
    }
  })
}

/** Removes these containers (running or not), and any a killed earlier run left behind. */
export async function removeContainers(ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await dockerAsync(['rm', '--force', '--volumes', ...ids]).catch(() => undefined)
  removeOrphans(CONTAINER_LABEL)
}
