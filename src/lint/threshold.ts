/**
 * `--fail-on error|warning|info`: exit 1 when any reported diagnostic is at or above the
 * threshold, 0 otherwise. The default is `error`, so warnings inform without breaking CI
 * until a team opts in with `--fail-on warning`.
 */
import { atLeast, type Diagnostic, type Level } from '../diagnostics/diagnostic.ts';

export const FAIL_ON_LEVELS: readonly Level[] = ['error', 'warning', 'info'];
export const DEFAULT_FAIL_ON: Level = 'error';

function isLevel(value: string): value is Level {
  return (FAIL_ON_LEVELS as readonly string[]).includes(value);
}

/** For the CLI: a bad value is a usage error (exit 2), so it throws with a clear message. */
export function parseFailOn(value: string): Level {
  if (!isLevel(value)) throw new RangeError(`--fail-on must be one of ${FAIL_ON_LEVELS.join(', ')}, not ${JSON.stringify(value)}`);
  return value;
}

export function exitCodeFor(diagnostics: readonly Diagnostic[], failOn: Level = DEFAULT_FAIL_ON): 0 | 1 {
  return diagnostics.some((d) => atLeast(d.level, failOn)) ? 1 : 0;
}
