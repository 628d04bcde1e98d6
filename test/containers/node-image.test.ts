// The repository's Dockerfile (examples/deploy/README.md), built and run as an operator runs it.
// No registry is reachable here, so its BASE_IMAGE is a stand-in for node:20-bookworm-slim built
// from this machine's Node (node-image/images.ts). Three data directories are made on the host with
// the CLI (init, invites, terms signed by every party: Cluster.create), and three nodes run FROM THE
// IMAGE with host networking, each with its directory bind-mounted at /data. Three, not two: with
// two parties the terms' lease quorum is 0 and a stopping node has nothing to fence. Shop A has a
// shop (the simulator, in this process) at its callback URL, so the fence is seen where it lands.
// In CI a missing Docker fails this suite instead of skipping it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ShopSimulator, startShopSimulator } from '../../examples/shop-simulator/simulator.js'
import type { PartnerStatus } from '../../node/core/api-schemas.js'
import { Cluster, freePort, waitFor } from '../integration/cluster.js'
import { canRun, requireOrSkip } from '../support/requirements.js'
import { IMAGE_BUILD_TIMEOUT_MS } from './images.js'
import {
  containerLog,
  DOCKER_COMMAND_TIMEOUT_MS,
  dockerAsync,
  IMAGE_UID,
  inspect,
  logMessages,
  removeContainers,
  runNodeContainer,
} from './node-image/containers.js'
import { buildNodeImage, ensureNodeBaseImage } from './node-image/images.js'

const docker = requireOrSkip('docker', canRun('docker', ['info']), 'run ../shared/ci/provision.sh docker')

/** Three data directories through the CLI (init, invites, terms): about 13 CLI processes, ≈30 s here. */
const CLUSTER_CREATE_TIMEOUT_MS = 240_000
/** Two builds (the Node stand-in, then the repository's image with npm ci over the network), then the data directories. */
const SETUP_TIMEOUT_MS = 2 * IMAGE_BUILD_TIMEOUT_MS + CLUSTER_CREATE_TIMEOUT_MS
/** Three containers compiling the sources with tsx at once on two busy cores, until each /readyz answers. */
const READY_TIMEOUT_MS = 180_000
/** Until every node lists both partners connected with a heartbeat. */
const CONNECTED_TIMEOUT_MS = 90_000
/** Until shop A's node holds its leases and has lifted the fence it starts with. */
const LEASES_TIMEOUT_MS = 90_000
/** Until Docker's healthcheck (run every HEALTH_INTERVAL_S here instead of the image's 30 s) says healthy. */
const HEALTHY_TIMEOUT_MS = 60_000
const HEALTH_INTERVAL_S = 1
/** How often the waits below look again. */
const POLL_MS = 500
/** The containers' stop timeout (docker run --stop-timeout, seconds): above the CLI's own 30 s bound, as the deploy guide says. */
const STOP_TIMEOUT_S = 40
/** Room around the waits of one test for the docker commands between them. */
const SLACK_MS = 60_000
/** `docker stop` returns once the container exited; Docker SIGKILLs it after STOP_TIMEOUT_S, so this bounds the command. */
const DOCKER_STOP_TIMEOUT_MS = STOP_TIMEOUT_S * 1_000 + SLACK_MS
/** `docker run --rm <image> --version`: one CLI start in a fresh container. */
const VERSION_RUN_TIMEOUT_MS = 60_000
const IMAGE_TEST_TIMEOUT_MS = VERSION_RUN_TIMEOUT_MS + DOCKER_COMMAND_TIMEOUT_MS
const RUN_TEST_TIMEOUT_MS = READY_TIMEOUT_MS + CONNECTED_TIMEOUT_MS + HEALTHY_TIMEOUT_MS + SLACK_MS
const STOP_TEST_TIMEOUT_MS = LEASES_TIMEOUT_MS + DOCKER_STOP_TIMEOUT_MS + SLACK_MS
/** What `standin run` logs once a stop has fenced the shop (node/node.ts). */
const FENCED_AT_STOP = 'stopping: shop fenced until this node is back and holds its leases'

const NAMES = ['A', 'B', 'C'] as const

