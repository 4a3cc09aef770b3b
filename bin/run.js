// How the CLI runs, whether from the TypeScript sources (bin/smi-compile.js, through tsx) or
// from the bundle the container image runs (scripts/bundle.mjs).
//
// Scripts rely on exit codes 0, 1 and 2 only. Whatever escapes main() (a throwing event
// handler, a rejected promise nobody awaited, a module that fails to load) is a bug in
// smi-compile: say so in one line and exit 1. The stack is for --debug, not for CI logs.
const debug = process.argv.includes('--debug');
if (debug) process.env.SMI_COMPILE_DEBUG = '1'; // compile.ts prints stacks of internal errors with it
// The bundle's stacks name the TypeScript sources (its source maps are read only when asked).
if (debug) process.setSourceMapsEnabled?.(true);

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

/** The user-timing measures of src/cli/profile.ts `recordPhase`. */
const PREFIX = 'smi-compile:';

const cpuMs = (u) => (u.user + u.system) / 1000;

/**
 * SMI_COMPILE_PROFILE=1: one line on stderr at exit, milliseconds from the process's start:
 * `node` (node's own start-up, until bin/ runs), `load` (the CLI's modules: the bundle check and
 * import, or tsx and the sources), each phase the command recorded (src/cli/profile.ts; the compiler's
 * own phases, the command module's import, render, write...), `other` (the rest), `total`; CPU
 * (user + system, all threads) until bin/ ran (`cpuNode`), while loading (`cpuLoad`), and in all
 * (`cpu`); peak RSS. Read by bench/compile.ts --cli.
 */
function printProfile(binAt, loadedAt, cpuAtBin, cpuAtLoaded) {
  const phases = {};
  for (const e of performance.getEntriesByType('measure')) {
    if (e.name.startsWith(PREFIX)) phases[e.name.slice(PREFIX.length)] = (phases[e.name.slice(PREFIX.length)] ?? 0) + e.duration;
  }
  const total = performance.now();
  // `…Cpu` phases are CPU time, not wall: not part of the wall-clock sum.
  const claimed = binAt + (loadedAt - binAt) + Object.entries(phases).reduce((a, [k, v]) => (k.endsWith('Cpu') ? a : a + v), 0);
  const profile = {
    node: binAt,
    load: loadedAt - binAt,
    ...phases,
    other: total - claimed,
    total,
    cpuNode: cpuAtBin,
    cpuLoad: cpuAtLoaded - cpuAtBin,
    cpu: cpuMs(process.cpuUsage()),
    maxRssKiB: process.resourceUsage().maxRSS,
  };
  const rounded = Object.fromEntries(Object.entries(profile).map(([k, v]) => [k, Math.round(v)]));
  try {
    process.stderr.write(`smi-compile profile: ${JSON.stringify(rounded)}\n`);
  } catch {
    // stderr is gone
  }
}

/** Runs `main(argv)` as loaded by `loadMain`, with the crash handling above around both. */
export async function run(loadMain) {
  const binAt = performance.now();
  const cpuAtBin = cpuMs(process.cpuUsage());
  process.on('uncaughtException', (err) => crash('uncaught exception', err));
  process.on('unhandledRejection', (reason) => crash('unhandled rejection', reason));
  try {
    const main = await loadMain();
    const loadedAt = performance.now();
    const cpuAtLoaded = cpuMs(process.cpuUsage());
    if (process.env.SMI_COMPILE_PROFILE) process.on('exit', () => printProfile(binAt, loadedAt, cpuAtBin, cpuAtLoaded));
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    crash('startup', err);
  }
}
