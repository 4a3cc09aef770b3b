/**
 * Command-line paths → source files: directories recursively (`*.yaml`, `*.yml`, `*.json`,
 * in sorted order so every run sees the same input), plain files, and `-` for stdin.
 *
 * Anything wrong with a path is a diagnostic; the other paths are still read.
 */
import { createHash } from 'node:crypto';
import { readdirSync, realpathSync, statSync, type BigIntStats, type Dirent, type Stats } from 'node:fs';
import { join } from 'node:path';
import { diagnostic, type Reporter } from '../diagnostics/diagnostic.ts';
import { checkText, decode, readBounded, readStdinBounded, stripBom } from './read-bytes.ts';
import { STDIN_PATH, type SourceFile } from './source.ts';
import { byName } from '../shared/compare.ts';

export interface ReadInputsOptions {
  /**
   * Reads standard input, at most `maxBytes` bytes (the limit + 1, so that a larger input is
   * seen as such); the default reads file descriptor 0. Bytes are checked as UTF-8 like files.
   */
  stdin?: (maxBytes: number) => string | Buffer;
  /** Largest file accepted, in bytes (default 16 MiB). */
  maxFileSize?: number;
  /** Texts of an earlier read, reused for files whose status is unchanged (`serve --watch`). */
  texts?: FileTexts;
  /** Receives what this read saw of each file, for `inputsMoved` to compare with the disk later. */
  record?: ReadRecord[];
}

/**
 * What one read saw of one file: its status before the read (as FileTexts keeps it), or why it
 * could not be read; and, when that status cannot be trusted (the file changed within RACY_MS
 * of the read, inside one tick of the kernel's clock), a hash of the bytes read.
 */
export interface ReadRecord {
  readonly path: string;
  readonly status: string;
  readonly digest?: string;
}

/**
 * The text of each file read cleanly, with the status it had (device, inode, size, and the
 * modification and change times): a file whose status is the same is not read again. Any write
 * changes ctime, but the kernel stamps it from a clock that ticks every few milliseconds, so two
 * same-size writes within one tick look alike; as git does with its "racily clean" entries, a
 * file changed less than RACY_MS before it was read is not trusted and is read again next time.
 * Holds only the files of the latest read.
 */
export class FileTexts {
  private entries = new Map<string, { readonly status: string; readonly text: string; readonly racy: boolean }>();
  private next = new Map<string, { readonly status: string; readonly text: string; readonly racy: boolean }>();
  /** Files read from disk and reused since this was made. */
  read = 0;
  reused = 0;

  lookup(path: string, status: string): string | undefined {
    const hit = this.entries.get(path);
    if (hit?.status !== status || hit.racy) return undefined;
    this.reused += 1;
    this.next.set(path, hit);
    return hit.text;
  }

  store(path: string, status: string, text: string, racy: boolean): void {
    this.read += 1;
    this.next.set(path, { status, text, racy });
  }

  /** Ends one read: what it did not see is forgotten. */
  commit(): void {
    this.entries = this.next;
    this.next = new Map();
  }
}

/** Far more than the kernel's timestamp tick (1–10 ms): a file changed this recently is read again. */
const RACY_MS = 100;

function statusKey(s: BigIntStats): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

export const DEFAULT_MAX_FILE_SIZE = 16 * 1024 * 1024;

const MANIFEST_EXTENSION = /\.(ya?ml|json)$/i;

export function readInputs(paths: string[], reporter: Reporter, opts: ReadInputsOptions = {}): SourceFile[] {
  const limit = opts.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
  const files: SourceFile[] = [];
  // A file reached twice (named, and inside a named directory) is read once.
  const seen = new Set<string>();
  for (const path of paths) {
    if (path === '-') {
      const text = readStdin(limit, reporter, opts.stdin ?? readStdinBounded);
      if (text !== undefined && checkText(STDIN_PATH, text, reporter)) files.push({ path: STDIN_PATH, text: stripBom(text) });
      continue;
    }
    for (const file of filesOf(path, reporter)) readOne(file, limit, reporter, seen, files, opts);
  }
  opts.texts?.commit();
  return files;
}

/** The manifest files a command-line path stands for: itself, or those under it (SMI1012 if none). */
function filesOf(path: string, reporter: Reporter): string[] {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (e) {
    reporter.report(unreadable(path, e));
    return [];
  }
  if (!stats.isDirectory()) return [path];
  const found = manifestsUnder(path, reporter);
  // undefined: the directory itself could not be read, which SMI1009 has said already.
  if (found?.length === 0) reporter.report(diagnostic('no-input', { path }));
  return found ?? [];
}

/** A file's status: what readOne trusts to be the same file with the same bytes, unless racy. */
interface Observed {
  readonly real: string;
  readonly stats: BigIntStats;
  readonly status: string;
  readonly racy: boolean;
}

/** Stats `path` once (following links), as readOne and inputsMoved both do; throws as statSync does. */
function observe(path: string): Observed {
  const real = realpathSync.native(path);
  const stats = statSync(path, { bigint: true });
  return { real, stats, status: statusKey(stats), racy: Date.now() - Number(stats.ctimeMs) < RACY_MS };
}

function digestOf(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('base64');
}

/**
 * Whether the files `paths` stand for have moved on from what a read saw (`record`): a file
 * added, removed or renamed, a status changed, or, for a file whose status was racy, other
 * bytes. Costs a directory walk and a stat per file, and reads only the racy files: what lets
 * `serve --watch` check after every burst of changes that it compiled what is on disk, whatever
 * events the file watcher merged or lost.
 */
