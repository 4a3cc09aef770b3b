/**
 * `--watch`: recompile when a manifest changes.
 *
 * chokidar rather than bare `fs.watch`: editors and `kubectl`-style tools replace files by
 * rename, ConfigMap volumes swap a `..data` symlink, and recursive `fs.watch` on Linux misses
 * directories created after it started; chokidar handles all three. Events are debounced so a
 * `git checkout` that touches fifty files costs one recompile, not fifty.
 */
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from './logger.ts';

const MANIFEST = /\.(ya?ml|json)$/i;

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
  const debounceMs = options.debounceMs ?? 100;
  let timer: NodeJS.Timeout | undefined;
  const pending = new Set<string>();
  const watcher: FSWatcher = watch([...paths], {
    ignoreInitial: true,
    // Kubernetes ConfigMap volumes: the files are symlinks into a `..<timestamp>` directory that is swapped atomically.
    followSymlinks: true,
    ignored: (path, stats) => Boolean(stats?.isFile() && !MANIFEST.test(path) && !paths.includes(path)),
  });
  // Every event counts, directories included: a ConfigMap update is a new `..<timestamp>` directory
  // and a re-pointed `..data` symlink, with no event on the manifest paths themselves.
  watcher.on('all', (_event, path) => {
    pending.add(path);
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      const changed = [...pending].sort();
      pending.clear();
      options.onChange(changed);
    }, debounceMs);
  });
  watcher.on('error', (err) => options.logger.warn('file watcher error', { error: String(err) }));
  return new Promise((resolve) => {
    watcher.on('ready', () =>
      resolve({
        async close() {
          if (timer) clearTimeout(timer);
          await watcher.close();
        },
      }),
    );
  });
}
