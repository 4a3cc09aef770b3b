/**
 * Command-line paths → source files: directories recursively (`*.yaml`, `*.yml`, `*.json`,
 * in sorted order so every run sees the same input), plain files, and `-` for stdin.
 *
 * Anything wrong with a path is a diagnostic; the other paths are still read.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readSync, realpathSync, statSync, type BigIntStats, type Dirent, type Stats } from 'node:fs';
import { join } from 'node:path';
import { diagnostic, type Reporter, type SourcePosition } from '../diagnostics/diagnostic.ts';
import { STDIN_PATH, type SourceFile } from './source.ts';

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
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
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

/** Reads at most limit + 1 bytes, so a huge or endless file cannot exhaust memory. */
function readBounded(path: string, limit: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(Buffer.from(chunk.subarray(0, n)));
      total += n;
      if (total > limit) break;
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
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

/**
 * Reads file descriptor 0 up to `maxBytes`, so that `cat /dev/zero | smi-compile -` stops at
 * the limit instead of exhausting memory. A non-blocking stdin (some terminals and pipes set
 * O_NONBLOCK) answers EAGAIN until data arrives; wait a little and retry.
 */
export function readStdinBounded(maxBytes: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  const chunk = Buffer.allocUnsafe(1 << 16);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (total < maxBytes) {
    let n: number;
    try {
      n = readSync(0, chunk, 0, Math.min(chunk.length, maxBytes - total), null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(pause, 0, 0, 10);
        continue;
      }
      if (code === 'EOF') break; // Windows reports the end of a pipe this way
      throw e;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(chunk.subarray(0, n)));
    total += n;
  }
  return Buffer.concat(chunks, total);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function decode(path: string, buffer: Buffer, reporter: Reporter): string | undefined {
  try {
    return UTF8.decode(buffer);
  } catch {
    const offset = firstInvalidUtf8(buffer);
    const prefix = buffer.subarray(0, offset).toString('utf8');
    reporter.report(diagnostic('binary-input', { detail: `invalid UTF-8 at byte ${offset}` }, positionOf(path, prefix, prefix.length)));
    return undefined;
  }
}

/** A NUL byte is valid UTF-8 but no YAML or JSON manifest contains one: it is binary. */
function checkText(path: string, text: string, reporter: Reporter): boolean {
  const nul = text.indexOf('\0');
  if (nul < 0) return true;
  reporter.report(diagnostic('binary-input', { detail: `NUL byte at offset ${nul}` }, positionOf(path, text, nul)));
  return false;
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
function firstInvalidUtf8(buffer: Buffer): number {
  let i = 0;
  while (i < buffer.length) {
    const b = buffer[i];
    // Sequence length from the lead byte, and the allowed range of the second byte
    // (which rules out overlong forms, surrogates and code points past U+10FFFF).
    let n = 0;
    let lo = 0x80;
    let hi = 0xbf;
    if (b < 0x80) n = 1;
    else if (b >= 0xc2 && b <= 0xdf) n = 2;
    else if (b >= 0xe0 && b <= 0xef) [n, lo, hi] = [3, b === 0xe0 ? 0xa0 : 0x80, b === 0xed ? 0x9f : 0xbf];
    else if (b >= 0xf0 && b <= 0xf4) [n, lo, hi] = [4, b === 0xf0 ? 0x90 : 0x80, b === 0xf4 ? 0x8f : 0xbf];
    else return i;
    for (let k = 1; k < n; k++) {
      const c = buffer[i + k];
      if (c === undefined || c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n;
  }
  return i;
}

function positionOf(file: string, text: string, offset: number): SourcePosition {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { file, line, column: offset - lineStart + 1 };
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
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
