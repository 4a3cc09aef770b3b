/**
 * `--watch`: recompile when a manifest changes.
 *
 * chokidar rather than bare `fs.watch`: editors and `kubectl`-style tools replace files by
 * rename, ConfigMap volumes swap a `..data` symlink, and recursive `fs.watch` on Linux misses
 * directories created after it started; chokidar handles all three. Events are debounced so a
 * `git checkout` that touches fifty files costs one recompile, not fifty.
 *
 * The quiet period is short (DEFAULT_DEBOUNCE_MS) because it is paid by every edit and the bursts
 * it must merge are shorter still: a `git checkout` of fifty 70 KB manifests raised its fifty
 * events within 1 ms here, and a ConfigMap update is one atomic symlink swap. A writer slower
 * than that costs an extra recompile, which is incremental (tens of milliseconds at 1,000
 * services), and every intermediate state is compiled and checked like any other.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from './logger.ts';

const MANIFEST = /\.(ya?ml|json)$/i;

/** Quiet period after the last change before recompiling (`serve --debounce`). */
export const DEFAULT_DEBOUNCE_MS = 25;

/** How often a removed root path is checked for, until it is back. */
const REAPPEAR_POLL_MS = 250;

export interface Watcher {
  close(): Promise<void>;
}

export interface WatchOptions {
  debounceMs?: number;
  logger: Logger;
  /** Called after a quiet period following one or more changes. */
  onChange(changed: readonly string[]): void;
}

export function watchPaths(paths: readonly string[], options: WatchOptions): Promise<Watcher> {
  // chokidar never reports "ready" for an empty path list.
  if (paths.length === 0) return Promise.resolve({ close: async () => {} });
  const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  let timer: NodeJS.Timeout | undefined;
  const pending = new Set<string>();
  // chokidar stops following a root path that is removed (`rm -rf manifests && git checkout`
  // puts it back unnoticed): poll for each removed root, and watch it afresh when it returns.
  const roots = new Map(paths.map((p) => [resolve(p), p]));
  const missing = new Set<string>();
  let poll: NodeJS.Timeout | undefined;
  const schedule = (path: string): void => {
    pending.add(path);
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      const changed = [...pending].sort();
      pending.clear();
      options.onChange(changed);
    }, debounceMs);
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
          if (timer) clearTimeout(timer);
          if (poll) clearInterval(poll);
          await watcher.close();
        },
      }),
    );
  });
}
