// README.zh-CN.md shows shop operators the commands to type; each `standin …` line of its command
// blocks must name a real subcommand and only options that subcommand has, as the real binary's
// --help says (issue 19), so the Chinese page cannot drift from the CLI.
import { execFile } from 'node:child_process'
import { readFileSync, realpathSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = realpathSync(fileURLToPath(new URL('../..', import.meta.url)))
const BIN = join(ROOT, 'bin', 'standin.js')
const PAGE = 'README.zh-CN.md'
/** Generous: several tsx processes compile at once on a busy machine. */
const HELP_MS = 60_000
const PARALLEL = 4

interface Help {
  commands: Set<string>
  options: Set<string>
}

/** Every `standin …` line of the page's sh blocks as tokens, without its comment and env settings. */
function standinLines(markdown: string): { line: string; args: string[] }[] {
  const lines = [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((block) => (block[1] ?? '').split('\n'))
  const found: { line: string; args: string[] }[] = []
  for (const raw of lines) {
    const line = raw.replace(/\s+#\s.*$/, '').trim()
    const tokens = line.split(/\s+/)
    while (tokens.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(tokens[0] ?? '')) tokens.shift()
    if (tokens[0] === 'standin') found.push({ line, args: tokens.slice(1) })
  }
  return found
}

/** Commands and option names of one --help text as commander prints it. */
function parseHelp(text: string): Help {
  const commands = new Set<string>()
  const options = new Set<string>()
  let section = ''
  for (const line of text.split('\n')) {
    if (/^\S.*:$/.test(line)) section = line
    const entry = line.match(/^ {2}(\S+)/)?.[1]
    if (entry === undefined) continue
    if (section === 'Commands:') commands.add(entry)
    if (section === 'Options:') for (const match of line.matchAll(/(?:^ {2}|, )(--?[A-Za-z][\w-]*)/g)) options.add(match[1]!)
  }
  return { commands, options }
}

let running = 0
const waiting: (() => void)[] = []
async function slot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= PARALLEL) await new Promise<void>((resolve) => waiting.push(resolve))
  running += 1
  try {
    return await work()
  } finally {
    running -= 1
    waiting.shift()?.()
  }
}

const helps = new Map<string, Promise<Help>>()
function helpOf(path: readonly string[]): Promise<Help> {
  const key = path.join(' ')
  let help = helps.get(key)
  if (help === undefined) {
    help = slot(
      () =>
        new Promise<Help>((resolve, reject) => {
          execFile(process.execPath, [BIN, ...path, '--help'], { cwd: ROOT, timeout: HELP_MS, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
            if (error) reject(new Error(`standin ${key} --help failed: ${error.message}\n${stderr}`))
            else resolve(parseHelp(stdout))
          })
        }),
    )
    helps.set(key, help)
  }
  return help
}

/** What is wrong with one command line, by the CLI's own help; empty when nothing is. */
async function problemsOf(args: readonly string[]): Promise<string[]> {
  const path: string[] = []
  let help = await helpOf(path)
  while (args[path.length] !== undefined && help.commands.has(args[path.length]!)) {
    path.push(args[path.length]!)
    help = await helpOf(path)
  }
  if (path.length === 0) return [`no subcommand "${args[0]}"`]
  if (help.commands.size > 0) return [`"standin ${path.join(' ')}" has no subcommand "${args[path.length]}"`]
  const options = args
    .slice(path.length)
    .map((token) => token.replace(/^[["]+/, '').match(/^(--?[A-Za-z][\w-]*)/)?.[1])
    .filter((name): name is string => name !== undefined)
  return options.filter((name) => !help.options.has(name)).map((name) => `"standin ${path.join(' ')}" has no option ${name}`)
}

describe(`${PAGE} uses only commands the CLI has`, () => {
  const lines = standinLines(readFileSync(join(ROOT, PAGE), 'utf8'))

  it('the help parser reads commander help', () => {
    const help = parseHelp(
      'Usage: x\n\nOptions:\n  -d, --dir <path>  dir (default:\n                    ".x")\n  --json            json\n\nCommands:\n  run [options]     run it\n                    wrapped\n',
    )
    expect([...help.commands]).toEqual(['run'])
    expect([...help.options].sort()).toEqual(['--dir', '--json', '-d'])
  })

  it(
    "every standin line's subcommand and options exist",
    async () => {
      expect(lines.length).toBeGreaterThanOrEqual(20)
      const problems = await Promise.all(lines.map(async ({ line, args }) => (await problemsOf(args)).map((problem) => `${line}: ${problem}`)))
      expect(problems.flat()).toEqual([])
      // The check itself catches what it is for (these helps are already read).
      expect(await problemsOf(['frobnicate', '-d', 'shopA'])).toEqual(['no subcommand "frobnicate"'])
      expect(await problemsOf(['terms', 'sign', '-d', 'shopA'])).toEqual(['"standin terms" has no subcommand "sign"'])
      expect(await problemsOf(['allot', '-d', 'shopA', '--too', 'x'])).toEqual(['"standin allot" has no option --too'])
    },
    4 * HELP_MS,
  )
})
