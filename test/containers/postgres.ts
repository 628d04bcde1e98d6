// A real PostgreSQL for container tests: Debian's postgresql (15 on bookworm) in an image built by
// images.ts from test/containers/postgres/.
import pg from 'pg'
import { type DatabaseServer, startServer } from './images.js'

export { IMAGE_BUILD_TIMEOUT_MS, STARTUP_TIMEOUT_MS } from './images.js'

export const PG_USER = 'standin'
export const PG_PASSWORD = 'standin'

export type Postgres = DatabaseServer

export async function startPostgres(): Promise<Postgres> {
  const { port, image, container } = await startServer('postgres', /database system is ready to accept connections/)
  const admin = new pg.Client({ host: '127.0.0.1', port, user: PG_USER, password: PG_PASSWORD, database: 'postgres', connectionTimeoutMillis: 10_000 })
  await admin.connect()
  let databases = 0
  return {
    host: '127.0.0.1',
    port,
    image,
    async createDatabase(prefix) {
      const name = `${prefix}_${++databases}`
      await admin.query(`CREATE DATABASE "${name}" ENCODING 'UTF8'`)
      return name
    },
    async stop() {
      await admin.end().catch(() => undefined)
      await container.stop() // killed and removed at once: the database is thrown away
    },
  }
}
