// A real MariaDB for container tests (DEVELOPERS.md, "Container tests"). The image is built from
// test/containers/mariadb/Dockerfile FROM the locally provisioned base image with Debian's
// mariadb-server, by the docker CLI with `--network host` (testcontainers' builder cannot set the
// build network, and apt needs it), tagged by a hash of its inputs and reused while they do not
// change. The container runs with host networking, MariaDB bound to 127.0.0.1 on a port picked
// here, and is started and stopped through testcontainers.
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import mysql from 'mysql2/promise'
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers'
import { freePort } from '../../examples/support/processes.js'

const CONTEXT = join(dirname(fileURLToPath(import.meta.url)), 'mariadb')
export const BASE_IMAGE = process.env.STANDIN_TEST_BASE_IMAGE ?? 'standin/base:bookworm'
/** A cold build (apt-get install mariadb-server) takes ≈25 s here; allow for a slow mirror. */
export const IMAGE_BUILD_TIMEOUT_MS = 10 * 60_000
/** From `docker run` to "ready for connections" (≈2 s here). */
export const STARTUP_TIMEOUT_MS = 60_000
const LABEL = 'standin.test'
const OWNER_LABEL = 'standin.test.owner-pid'

export const ROOT_USER = 'standin'
export const ROOT_PASSWORD = 'standin'

function docker(args: string[], timeoutMs = 30_000): string {
  const result = spawnSync('docker', args, { encoding: 'utf8', timeout: timeoutMs })
  if (result.error !== undefined) throw result.error
  if (result.status !== 0) throw new Error(`docker ${args.join(' ')} exited ${result.status}: ${result.stderr.trim()}`)
  return result.stdout.trim()
}

/** The tag for the current Dockerfile, start script and base image: a change to any rebuilds. */
function imageTag(): string {
  const hash = createHash('sha256')
  for (const file of ['Dockerfile', 'start.sh']) hash.update(readFileSync(join(CONTEXT, file)))
  hash.update(docker(['image', 'inspect', '--format', '{{.Id}}', BASE_IMAGE]))
  return `standin-test/mariadb:${hash.digest('hex').slice(0, 16)}`
}

/** Builds the image unless a build of these exact inputs exists; returns its tag and whether it was reused. */
export async function ensureMariaDbImage(): Promise<{ tag: string; reused: boolean }> {
  const tag = imageTag()
  if (spawnSync('docker', ['image', 'inspect', tag], { stdio: 'ignore' }).status === 0) return { tag, reused: true }
  await new Promise<void>((resolve, reject) => {
    const build = spawn('docker', ['build', '--network', 'host', '--build-arg', `STANDIN_TEST_BASE_IMAGE=${BASE_IMAGE}`, '-t', tag, CONTEXT], {
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
  return { tag, reused: false }
}

/** Removes MariaDB test containers left running by test processes that no longer exist (killed runs). */
function removeOrphans(): void {
  const lines = docker(['ps', '-a', '--filter', `label=${LABEL}=mariadb`, '--format', `{{.ID}} {{.Label "${OWNER_LABEL}"}}`])
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

export interface MariaDb {
  readonly host: '127.0.0.1'
  readonly port: number
  readonly image: { tag: string; reused: boolean }
  /** Creates an empty database and returns its name. */
  createDatabase(prefix: string): Promise<string>
  stop(): Promise<void>
}

export async function startMariaDb(): Promise<MariaDb> {
  // Ryuk, testcontainers' reaper, is an image from Docker Hub, which cannot be pulled here;
  // containers are removed by stop() and, after a killed run, by removeOrphans().
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true'
  removeOrphans()
  const image = await ensureMariaDbImage()
  const port = await freePort()
  const container: StartedTestContainer = await new GenericContainer(image.tag)
    .withNetworkMode('host')
    .withCommand([String(port)])
    .withLabels({ [LABEL]: 'mariadb', [OWNER_LABEL]: String(process.pid) })
    .withWaitStrategy(Wait.forLogMessage(/ready for connections/))
    .withStartupTimeout(STARTUP_TIMEOUT_MS)
    .start()
  const admin = await mysql.createConnection({ host: '127.0.0.1', port, user: ROOT_USER, password: ROOT_PASSWORD, connectTimeout: 10_000 })
  let databases = 0
  return {
    host: '127.0.0.1',
    port,
    image,
    async createDatabase(prefix) {
      const name = `${prefix}_${++databases}`
      await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
      return name
    },
    async stop() {
      await admin.end().catch(() => undefined)
      await container.stop() // killed and removed at once: the database is thrown away
    },
  }
}
