/**
 * Writing and reading CA and certificate files. Private keys are written 0600 through a temp
 * file and a rename, so a reader (a proxy's file watcher, a second replica) never sees half a
 * key and the key is never readable by others, not even for a moment.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export const KEY_FILE_MODE = 0o600;
export const CERT_FILE_MODE = 0o644;

export function writeFileAtomic(path: string, content: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  writeFileSync(tmp, content, { mode });
  chmodSync(tmp, mode); // the umask may have taken bits away; never leave a key wider than asked
  renameSync(tmp, path);
}

/** The file's text, or undefined when it does not exist. */
export function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
