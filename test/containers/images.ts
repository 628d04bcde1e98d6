// The database servers of the container tests (DEVELOPERS.md, "Container tests"): each image is
// built from test/containers/<name>/Dockerfile FROM the locally provisioned base image with
// Debian's own server package, by the docker CLI with `--network host` (testcontainers' builder
// cannot set the build network, and apt needs it), tagged by a hash of its inputs and reused while
// they do not change. Containers run with host networking, bound to 127.0.0.1 on a port picked by
// the test, started and stopped through testcontainers.
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers'
import { freePort } from '../../examples/support/processes.js'

export const BASE_IMAGE = process.env.STANDIN_TEST_BASE_IMAGE ?? 'standin/base:bookworm'
/** A cold build (apt-get install of the server) takes 25–45 s here; allow for a slow mirror. */
export const IMAGE_BUILD_TIMEOUT_MS = 10 * 60_000
/** From `docker run` to "ready" (≈2 s here). */
export const STARTUP_TIMEOUT_MS = 60_000
/** Every test container carries these: what it is, and the test process that owns it. */
export const LABEL = 'standin.test'
export const OWNER_LABEL = 'standin.test.owner-pid'

/** The image directories under test/containers/. */
export type ServerImage = 'mariadb' | 'postgres'

export function docker(args: string[], timeoutMs = 30_000): string {
  const result = spawnSync('docker', args, { encoding: 'utf8', timeout: timeoutMs })
  if (result.error !== undefined) throw result.error
  if (result.status !== 0) throw new Error(`docker ${args.join(' ')} exited ${result.status}: ${result.stderr.trim()}`)
  return result.stdout.trim()
}

const contextOf = (name: ServerImage) => join(dirname(fileURLToPath(import.meta.url)), name)

/** The tag for the current Dockerfile, start script and base image: a change to any rebuilds. */
function imageTag(name: ServerImage): string {
  const hash = createHash('sha256')
  for (const file of ['Dockerfile', 'start.sh']) hash.update(readFileSync(join(contextOf(name), file)))
  hash.update(docker(['image', 'inspect', '--format', '{{.Id}}', BASE_IMAGE]))
  return `standin-test/${name}:${hash.digest('hex').slice(0, 16)}`
}

/** Whether the local daemon has an image of this tag or id. */
export function imageExists(image: string): boolean {
  return spawnSync('docker', ['image', 'inspect', image], { stdio: 'ignore' }).status === 0
}

/**
 * `docker build --network host` of `context` (its Dockerfile), without blocking this process (the
 * test's own servers keep answering); fails after IMAGE_BUILD_TIMEOUT_MS.
 */
export async function buildImage(tag: string, context: string, buildArgs: Record<string, string>, iidFile?: string): Promise<void> {
  const args = ['build', '--network', 'host', ...Object.entries(buildArgs).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`])]
  await new Promise<void>((resolve, reject) => {
    const build = spawn('docker', [...args, ...(iidFile === undefined ? [] : ['--iidfile', iidFile]), '-t', tag, context], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    build.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)))
    const timer = setTimeout(() => build.kill('SIGKILL'), IMAGE_BUILD_TIMEOUT_MS)
    build.on('error', reject)
    build.on('close', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve()
      else reject(new Error(`docker build of ${tag} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`))
    })
  })
}

/** Builds the image unless a build of these exact inputs exists; returns its tag and whether it was reused. */
export async function ensureImage(name: ServerImage): Promise<{ tag: string; reused: boolean }> {
  const tag = imageTag(name)
  if (imageExists(tag)) return { tag, reused: true }
  await buildImage(tag, contextOf(name), { STANDIN_TEST_BASE_IMAGE: BASE_IMAGE })
  return { tag, reused: false }
}

/** Removes test containers labelled `name` left behind by test processes that no longer exist (killed runs). */
export function removeOrphans(name: string): void {
  const lines = docker(['ps', '-a', '--filter', `label=${LABEL}=${name}`, '--format', `{{.ID}} {{.Label "${OWNER_LABEL}"}}`])
  for (const line of lines.split('\n').filter(Boolean)) {
    const [id, pid] = line.split(' ')
    if (id === undefined) continue
    let alive = false
    try {
      process.kill(Number(pid), 0)
      alive = true
    } catch {
      alive = false
    }
    if (!alive) spawnSync('docker', ['rm', '-f', id], { stdio: 'ignore', timeout: 30_000 })
  }
}

/** A database server of the container tests, as a test file holds it. */
export interface DatabaseServer {
  readonly host: '127.0.0.1'
  readonly port: number
  readonly image: { tag: string; reused: boolean }
  /** Creates an empty database and returns its name. */
  createDatabase(prefix: string): Promise<string>
  stop(): Promise<void>
}

export interface StartedServer {
  readonly port: number
  readonly image: { tag: string; reused: boolean }
  readonly container: StartedTestContainer
}

/** Builds (or reuses) the image and starts it on a free loopback port, waiting for `ready` in its log. */
export async function startServer(name: ServerImage, ready: RegExp): Promise<StartedServer> {
  // Ryuk, testcontainers' reaper, is an image from Docker Hub, which cannot be pulled here;
  // containers are removed by stop() and, after a killed run, by removeOrphans().
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true'
  removeOrphans(name)
  const image = await ensureImage(name)
  const port = await freePort()
  const container = await new GenericContainer(image.tag)
    .withNetworkMode('host')
    .withCommand([String(port)])
    .withLabels({ [LABEL]: name, [OWNER_LABEL]: String(process.pid) })
    .withWaitStrategy(Wait.forLogMessage(ready))
    .withStartupTimeout(STARTUP_TIMEOUT_MS)
    .start()
  return { port, image, container }
}
