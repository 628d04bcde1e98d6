// `standin` — the operator's command. Every subcommand validates its arguments with a protocol
// schema and prints a clear error (exit 2) instead of a stack trace.
import '../polyfills.js'
import { CommanderError } from 'commander'
import { DrillFailedError } from './drill-command.js'
import { NodeNotRunningError, WaitTimedOutError } from './node-request.js'
import { program } from './program.js'

/** A full statement hash (43 base64url characters) may begin with '-', which reads as an option. */
const DASHED_HASH = /^-[A-Za-z0-9_-]{42}$/

try {
  await program().parseAsync(process.argv)
} catch (error) {
  if (error instanceof CommanderError) {
    const dashed = error.code === 'commander.unknownOption' ? process.argv.find((arg) => DASHED_HASH.test(arg)) : undefined
    if (dashed)
      console.error(
        `standin: ${dashed} is a statement hash, not an option: put -- before it (standin settle <command> [options] -- ${dashed}), or name the statement by its id (st-…)`,
      )
    process.exit(error.exitCode === 0 ? 0 : 2)
  }
  if (error instanceof DrillFailedError) {
    console.log(error.message)
    process.exit(1)
  }
  console.error(`standin: ${(error as Error).message}`)
  process.exit(error instanceof NodeNotRunningError || error instanceof WaitTimedOutError ? 1 : 2)
}
