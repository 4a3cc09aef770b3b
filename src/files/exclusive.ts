/**
 * Files that only this process can have made. Every file of an output tree and every private
 * key is created with O_CREAT|O_EXCL (`wx`): if anything is already at the name (a file another
 * user pre-created to read what we write, a symbolic link to redirect it), the create fails
 * instead of writing through it. Replacing a file in place (CA keys, `ca issue`) goes through a
 * temporary name with 96 random bits, created the same way, then a rename.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fchmodSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

/**
 * Creates `path`, which must not exist, holding `content`. Without `mode` the file gets the
 * default 0666 less the umask (Node's fast path for string writes); with one it gets exactly that
 * mode, set on the descriptor before a byte is written (the umask only ever narrows it first).
 */
export function createExclusive(path: string, content: string, mode?: number): void {
  if (mode === undefined) {
    // `encoding` spelled out: Node takes its C++ fast path for a string only when the options say utf8.
    writeFileSync(path, content, { flag: 'wx', encoding: 'utf8' });
    return;
  }
  const fd = openSync(path, EXCLUSIVE, mode);
  try {
    fchmodSync(fd, mode);
    writeFileSync(fd, content, 'utf8');
  } catch (err) {
    closeSync(fd);
    rmSync(path, { force: true });
    throw err;
  }
  closeSync(fd);
}

/** The temporary name a replacement of `path` is created under: unguessable, hidden, beside it. */
export function temporaryName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(12).toString('hex')}.tmp`);
}

/**
 * Replaces `path` with `content` at exactly `mode`, atomically: a reader (a proxy's file watcher,
 * a second replica) sees the old file or the new one, never half of one, and the content is never
 * readable by others, not for a moment, whoever shares the directory. Parent directories it makes
 * are 0700.
 */
export function replaceFileAtomic(path: string, content: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = temporaryName(path);
  createExclusive(tmp, content, mode);
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
