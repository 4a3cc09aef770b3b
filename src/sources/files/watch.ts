/**
 * `--watch`: recompile when a manifest changes.
 *
 * chokidar rather than bare `fs.watch`: editors and `kubectl`-style tools replace files by
 * rename, ConfigMap volumes swap a `..data` symlink, and recursive `fs.watch` on Linux misses
 * directories created after it started; chokidar handles all three. Events are debounced so a
 * `git checkout` that touches fifty files costs one recompile, not fifty, with a bound
 * (shared/debounce.ts): a writer that never pauses for the quiet period is still served.
 *
 * The quiet period is short (DEFAULT_DEBOUNCE_MS) because it is paid by every edit and the bursts
 * it must merge are shorter still: a `git checkout` raises its events within a
 * millisecond or so, and a ConfigMap update is one atomic symlink swap. A writer slower
 * than that costs an extra recompile, which is incremental (tens of milliseconds at 1,000
 * services), and every intermediate state is compiled and checked like any other.
 *
 * Events are only a hint. chokidar drops a second `change` of one file within 50 ms of the first
 * (its throttle), and holds an `unlink` back 100 ms to merge it with a re-`add` (its `atomic`
 * option, for editors' rename-into-place): so a save 30 ms after another raised no event, and
 * the first save was served until some later write. So once a burst has settled (SETTLE_MS
 * after its last event, longer than any window in which chokidar merges or drops one), `moved`
 * compares the disk with what the latest compile read (read-inputs.ts inputsMoved: a stat per
 * file, the bytes of the files that changed within the kernel clock's tick) and a difference is
 * one more recompile. Any write is either an event, or dropped within 50 ms after one whose
 * settle check comes later: the served state converges on what is on disk.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { debounce, DEFAULT_MAX_WAIT_MS } from '../../shared/debounce.ts';
import type { Logger } from '../../shared/logger.ts';

const MANIFEST = /\.(ya?ml|json)$/i;

/** Quiet period after the last change before recompiling (`serve --debounce`). */
export const DEFAULT_DEBOUNCE_MS = 25;

/** How often a removed root path is checked for, until it is back. */
const REAPPEAR_POLL_MS = 250;

/** After a burst's last event: more than chokidar's `change` throttle (50 ms) and `atomic` unlink delay (100 ms). */
export const SETTLE_MS = 250;

export interface Watcher {
  close(): Promise<void>;
}

export interface WatchOptions {
  debounceMs?: number;
  logger: Logger;
  /** Called after a quiet period following one or more changes. */
  onChange(changed: readonly string[]): void;
  /**
   * Whether the files have moved on from what the latest compile read; asked SETTLE_MS after
   * each burst of events, and `true` calls onChange again (with no paths).
   */
  moved?: () => boolean | Promise<boolean>;
  /** Milliseconds from a burst's last event to the `moved` check (default SETTLE_MS). */
  settleMs?: number;
}

export function watchPaths(paths: readonly string[], options: WatchOptions): Promise<Watcher> {
  // chokidar never reports "ready" for an empty path list.
  if (paths.length === 0) return Promise.resolve({ close: async () => {} });
  const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  let settle: NodeJS.Timeout | undefined;
  let closed = false;
  const pending = new Set<string>();
  // chokidar stops following a root path that is removed (`rm -rf manifests && git checkout`
  // puts it back unnoticed): poll for each removed root, and watch it afresh when it returns.
  const roots = new Map(paths.map((p) => [resolve(p), p]));
  const missing = new Set<string>();
  let poll: NodeJS.Timeout | undefined;
  const check = async (): Promise<void> => {
    settle = undefined;
    let moved = false;
    try {
      moved = (await options.moved?.()) === true;
    } catch (err) {
      options.logger.warn('could not compare the manifests with the last compile', { error: String(err) });
    }
    if (!moved) return void options.logger.debug('manifests are as last compiled');
    // A new burst since the check began has its own debounce and settle check.
    if (closed || debouncer.pending) return;
    options.logger.info('manifests differ from what was last compiled (an edit raised no event); recompiling');
    options.onChange([]);
  };
  // Bounded, as the Kubernetes source's: a writer that never pauses still gets its edits served.
  // The bound is four quiet periods, so that a burst is cut only when it goes on that long.
  const debouncer = debounce(
    () => {
      const changed = [...pending].sort();
      pending.clear();
      options.onChange(changed);
    },
    { quietMs: debounceMs, maxWaitMs: Math.max(4 * debounceMs, DEFAULT_MAX_WAIT_MS) },
  );
  const schedule = (path: string): void => {
    pending.add(path);
    debouncer.trigger();
    if (options.moved) {
      if (settle) clearTimeout(settle);
      settle = setTimeout(() => void check(), Math.max(debounceMs, options.settleMs ?? SETTLE_MS));
    }
  };
  const checkMissing = (): void => {
    for (const root of missing) {
      if (!existsSync(root)) continue;
      missing.delete(root);
      options.logger.info('watched path is back; following it again', { path: roots.get(root) });
      watcher.unwatch(roots.get(root)!);
      watcher.add(roots.get(root)!);
      schedule(root);
    }
    if (missing.size === 0 && poll) {
      clearInterval(poll);
      poll = undefined;
    }
  };
  const watcher: FSWatcher = watch([...paths], {
    ignoreInitial: true,
    // Kubernetes ConfigMap volumes: the files are symlinks into a `..<timestamp>` directory that is swapped atomically.
    followSymlinks: true,
    ignored: (path, stats) => Boolean(stats?.isFile() && !MANIFEST.test(path) && !paths.includes(path)),
  });
  // Every event counts, directories included: a ConfigMap update is a new `..<timestamp>` directory
  // and a re-pointed `..data` symlink, with no event on the manifest paths themselves.
  watcher.on('all', (event, path) => {
    const root = resolve(path);
    if ((event === 'unlinkDir' || event === 'unlink') && roots.has(root) && !existsSync(root)) {
      options.logger.warn('watched path removed; serving the last good snapshot until it is back', { path });
      missing.add(root);
      poll ??= setInterval(checkMissing, REAPPEAR_POLL_MS);
    }
    schedule(path);
  });
  watcher.on('error', (err) => options.logger.warn('file watcher error', { error: String(err) }));
  return new Promise((resolve) => {
    watcher.on('ready', () =>
      resolve({
        async close() {
          closed = true;
          debouncer.cancel();
          if (settle) clearTimeout(settle);
          if (poll) clearInterval(poll);
          await watcher.close();
        },
      }),
    );
  });
}
