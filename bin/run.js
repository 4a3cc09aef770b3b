// How the CLI runs, whether from the TypeScript sources (bin/smi-compile.js, through tsx) or
// from the bundle the container image runs (scripts/bundle.mjs).
//
// Scripts rely on exit codes 0, 1 and 2 only. Whatever escapes main() (a throwing event
// handler, a rejected promise nobody awaited, a module that fails to load) is a bug in
// smi-compile: say so in one line and exit 1. The stack is for --debug, not for CI logs.
const debug = process.argv.includes('--debug');
if (debug) process.env.SMI_COMPILE_DEBUG = '1'; // compile.ts prints stacks of internal errors with it

function crash(kind, err) {
  // `smi-compile lint … | head` closes stdout early: not a bug, nothing left to say.
  if (err && err.code === 'EPIPE') process.exit(process.exitCode || 1);
  const detail = err instanceof Error ? err.message : String(err);
  try {
    process.stderr.write(`smi-compile: internal error (${kind}): ${detail}. This is a bug; please report it${debug ? '' : ' (rerun with --debug for the stack)'}.\n`);
    if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  } catch {
    // stderr is gone too; the exit code still tells
  }
  process.exit(1);
}

/** Runs `main(argv)` as loaded by `loadMain`, with the crash handling above around both. */
export async function run(loadMain) {
  process.on('uncaughtException', (err) => crash('uncaught exception', err));
  process.on('unhandledRejection', (reason) => crash('unhandled rejection', reason));
  try {
    const main = await loadMain();
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    crash('startup', err);
  }
}
