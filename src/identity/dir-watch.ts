/**
 * Notices when files in a directory change: fs.watch for promptness, a poll as the safety net
 * (network filesystems and some container runtimes deliver no events), and a content hash so
 * that only a real change counts. Kubernetes Secret volumes swap a `..data` symlink; the swap
 * is an event on the directory, and the hash is taken through the symlinks, so it is seen.
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { readOptional } from './files.ts';

export interface DirectoryWatch {
  close(): void;
}

export function contentHash(dir: string, files: readonly string[]): string {
  const h = createHash('sha256');
  for (const f of files) h.update(`${f}\0${readOptional(join(dir, f)) ?? '\u0001absent'}\0`);
  return h.digest('hex');
}

export function watchDirectory(
  dir: string,
  files: readonly string[],
  onChange: () => void,
  opts: { pollMs?: number; debounceMs?: number } = {},
): DirectoryWatch {
  let last = contentHash(dir, files);
  let timer: NodeJS.Timeout | undefined;
  const check = (): void => {
    timer = undefined;
    let now: string;
    try {
      now = contentHash(dir, files);
    } catch {
      return; // mid-swap or unreadable: the next event or poll looks again
    }
    if (now === last) return;
    last = now;
    onChange();
  };
  const soon = (): void => {
    if (timer) clearTimeout(timer);
    // Writers touch tls.crt and tls.key one after the other: wait for both.
    timer = setTimeout(check, opts.debounceMs ?? 200);
    timer.unref();
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, { persistent: false }, soon);
    watcher.on('error', () => undefined); // the poll carries on
  } catch {
    // no inotify here: polling alone
  }
  const poll = setInterval(check, opts.pollMs ?? 30_000);
  poll.unref();
  return {
    close() {
      watcher?.close();
      clearInterval(poll);
      if (timer) clearTimeout(timer);
    },
  };
}
