// The dujiaoka adapter against a real MariaDB (test/containers/mariadb.ts) holding a FAKE dujiaoka
// (dujiaoka-shop.ts: its tables and its unlocked sale, reproduced in SQL) and a FAKE node
// (test/adapters/fake-node.ts). In CI a missing Docker fails this suite instead of skipping it.
import { afterAll, beforeAll, describe } from 'vitest'
import { describeAdapterConformance } from '../adapters/conformance.js'
import { canRun, requireOrSkip } from '../support/requirements.js'
import { describeBridgeCases } from './dujiaoka-bridge.cases.js'
import { describeConsignCases } from './dujiaoka-consign.cases.js'
import { describeFrozenTrxCases } from './dujiaoka-frozen-trx.cases.js'
import { describeSchemaCases } from './dujiaoka-schema.cases.js'
import { dujiaokaConformanceRig } from './dujiaoka-rig.js'
import { describeStatementTimeoutCases } from './dujiaoka-timeouts.cases.js'
import { describeWriteBackCases } from './dujiaoka-write-back.cases.js'
import { IMAGE_BUILD_TIMEOUT_MS, type MariaDb, STARTUP_TIMEOUT_MS, startMariaDb } from './mariadb.js'

const docker = requireOrSkip('docker', canRun('docker', ['info']), 'run ../shared/ci/provision.sh docker')
const SETUP_TIMEOUT_MS = IMAGE_BUILD_TIMEOUT_MS + STARTUP_TIMEOUT_MS

// One container for the whole file (every test makes its own database in it).
describe.skipIf(!docker)('dujiaoka adapter on MariaDB', () => {
  let db: MariaDb
  beforeAll(async () => {
    const started = performance.now()
    db = await startMariaDb()
    console.info(
      `[mariadb] image ${db.image.tag} ${db.image.reused ? 'reused' : 'built'}; up on 127.0.0.1:${db.port} after ${Math.round(performance.now() - started)} ms`,
    )
  }, SETUP_TIMEOUT_MS)
  afterAll(async () => {
    await db?.stop()
  })

  describeAdapterConformance('dujiaoka (port in-process)', () => dujiaokaConformanceRig(db, false))
  describeAdapterConformance('dujiaoka (stock node → callback API → dujiaoka)', () => dujiaokaConformanceRig(db, true))

  describeConsignCases(() => db)
  describeFrozenTrxCases(() => db)
  describeBridgeCases(() => db)
  describeWriteBackCases(() => db)
  describeStatementTimeoutCases(() => db)
  describeSchemaCases(() => db)
})
