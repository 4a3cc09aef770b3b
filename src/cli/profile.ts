/**
 * Phase times for `SMI_COMPILE_PROFILE=1`, which bin/run.js prints at exit. Kept as user-timing
 * measures (performance.measure), which the process holds anyway: no state of ours.
 */
const PREFIX = 'smi-compile:';

/** Adds `ms` to phase `name` (several calls add up). */
export function recordPhase(name: string, ms: number): void {
  if (ms > 0) performance.measure(`${PREFIX}${name}`, { start: 0, duration: ms });
}

/** Every phase of a timings record (the compiler's `timings`). */
export function recordPhases(timings: Readonly<Record<string, number | undefined>>): void {
  for (const [name, ms] of Object.entries(timings)) if (ms !== undefined) recordPhase(name, ms);
}

/** `load()` (a command module's import), recorded as phase `import` (wall) and `importCpu` (CPU, all threads). */
export async function timedImport<T>(load: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  try {
    return await load();
  } finally {
    recordPhase('import', performance.now() - t0);
    const c = process.cpuUsage(c0);
    recordPhase('importCpu', (c.user + c.system) / 1000);
  }
}
