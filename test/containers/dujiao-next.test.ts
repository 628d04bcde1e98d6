// The Dujiao-Next adapter against a real PostgreSQL (test/containers/postgres.ts) holding a FAKE
// Dujiao-Next (dujiao-next-shop.ts: its tables and its checkout, payment and delivery transactions,
// reproduced in SQL) and a FAKE node (test/adapters/fake-node.ts). In CI a missing Docker fails this
// suite instead of skipping it.
import { afterAll, beforeAll, describe } from 'vitest'
import { describeAdapterConformance } from '../adapters/conformance.js'
import { canRun, requireOrSkip } from '../support/requirements.js'
import { describeDujiaoNextCases } from './dujiao-next.cases.js'
import { dujiaoNextConformanceRig } from './dujiao-next-rig.js'
import { IMAGE_BUILD_TIMEOUT_MS, type Postgres, STARTUP_TIMEOUT_MS, startPostgres } from './postgres.js'

const docker = requireOrSkip('docker', canRun('docker', ['info']), 'run ../shared/ci/provision.sh docker')

describe.skipIf(!docker)('Dujiao-Next adapter on PostgreSQL', () => {
  let db: Postgres
  beforeAll(async () => {
    db = await startPostgres()
  }, IMAGE_BUILD_TIMEOUT_MS + STARTUP_TIMEOUT_MS)
  afterAll(async () => {
    await db?.stop()
  })

  describeAdapterConformance('Dujiao-Next (port in-process)', () => dujiaoNextConformanceRig(db, false))
  describeAdapterConformance('Dujiao-Next (stock node → callback API → Dujiao-Next)', () => dujiaoNextConformanceRig(db, true))
  describeDujiaoNextCases(() => db)
})
