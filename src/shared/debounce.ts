/**
 * One debouncer for every source of changes (the manifest watcher, the Kubernetes informers):
 * `fire` runs once the triggers have been quiet for `quietMs`, or `maxWaitMs` after the first
 * trigger still pending, whichever comes first. The bound is what keeps a source that is never
 * quiet for long (pods come and go every second, a writer saves every 10 ms) from putting every
 * recompile off until the churn stops.
 */

/** Longest a trigger waits for the quiet period by default. */
export const DEFAULT_MAX_WAIT_MS = 50;

export interface DebounceOptions {
  readonly quietMs: number;
  readonly maxWaitMs: number;
}

export interface Debouncer {
  /** A change: `fire` is due after the quiet period, or at the bound. */
  trigger(): void;
  /** Drops what is pending (nothing fires for it). */
  cancel(): void;
  /** A trigger is waiting to fire. */
  readonly pending: boolean;
}

export function debounce(fire: () => void, opts: DebounceOptions): Debouncer {
  let timer: NodeJS.Timeout | undefined;
  let since: number | undefined;
  const cancel = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    since = undefined;
  };
  return {
    trigger() {
      const now = performance.now();
      since ??= now;
      const due = Math.min(now + opts.quietMs, since + opts.maxWaitMs);
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        since = undefined;
        fire();
      }, Math.max(0, due - now));
    },
    cancel,
    get pending() {
      return timer !== undefined;
    },
  };
}
