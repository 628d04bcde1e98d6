// The `standin` command tree, apart from the process entry (main.ts), so that tests read the real
// subcommands and options in-process.
import { Command } from 'commander'
import { accept, invite, join, listTerms, propose, showTerms, waitForTerms } from './federation-commands.js'
import type { TermsResult } from '../terms/schemas.js'
import { DEFAULT_ALLOTMENT_CAP } from '../terms/schemas.js'
import { allot, incidents, init, recallAllotment, run } from './local-commands.js'
import { rotateSecret } from './secrets-commands.js'
import { rotateIdentity } from './identity-commands.js'
import { backup, restore } from './backup-commands.js'
import { alertsTest } from './alerts-command.js'
import { mailTest } from './mail-command.js'
import { platform, status, waitForStatus } from './status-command.js'
import { versionLine } from './version.js'
import { decideKeys, exposedKeys, refused, revokePartner, windDownPartner } from './partner-commands.js'
import { drill } from './drill-command.js'
import { consoleLink } from './console-command.js'
import {
  acceptStatement,
  balances,
  confirmStatement,
  exportStatements,
  issueStatement,
  listStatements,
  payStatement,
  showStatement,
} from './settle-commands.js'

const DEFAULT_DIR = process.env.STANDIN_DIR ?? '.standin'
const STATEMENT_REF = "id (st-…) or hash; a hash beginning with '-' goes after --"

