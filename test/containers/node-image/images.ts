// The images of the node image test (test/containers/node-image.test.ts, DEVELOPERS.md "Container
// tests"). The repository's Dockerfile is built FROM a Node 20 image; the official one cannot be
// pulled here, so a stand-in is built first: the locally provisioned Debian base with THIS machine's
// Node binary and npm copied in (./Dockerfile), tagged by a hash of its inputs and reused while they
// do not change. The repository's image is then built by `docker build` every run: Docker's layer
// cache is keyed by every file the Dockerfile copies, so an unchanged clone costs well under a second
// and a changed source file rebuilds only from its COPY on.
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BASE_IMAGE, buildImage, docker, imageExists } from '../images.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const REPO = join(HERE, '..', '..', '..')

/** Where the host keeps the CA bundle its Node and npm trust (npm's `cafile` here); the first that exists is used. */
const CA_BUNDLES = [process.env.NODE_EXTRA_CA_CERTS, '/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt']

export interface BuiltImage {
  /** A tag, or the image id. */
  readonly ref: string
  /** Whether an image of exactly these inputs existed before (nothing was built). */
  readonly reused: boolean
}

/** npm as it ships with this Node: <prefix>/lib/node_modules/npm, else where `npm root -g` says. */
function npmFolder(): string {
  const candidates = [join(dirname(dirname(process.execPath)), 'lib', 'node_modules', 'npm')]
  const root = spawnSync('npm', ['root', '-g'], { encoding: 'utf8', timeout: 30_000 })
  if (root.status === 0) candidates.push(join(root.stdout.trim(), 'npm'))
  for (const dir of candidates) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'npm') return dir
    } catch {
      // not there: the next one
    }
  }
  throw new Error(`npm not found beside ${process.execPath} (looked in ${candidates.join(', ')})`)
}

/**
 * The stand-in for node:20-bookworm-slim: Debian bookworm (minbase) + this process's Node + its
 * npm + the host's CA bundle, tagged standin-test/node-base:<hash of all of them and the base image>.
 */
export async function ensureNodeBaseImage(): Promise<BuiltImage> {
  const npm = npmFolder()
  const ca = CA_BUNDLES.find((path): path is string => path !== undefined && path !== '' && existsSync(path))
  const hash = createHash('sha256')
  hash.update(readFileSync(join(HERE, 'Dockerfile')))
  hash.update(readFileSync(process.execPath))
  hash.update(readFileSync(join(npm, 'package.json')))
  hash.update(ca === undefined ? '' : readFileSync(ca))
  hash.update(docker(['image', 'inspect', '--format', '{{.Id}}', BASE_IMAGE]))
  const tag = `standin-test/node-base:${hash.digest('hex').slice(0, 16)}`
  if (imageExists(tag)) return { ref: tag, reused: true }
  const context = mkdtempSync(join(tmpdir(), 'standin-node-base-'))
  try {
    copyFileSync(join(HERE, 'Dockerfile'), join(context, 'Dockerfile'))
    copyFileSync(process.execPath, join(context, 'node'))
    chmodSync(join(context, 'node'), 0o755)
    cpSync(npm, join(context, 'npm'), { recursive: true, verbatimSymlinks: true })
    if (ca === undefined) writeFileSync(join(context, 'ca-certificates.crt'), '')
    else copyFileSync(ca, join(context, 'ca-certificates.crt'))
    await buildImage(tag, context, { STANDIN_TEST_BASE_IMAGE: BASE_IMAGE })
  } finally {
    rmSync(context, { recursive: true, force: true })
  }
  return { ref: tag, reused: false }
}

const NODE_IMAGE_REPO = 'standin-test/node'

/**
 * The repository's Dockerfile built on `base` (`--build-arg BASE_IMAGE`), with `--network host` for
 * npm ci. Returns the image id, also tagged standin-test/node:<12 hex digits of it> so that old builds
 * can be listed and removed (`docker image rm $(docker images -q standin-test/node)`).
 */
export async function buildNodeImage(base: string): Promise<BuiltImage> {
  const before = new Set(docker(['images', '--no-trunc', '--quiet', NODE_IMAGE_REPO]).split('\n').filter(Boolean))
  const scratch = mkdtempSync(join(tmpdir(), 'standin-node-image-'))
  try {
    const iidFile = join(scratch, 'iid')
    await buildImage(`${NODE_IMAGE_REPO}:building-${process.pid}`, REPO, { BASE_IMAGE: base }, iidFile)
    const id = readFileSync(iidFile, 'utf8').trim()
    docker(['tag', id, `${NODE_IMAGE_REPO}:${id.replace(/^sha256:/, '').slice(0, 12)}`])
    docker(['image', 'rm', `${NODE_IMAGE_REPO}:building-${process.pid}`]) // the tag only; the image keeps its id tag
    return { ref: id, reused: before.has(id) }
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}
