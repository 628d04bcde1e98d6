// The acg-faka adapter against a real MariaDB (test/containers/mariadb.ts) holding a FAKE acg-faka
// (acg-faka-shop.ts: its tables and its SERIALIZABLE payment, reproduced in SQL) and a FAKE node
// (test/adapters/fake-node.ts). In CI a missing Docker fails this suite instead of skipping it.
import { afterAll, beforeAll, describe } from 'vitest'
import { describeAdapterConformance } from '../adapters/conformance.js'
import { canRun, requireOrSkip } from '../support/requirements.js'
import { describeAcgCases } from './acg-faka.cases.js'
import { acgConformanceRig } from './acg-faka-rig.js'
import { IMAGE_BUILD_TIMEOUT_MS, type MariaDb, STARTUP_TIMEOUT_MS, startMariaDb } from './mariadb.js'

const docker = requireOrSkip('docker', canRun('docker', ['info']), 'run ../shared/ci/provision.sh docker')

describe.skipIf(!docker)('acg-faka adapter on MariaDB', () => {
  let db: MariaDb
  beforeAll(async () => {
    db = await startMariaDb()
  }, IMAGE_BUILD_TIMEOUT_MS + STARTUP_TIMEOUT_MS)
  afterAll(async () => {
    await db?.stop()
  })

  describeAdapterConformance('acg-faka (port in-process)', () => acgConformanceRig(db, false))
  describeAdapterConformance('acg-faka (stock node → callback API → acg-faka)', () => acgConformanceRig(db, true))
  describeAcgCases(() => db)
})
