// A real MariaDB for container tests: Debian's mariadb-server in an image built by images.ts from
// test/containers/mariadb/.
import mysql from 'mysql2/promise'
import { type DatabaseServer, startServer } from './images.js'

export { IMAGE_BUILD_TIMEOUT_MS, STARTUP_TIMEOUT_MS } from './images.js'

export const ROOT_USER = 'standin'
export const ROOT_PASSWORD = 'standin'

export type MariaDb = DatabaseServer

export async function startMariaDb(): Promise<MariaDb> {
  const { port, image, container } = await startServer('mariadb', /ready for connections/)
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