describe.skipIf(!docker)('the node image (Dockerfile)', () => {
  let image = ''
  let cluster: Cluster | undefined
  let shopA: ShopSimulator | undefined
  const containers = new Map<string, string>()

  beforeAll(async () => {
    await removeContainers([]) // leftovers of a killed run
    const started = performance.now()
    const base = await ensureNodeBaseImage()
    const baseMs = Math.round(performance.now() - started)
    const built = await buildNodeImage(base.ref)
    image = built.ref
    console.info(
      `[node-image] base ${base.ref} ${base.reused ? 'reused' : 'built'} (${baseMs} ms); image ${image.replace(/^sha256:/, '').slice(0, 12)} ${built.reused ? 'unchanged' : 'built'} (${Math.round(performance.now() - started - baseMs)} ms)`,
    )
    const shopPort = await freePort()
    cluster = await Cluster.create([...NAMES], { initArgs: (name) => (name === 'A' ? ['--callback-url', `http://127.0.0.1:${shopPort}`] : []) })
    const a = cluster.node('A')
    shopA = await startShopSimulator({
      name: 'Shop A',
      port: shopPort,
      node: { baseUrl: a.baseUrl, secret: a.adapter.requestSecret },
      callbackSecret: a.adapter.callbackSecret,
      skus: [{ sku: 'steam-50', priceMinorUnits: 5_000, currency: 'CNY', keys: 10 }],
      healthRepeatMs: 1_000,
    })
  }, SETUP_TIMEOUT_MS)

  afterAll(async () => {
    await removeContainers([...containers.values()])
    await shopA?.stop()
    await cluster?.stop()
  })

  const partners = async (name: string) => (await cluster!.admin<{ partners: PartnerStatus[] }>(name, '/v1/admin/partners')).partners

  it(
    'is the CLI, as a non-root user, with a healthcheck, a data volume and the default ports',
    async () => {
      expect(await inspect(image, '{{.Config.User}} {{json .Config.Entrypoint}} {{json .Config.Cmd}} {{.Config.StopSignal}}')).toBe(
        'standin ["node","bin/standin.js"] ["run","-d","/data"] SIGTERM',
      )
      expect(JSON.parse(await inspect(image, '{{json .Config.Volumes}}'))).toEqual({ '/data': {} })
      expect(Object.keys(JSON.parse(await inspect(image, '{{json .Config.ExposedPorts}}'))).sort()).toEqual(['4001/tcp', '8080/tcp'])
      expect(await inspect(image, '{{index .Config.Healthcheck.Test 0}} {{index .Config.Healthcheck.Test 1}}')).toBe('CMD node')
      const { stdout } = await dockerAsync(
        ['run', '--rm', '--network', 'none', '--entrypoint', 'sh', image, '-c', 'id -u; standin --version'],
        VERSION_RUN_TIMEOUT_MS,
      )
      const [uid, version] = stdout.trim().split('\n')
      expect(Number(uid)).toBe(IMAGE_UID)
      expect(version).toMatch(/^\d+\.\d+\.\d+/)
    },
    IMAGE_TEST_TIMEOUT_MS,
  )

  it(
    'runs three nodes from the image: each serves /readyz, connects to both partners and turns healthy',
    async () => {
      const c = cluster!
      for (const name of NAMES) {
        const options = ['--stop-timeout', String(STOP_TIMEOUT_S), '--health-interval', `${HEALTH_INTERVAL_S}s`]
        containers.set(name, await runNodeContainer({ image, name, dir: c.node(name).dir, options }))
      }
      for (const name of NAMES) {
        const id = containers.get(name) as string
        const state = await waitFor(
          `node ${name} (container) ready`,
          async () => {
            if ((await inspect(id, '{{.State.Running}}')) !== 'true') return 'exited'
            return (await fetch(`${c.node(name).baseUrl}/readyz`)).ok ? 'ready' : undefined
          },
          READY_TIMEOUT_MS,
          POLL_MS,
        )
        if (state === 'exited') throw new Error(`container ${name} exited: ${await containerLog(id)}`)
      }
      await waitFor(
        'every node connected to both partners',
        async () => {
          for (const name of NAMES) {
            const list = await partners(name)
            if (list.length !== NAMES.length - 1 || !list.every((p) => p.connected && p.lastHeartbeatAt !== null)) return undefined
          }
          return true
        },
        CONNECTED_TIMEOUT_MS,
        POLL_MS,
      )
      for (const name of NAMES) {
        const id = containers.get(name) as string
        // The image's own check (only its interval shortened here), on the port in this node's config.json.
        await waitFor(
          `container ${name} healthy`,
          async () => ((await inspect(id, '{{.State.Health.Status}}')) === 'healthy' ? true : undefined),
          HEALTHY_TIMEOUT_MS,
          POLL_MS,
        )
      }
    },
    RUN_TEST_TIMEOUT_MS,
  )

  it(
    'docker stop ends a node gracefully: exit 0, its shop fenced and the log saying so; its partners stay up',
    async () => {
      const c = cluster!
      const shop = shopA!
      const a = containers.get('A') as string
      expect(a).toBeDefined()
      // Before: A holds its leases, so it has lifted the fence it starts with.
      await waitFor(
        "A's shop unfenced by its node",
        async () => (!(await c.admin<{ fenced: boolean }>('A', '/v1/admin/self')).fenced && !shop.state().fenced ? true : undefined),
        LEASES_TIMEOUT_MS,
        POLL_MS,
      )
      await dockerAsync(['stop', a], DOCKER_STOP_TIMEOUT_MS) // SIGTERM to PID 1 (node), SIGKILL only after STOP_TIMEOUT_S
      const log = await containerLog(a)
      expect(await inspect(a, '{{.State.Status}} {{.State.ExitCode}} {{.State.OOMKilled}}'), log).toBe('exited 0 false')
      expect(logMessages(log), log).toContain(FENCED_AT_STOP)
      expect(log).not.toMatch(/took over \d+ s; exiting/)
      expect(shop.state().fenced).toBe(true)
      // B and C run on: containers up, ready, and still connected to each other.
      for (const name of ['B', 'C'] as const) {
        expect(await inspect(containers.get(name) as string, '{{.State.Running}}')).toBe('true')
        expect((await fetch(`${c.node(name).baseUrl}/readyz`)).ok).toBe(true)
      }
      expect((await partners('B')).find((p) => p.id === c.node('C').id)?.connected).toBe(true)
    },
    STOP_TEST_TIMEOUT_MS,
  )
})
