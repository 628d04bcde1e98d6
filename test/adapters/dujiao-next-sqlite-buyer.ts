// A buyer in its own PROCESS for the cross-process races on the FAKE Dujiao-Next on SQLite
// (dujiao-next-sqlite-shop.ts): better-sqlite3 blocks its process while it waits for the write
// lock, so a second writer must be a second process, as the Go shop is beside the adapter.
//
//   node --import tsx test/adapters/dujiao-next-sqlite-buyer.ts <dbPath> <productId> <purchases> <qty>
//
// Attaches to the installed file and makes <purchases> purchases one after the other with buy(), each
// printed as one JSON line on stdout: {"ok":true,"child":"…","keys":[{"keyId":"…","key":"…"}]}, or
// {"ok":false,"reason":"…"} when the purchase failed (no keys, a busy database, any error). Exits 0
// once every purchase was tried; 2 on bad arguments. Importing this file does nothing.
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { FakeDujiaoNextSqlite } from './dujiao-next-sqlite-shop.js'

type Line = { ok: true; child: string; keys: { keyId: string; key: string }[] } | { ok: false; reason: string }

function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const code = (error as { code?: unknown }).code
  return `${typeof code === 'string' ? code : error.name}: ${error.message}`
}

function positive(text: string | undefined): number | null {
  const n = Number(text)
  return Number.isInteger(n) && n >= 1 ? n : null
}

async function main(args: readonly string[]): Promise<number> {
  const [path, productText, purchasesText, qtyText] = args
  const productId = positive(productText)
  const purchases = positive(purchasesText)
  const qty = positive(qtyText)
  if (path === undefined || productId === null || purchases === null || qty === null) {
    process.stderr.write('usage: dujiao-next-sqlite-buyer.ts <dbPath> <productId> <purchases> <qty>\n')
    return 2
  }
  const shop = await FakeDujiaoNextSqlite.attach(path)
  try {
    for (let i = 0; i < purchases; i++) {
      let line: Line
      try {
        const bought = await shop.buy(productId, qty)
        line = bought === null ? { ok: false, reason: 'no keys: checkout short or busy, or delivery failed' } : { ok: true, ...bought }
      } catch (error) {
        line = { ok: false, reason: reasonOf(error) }
      }
      process.stdout.write(`${JSON.stringify(line)}\n`)
    }
  } finally {
    await shop.end()
  }
  return 0
}

function isEntry(): boolean {
  const script = process.argv[1]
  if (script === undefined) return false
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isEntry()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (error: unknown) => {
      process.stderr.write(`${reasonOf(error)}\n`)
      process.exitCode = 1
    },
  )
}