export function inputsMoved(paths: readonly string[], record: readonly ReadRecord[], maxFileSize = DEFAULT_MAX_FILE_SIZE): boolean {
  const quiet: Reporter = { report: () => {} };
  const seen = new Set<string>();
  let i = 0;
  for (const path of paths) {
    if (path === '-') continue;
    for (const file of filesOf(path, quiet)) {
      let now: Observed | undefined;
      let status: string;
      try {
        now = observe(file);
        if (seen.has(now.real)) continue;
        seen.add(now.real);
        status = now.status;
      } catch (e) {
        status = unreadableStatus(e);
      }
      const was = record[i++];
      if (was?.path !== file || was.status !== status) return true;
      if (was.digest !== undefined && was.digest !== digestNow(file, maxFileSize)) return true;
    }
  }
  return i !== record.length;
}

function unreadableStatus(e: unknown): string {
  return `unreadable:${(e as NodeJS.ErrnoException).code ?? 'error'}`;
}

function digestNow(path: string, limit: number): string | undefined {
  try {
    return digestOf(readBounded(path, limit));
  } catch {
    return undefined;
  }
}

/**
 * Manifest files under `dir`, depth first, entries in byte order. Hidden entries
 * (`.git`, `.github`, editor backups) and `node_modules` are skipped; symlinked
 * directories are followed once each, so a link cycle ends.
 */
function manifestsUnder(dir: string, reporter: Reporter): string[] | undefined {
  const out: string[] = [];
  const visited = new Set<string>();
  let rootRead = true;
  const walk = (current: string): void => {
    let real: string;
    let entries: Dirent[];
    try {
      real = realpathSync(current);
      entries = readdirSync(current, { withFileTypes: true });
    } catch (e) {
      reporter.report(unreadable(current, e));
      if (current === dir) rootRead = false;
      return;
    }
    if (visited.has(real)) return;
    visited.add(real);
    for (const entry of entries.sort(byName)) {
      const name = entry.name;
      if (name.startsWith('.') || name === 'node_modules') continue;
      const path = join(current, name);
      // The entry's type, when the directory says (no stat per file: `serve --watch` walks the
      // tree after every burst of edits); a symlink, or a file system that does not say, is stat'ed.
      if (entry.isDirectory()) {
        walk(path);
        continue;
      }
      if (entry.isFile()) {
        if (MANIFEST_EXTENSION.test(name)) out.push(path);
        continue;
      }
      let stats: Stats;
      try {
        stats = statSync(path);
      } catch (e) {
        // A dangling symlink inside a tree is not worth an error; a manifest that exists but
        // cannot be read (a permission, a symlink loop) is: its resources would silently vanish.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && MANIFEST_EXTENSION.test(name)) reporter.report(unreadable(path, e));
        continue;
      }
      if (stats.isDirectory()) walk(path);
      else if (stats.isFile() && MANIFEST_EXTENSION.test(name)) out.push(path);
    }
  };
  walk(dir);
  return rootRead ? out : undefined;
}

function readOne(path: string, limit: number, reporter: Reporter, seen: Set<string>, files: SourceFile[], opts: ReadInputsOptions): void {
  const texts = opts.texts;
  let buffer: Buffer;
  let now: Observed;
  try {
    now = observe(path);
  } catch (e) {
    opts.record?.push({ path, status: unreadableStatus(e) });
    reporter.report(unreadable(path, e));
    return;
  }
  if (seen.has(now.real)) return;
  seen.add(now.real);
  const { status, racy } = now;
  const size = Number(now.stats.size);
  try {
    if (texts) {
      const text = texts.lookup(path, status);
      if (text !== undefined) {
        opts.record?.push({ path, status });
        files.push({ path, text });
        return;
      }
    }
    if (size > limit) {
      opts.record?.push({ path, status });
      reporter.report(diagnostic('input-too-large', { size, limit }, { file: path, line: 1, column: 1 }));
      return;
    }
    buffer = readBounded(path, limit);
  } catch (e) {
    opts.record?.push({ path, status });
    reporter.report(unreadable(path, e));
    return;
  }
  opts.record?.push(racy ? { path, status, digest: digestOf(buffer) } : { path, status });
  if (buffer.length > limit) {
    // The file grew between stat and read (or is a device that reports size 0).
    reporter.report(diagnostic('input-too-large', { size: buffer.length, limit }, { file: path, line: 1, column: 1 }));
    return;
  }
  const text = decode(path, buffer, reporter);
  if (text === undefined || !checkText(path, text, reporter)) return;
  const clean = stripBom(text);
  // Only a file that read cleanly is remembered (a bad one is read and reported again), under
  // the status from before the read: a write during it changes the status, so the next read misses.
  texts?.store(path, status, clean, racy);
  files.push({ path, text: clean });
}

function readStdin(limit: number, reporter: Reporter, read: (maxBytes: number) => string | Buffer): string | undefined {
  let input: string | Buffer;
  try {
    input = read(limit + 1);
  } catch (e) {
    reporter.report(unreadable(STDIN_PATH, e));
    return undefined;
  }
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > limit) {
    // Only limit + 1 bytes were read: the real size is unknown, and "over the limit" is what matters.
    reporter.report(diagnostic('input-too-large', { size: `more than ${limit}`, limit }, { file: STDIN_PATH, line: 1, column: 1 }));
    return undefined;
  }
  return typeof input === 'string' ? input : decode(STDIN_PATH, input, reporter);
}

function unreadable(path: string, e: unknown): ReturnType<typeof diagnostic> {
  const err = e as NodeJS.ErrnoException;
  const detail =
    err.code === 'ENOENT' ? 'no such file or directory'
    : err.code === 'EACCES' ? 'permission denied'
    : err.code === 'EISDIR' ? 'is a directory'
    : err.code === 'ELOOP' ? 'too many levels of symbolic links'
    : err.message;
  return diagnostic('unreadable-input', { path, detail });
}
