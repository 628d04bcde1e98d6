// README.zh-CN.md shows shop operators the commands to type; each `standin …` line of its command
// blocks must name a real subcommand and only options that subcommand has, as the CLI's own
// commander tree says (node/cli/program.ts, read in-process), so the Chinese page cannot drift from
// the CLI.
import { readFileSync, realpathSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { program } from '../../node/cli/program.js'

const ROOT = realpathSync(fileURLToPath(new URL('../..', import.meta.url)))
const PAGE = 'README.zh-CN.md'

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

/** Subcommand names and option flags (long and short) of one command of the tree. */
function helpOf(command: Command): { commands: Map<string, Command>; options: Set<string> } {
  const commands = new Map(command.commands.map((c) => [c.name(), c]))
  const options = new Set(command.options.flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined)))
  options.add('--help')
  options.add('-h')
  return { commands, options }
}

/** What is wrong with one command line, by the CLI's own help; empty when nothing is. */
function problemsOf(args: readonly string[]): string[] {
  const path: string[] = []
  let help = helpOf(program())
  while (args[path.length] !== undefined && help.commands.has(args[path.length]!)) {
    help = helpOf(help.commands.get(args[path.length]!) as Command)
    path.push(args[path.length]!)
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

  it("every standin line's subcommand and options exist", () => {
    expect(lines.length).toBeGreaterThanOrEqual(20)
    const problems = lines.flatMap(({ line, args }) => problemsOf(args).map((problem) => `${line}: ${problem}`))
    expect(problems).toEqual([])
    // The check itself catches what it is for.
    expect(problemsOf(['frobnicate', '-d', 'shopA'])).toEqual(['no subcommand "frobnicate"'])
    expect(problemsOf(['terms', 'sign', '-d', 'shopA'])).toEqual(['"standin terms" has no subcommand "sign"'])
    expect(problemsOf(['allot', '-d', 'shopA', '--too', 'x'])).toEqual(['"standin allot" has no option --too'])
  })
})
