/** Test support: counts RE2 compiles, so that tests bound the work a check does instead of timing it. */
import { RE2JS } from 're2js';

/** Runs `f` counting RE2 compiles (every path to RE2 goes through RE2JS.compile). */
export function countingCompiles<T>(f: () => T): { result: T; compiles: number } {
  const original = RE2JS.compile;
  let compiles = 0;
  RE2JS.compile = ((...args: Parameters<typeof original>) => {
    compiles++;
    return original.apply(RE2JS, args);
  }) as typeof original;
  try {
    return { result: f(), compiles };
  } finally {
    RE2JS.compile = original;
  }
}