/** The `standin` command tree: subcommands, options and what each runs. */
export function program(): Command {
  const cli = new Command('standin').description('Standin: mutual-aid failover for card shops').exitOverride()
  cli.version(versionLine())
  const dirOption = ['-d, --dir <path>', 'data directory of this node', DEFAULT_DIR] as const

  cli
    .command('init')
    .description('create a node: identity, config, data directory')
    .option(...dirOption)
    .requiredOption('-n, --name <name>', 'shop name shown to partners and buyers')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--p2p-port <port>', 'libp2p TCP port', '4001')
    .option('--http-port <port>', 'HTTP port (adapter, admin, claim page)', '8080')
    .option('--public-url <url>', 'base URL buyers reach (default http://host:http-port)')
    .option('--callback-url <url>', "the shop's generic-adapter callback base URL")
    .option('--smtp <host:port>', 'SMTP relay for buyer mail (STARTTLS required unless it is on loopback)')
    .option('--mail-from <address>', 'From: of buyer mail')
    .option('--smtp-user <user>', "the relay's account; its password is read from STANDIN_SMTP_PASSWORD, never the command line")
    .action((o) => console.log(init({ ...o, ...(process.env.STANDIN_SMTP_PASSWORD === undefined ? {} : { smtpPassword: process.env.STANDIN_SMTP_PASSWORD }) })))

  cli
    .command('secrets')
    .description('where each secret is kept, and rotation')
    .command('rotate')
    .description('replace one secret: admin (token), request / callback / claim (adapter.json), box (the key partners seal to)')
    .argument('<purpose>', 'admin | request | callback | claim | box')
    .option(...dirOption)
    .option('--grace-minutes <n>', 'how long the old admin token, request or callback secret stays valid (0: refused at once, for a leaked secret)', '60')
    .action(async (purpose: string, o) => console.log(await rotateSecret({ dir: o.dir, purpose, graceMinutes: o.graceMinutes })))

  cli
    .command('identity')
    .description("this shop's identity key")
    .command('rotate')
    .description(
      "hand this shop's place to a new identity key: the partners' nodes sign the handover, then the node restarts as the new identity on an empty store (D99)",
    )
    .option(...dirOption)
    .action(async (o) => console.log(await rotateIdentity(o.dir)))

  const passphraseOption = ['--passphrase-file <path>', 'file holding the backup passphrase (else STANDIN_BACKUP_PASSPHRASE)'] as const
  cli
    .command('backup')
    .description('write the node to one file: its store from one snapshot (running or stopped) and its files sealed under a passphrase')
    .argument('<file>', 'the backup file to write (must not exist)')
    .option(...dirOption)
    .option('--secrets-only', 'only the files (identity, secrets, config, cards, agreements): for standin recover')
    .option(...passphraseOption)
    .action(async (file: string, o) =>
      console.log(await backup({ dir: o.dir, file, secretsOnly: o.secretsOnly === true, ...(o.passphraseFile ? { passphraseFile: o.passphraseFile } : {}) })),
    )
  const restoreCommands = [
    [
      'restore',
      'restored',
      'put a backup into a new, empty data directory; the node confirms its feed with its partners before it writes',
      'a file standin backup wrote',
    ],
    [
      'recover',
      'recovered',
      'a node whose disk is gone: its files from a backup (secrets-only will do), its feed and escrow from its partners',
      'a file standin backup wrote (with or without --secrets-only)',
    ],
  ] as const
  for (const [name, reason, description, fileHelp] of restoreCommands)
    cli
      .command(name)
      .description(description)
      .argument('<file>', fileHelp)
      .option(...dirOption)
      .option(...passphraseOption)
      .action(async (file: string, o) =>
        console.log(await restore({ dir: o.dir, file, ...(o.passphraseFile ? { passphraseFile: o.passphraseFile } : {}) }, reason)),
      )

  cli
    .command('mail')
    .description('the SMTP relay of buyer mail')
    .command('test')
    .description('send one test message through the configured relay, as the node would (exit 1: the relay took nothing, and why)')
    .argument('<address>', 'where to send it')
    .option(...dirOption)
    .option('--locale <zh-CN|en>', 'language of the message')
    .action(async (address: string, o) => {
      const result = await mailTest({ dir: o.dir, to: address, locale: o.locale })
      if (result.sent) console.log(result.text)
      else {
        console.error(result.text)
        process.exitCode = 1
      }
    })

  cli
    .command('alerts')
    .description('operator alerts (config.json alerts, secrets.json alerts)')
    .command('test')
    .description('send one test alert to each configured channel and say, per channel, sent or why not (exit 1: one was not sent)')
    .option(...dirOption)
    .option('--channel <id>', 'only this channel')
    .action(async (o) => {
      const result = await alertsTest({ dir: o.dir, channel: o.channel })
      if (result.ok) console.log(result.text)
      else {
        console.error(result.text)
        process.exitCode = 1
      }
    })

  cli
    .command('invite')
    .description("print a signed invite token with this shop's card and addresses")
    .option(...dirOption)
    .action((o) => console.log(invite(o.dir)))

  const printTerms = (result: TermsResult) => {
    console.error(result.next)
    console.log(result.token)
  }
  const repeat = (v: string, all: string[]) => [...all, v]

  cli
    .command('join')
    .description("import partners' invite tokens and propose terms (prints a terms token for them; what to do next goes to stderr)")
    .argument('<tokens...>', 'invite or terms tokens of the other parties, or files holding them')
    .option(...dirOption)
    .option('--preset <preset>', 'timings: local (one machine) or standard', 'standard')
    .option('--id <id>', 'name of the agreement', 'standin-federation')
    .option('--sku <sku=value>', 'a sku of ours the terms cover, with the value of one key in yuan (repeatable): steam-50=50.00', repeat, [] as string[])
    .option('--cap <keys>', 'most keys of each of those skus one partner may hold', String(DEFAULT_ALLOTMENT_CAP))
    .option('--terms-file <path>', 'JSON object overriding any terms field')
    .action((tokens: string[], o) => printTerms(join({ dir: o.dir, tokens, preset: o.preset, id: o.id, termsFile: o.termsFile, sku: o.sku, cap: o.cap })))

  const terms = cli.command('terms').description('list, show, propose and accept mutual-aid terms')
  terms
    .command('list')
    .description('every revision this node holds, and who still has to sign')
    .option(...dirOption)
    .option('--wait <seconds>', 'first wait until every party signed what we signed and the running node runs on it (exit 1 after <seconds>)')
    .action(async (o) => console.log(o.wait === undefined ? listTerms(o.dir) : await waitForTerms(o.dir, o.wait)))
  terms
    .command('show')
    .argument('<hash>', 'terms hash or a prefix of it')
    .option(...dirOption)
    .action((hash: string, o) => console.log(showTerms(o.dir, hash)))
  terms
    .command('accept')
    .description("sign terms: a token (or file) another party sent, or without one the proposal partners' nodes passed to ours")
    .argument('[token]', 'terms token, a file holding one, or the hash of terms `terms list` shows')
    .option(...dirOption)
    .action((token: string | undefined, o) => printTerms(accept(o.dir, token)))
  terms
    .command('propose')
    .description('the next revision of the terms in force, with skus of ours added or removed; running partners get it from our node')
    .option(...dirOption)
    .option('--add-sku <sku=value>', 'cover a sku of ours, with the value of one key in yuan (repeatable): steam-100=100.00', repeat, [] as string[])
    .option('--remove-sku <sku>', 'stop covering a sku of ours (repeatable)', repeat, [] as string[])
    .option('--cap <keys>', 'most keys of each added sku one partner may hold', String(DEFAULT_ALLOTMENT_CAP))
    .option(
      '--remove-party <partner>',
      'leave a party out (repeatable); its allotments are recalled and a final statement issued first',
      repeat,
      [] as string[],
    )
    .option(
      '--add-party <invite>',
      "add a shop (repeatable): its invite token, or the file holding it; it catches up from its partners' nodes",
      repeat,
      [] as string[],
    )
    .action(async (o) => {
      const removeParty = o.removeParty as string[]
      const result = propose({ dir: o.dir, addSku: o.addSku, removeSku: o.removeSku, cap: o.cap, removeParty, addParty: o.addParty as string[] })
      // Recalled and settled while it is still a party: once the revision takes force nothing reaches it.
      for (const who of removeParty) console.error(await windDownPartner(o.dir, who))
      printTerms(result)
    })

  cli
    .command('allot')
    .description('consign keys to a partner, or recall an allotment (needs the node running)')
    .option(...dirOption)
    .option('--to <partner>', 'partner name or shop id')
    .option('--sku <sku>', 'sku to consign')
    .option('--count <n>', 'number of keys')
    .option('--recall <allotment>', 'recall this allotment instead (with --from)')
    .option('--from <partner>', 'holder of the allotment to recall')
    .action(async (o) =>
      console.log(o.recall ? await recallAllotment(o.dir, o.from ?? '', o.recall) : await allot({ dir: o.dir, to: o.to, sku: o.sku, count: o.count })),
    )

  cli
    .command('drill')
    .description(
      'fire drill: each partner proves it holds and can read the keys we consigned to it; nothing is delivered (needs the node running; exit 1 on a failure)',
    )
    .option(...dirOption)
    .option('--partner <partner>', 'only this partner (name or shop id)')
    .option('--sku <sku>', 'only this sku')
    .option('--last', 'show the newest drill instead of running one')
    .option('--json', 'machine-readable output')
    .action(async (o) => console.log(await drill({ dir: o.dir, partner: o.partner, sku: o.sku, last: Boolean(o.last), json: Boolean(o.json) })))

  cli
    .command('console')
    .description('print a one-time link to the web console of the running node (overview, drills; zh-CN and en)')
    .option(...dirOption)
    .action(async (o) => console.log(await consoleLink(o.dir)))

  cli
    .command('incidents')
    .description('incident reports of the running node')
    .option(...dirOption)
    .option('--json', 'machine-readable output')
    .action(async (o) => console.log(await incidents(o.dir, Boolean(o.json))))

  cli
    .command('refused')
    .description('what partners sent that this node refused, and receipts it holds (needs the node running)')
    .option(...dirOption)
    .option('--json', 'machine-readable output')
    .action(async (o) => console.log(await refused(o.dir, Boolean(o.json))))

  const partner = cli.command('partner').description('revoke a compromised or rogue partner (needs the node running; docs/decisions.md D94)')
  partner
    .command('revoke')
    .description('sign our revocation of a partner; in force once a quorum of the parties signed one')
    .argument('<partner>', 'partner name or shop id')
    .requiredOption('--reason <text>', 'why, in a few words: the other parties see it')
    .option(...dirOption)
    .action(async (who: string, o) => console.log(await revokePartner(o.dir, who, o.reason)))

  const keys = cli.command('keys').description('keys partners released back: exposed, not on sale (needs the node running)')
  keys
    .command('exposed')
    .option(...dirOption)
    .action(async (o) => console.log(await exposedKeys(o.dir)))
  keys
    .command('decide')
    .argument('<decision>', 'write-off | bill | reconsign')
    .argument('<keyIds...>', 'key ids, as `keys exposed` lists them')
    .option(...dirOption)
    .action(async (decision: string, ids: string[], o) => console.log(await decideKeys(o.dir, decision, ids)))

  const settle = cli.command('settle').description('books and statements with partners (needs the node running)')
  settle
    .command('balances')
    .option(...dirOption)
    .action(async (o) => console.log(await balances(o.dir)))
  settle
    .command('statements')
    .option(...dirOption)
    .action(async (o) => console.log(await listStatements(o.dir)))
  settle
    .command('show')
    .argument('<statement>', STATEMENT_REF)
    .option(...dirOption)
    .action(async (ref: string, o) => console.log(await showStatement(o.dir, ref)))
  settle
    .command('issue')
    .argument('<partner>', 'name or shop id')
    .option(...dirOption)
    .action(async (partner: string, o) => console.log(await issueStatement(o.dir, partner)))
  settle
    .command('accept')
    .argument('<statement>', STATEMENT_REF)
    .option(...dirOption)
    .option(
      '--dispute <receipt:reason:note>',
      'dispute a line (repeatable); reasons: already-delivered-by-origin, outside-terms-limits, unknown-order, unknown-receipt, wrong-amount, duplicate, other',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .action(async (ref: string, o) => console.log(await acceptStatement(o.dir, ref, o.dispute)))
  settle
    .command('dispute')
    .argument('<statement>', STATEMENT_REF)
    .argument('<receipt:reason:note...>', 'lines to dispute')
    .option(...dirOption)
    .action(async (ref: string, lines: string[], o) => console.log(await acceptStatement(o.dir, ref, lines)))
  settle
    .command('pay')
    .argument('<statement>', STATEMENT_REF)
    .requiredOption('--reference <text>', 'the off-network payment reference')
    .option(...dirOption)
    .action(async (ref: string, o) => console.log(await payStatement(o.dir, ref, o.reference)))
  settle
    .command('confirm')
    .argument('<statement>', STATEMENT_REF)
    .option(...dirOption)
    .action(async (ref: string, o) => console.log(await confirmStatement(o.dir, ref)))
  settle
    .command('export')
    .option(...dirOption)
    .option('--format <csv|json>', 'output format', 'csv')
    .option('--statement <statement>', 'one statement (id or hash)')
    .option('--from <iso date>', 'statements issued from')
    .option('--to <iso date>', 'statements issued before')
    .action(async (o) => console.log(await exportStatements(o.dir, o)))

  cli
    .command('run')
    .description('run the node until SIGTERM, SIGINT or SIGHUP (each stops it gracefully)')
    .option(...dirOption)
    .option('--log-format <auto|json|pretty>', 'log lines: pretty on a terminal and JSON otherwise (auto), or always one; overrides STANDIN_LOG_FORMAT')
    .action(async (o) => run(o.dir, o.logFormat))

  cli
    .command('status')
    .description('this shop (fence, takeover, terms, stuck orders), its partners and escrow, with what each column means')
    .option(...dirOption)
    .option('--json', 'machine-readable output')
    .option('--wait <seconds>', 'wait until the node serves and every partner is connected (exit 1 after <seconds>)')
    .action(async (o) => console.log(o.wait === undefined ? await status(o.dir, Boolean(o.json)) : await waitForStatus(o.dir, o.wait, Boolean(o.json))))

  cli
    .command('platform')
    .description('say the shop platform is down (partners deliver its paid orders) or up again, when its adapter cannot (needs the node running)')
    .argument('<state>', 'down | up')
    .option(...dirOption)
    .action(async (state: string, o) => console.log(await platform(o.dir, state)))
  return cli
}
