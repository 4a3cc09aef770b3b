/**
 * Ownership of an output tree, proven rather than guessed from file names. Every tree smi-compile
 * writes carries a manifest at its root, `.smi-compile.sha256`, in `sha256sum`'s format (so
 * `cd OUT && sha256sum -c .smi-compile.sha256` checks it too): one line per file written,
 * `<sha256>  <path>`, sorted by path. A directory may be replaced only when it does not exist, is
 * empty, or every entry in it is a file the manifest lists with that content (or a directory
 * holding such files). Anything else, a file added or edited by someone, an empty directory, a
 * symbolic link, a directory that cannot be read, is somebody else's: a coded refusal that lists
 * a few of them, and nothing is deleted.
 *
 * The walk never follows a symbolic link: dangling links and link loops are entries like any
 * other, not errors from deep inside `stat`.
 */
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync, readFileSync, readSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { diagnostic } from '../diagnostics/diagnostic.ts';
import { MANIFEST_FILE, OutputTreeError, showPath } from './tree-paths.ts';

export type EntryKind = 'file' | 'directory' | 'symlink' | 'other' | 'unreadable';

export interface TreeEntry {
  /** Relative, `/`-separated. */
  readonly path: string;
  readonly kind: EntryKind;
  /** For `unreadable`: the error code (EACCES, ...). */
  readonly detail?: string;
}

function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function errorCode(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? (err instanceof Error ? err.message : String(err));
}

function kindOf(d: Dirent): EntryKind {
  if (d.isSymbolicLink()) return 'symlink';
  if (d.isDirectory()) return 'directory';
  if (d.isFile()) return 'file';
  return 'other';
}

/** What is at `dir` itself, without following a link: undefined when nothing is. */
export function rootKind(dir: string): 'directory' | 'symlink' | 'file' | 'other' | undefined {
  let st;
  try {
    st = lstatSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new OutputTreeError(diagnostic('tree-unreadable', { dir, path: showPath(dir), detail: errorCode(err) }), 2);
  }
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isDirectory()) return 'directory';
  if (st.isFile()) return 'file';
  return 'other';
}

/**
 * Every entry below `root` (directories too), in path order, links not followed. A directory that
 * cannot be listed is one `unreadable` entry (the root itself included, as the path `.`).
 */
export function walkTree(root: string): TreeEntry[] {
  const out: TreeEntry[] = [];
  const visit = (dir: string, rel: string): void => {
    let dirents: Dirent[];
    try {
      dirents = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      out.push({ path: rel || '.', kind: 'unreadable', detail: errorCode(err) });
      return;
    }
    for (const d of dirents) {
      const path = rel ? `${rel}/${d.name}` : d.name;
      const kind = kindOf(d);
      out.push({ path, kind });
      if (kind === 'directory') visit(join(dir, d.name), path);
    }
  };
  visit(root, '');
  return out.sort((a, b) => comparePaths(a.path, b.path));
}

export function sha256(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/**
 * The SHA-256 of a file, read through one small buffer: proving a large old tree ours reads every
 * file once, and a Buffer per file would sit off the V8 heap until it is freed, late.
 */
function sha256File(path: string, chunk: Buffer = Buffer.allocUnsafe(1 << 16)): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0; ) hash.update(chunk.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** The manifest of a tree: `<sha256>  <path>` per file, sorted by path. */
export function renderManifest(hashes: ReadonlyMap<string, string>): string {
  return [...hashes.keys()].sort(comparePaths).map((f) => `${hashes.get(f)}  ${f}\n`).join('');
}

const MANIFEST_LINE = /^([0-9a-f]{64}) {2}([^\n]+)$/;

/** Path → sha256 of a manifest's text; OutputTreeError (SMI4004) on a line that is not one. */
export function parseManifest(text: string, dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, i) => {
    const m = MANIFEST_LINE.exec(line);
    if (!m) throw new OutputTreeError(diagnostic('output-manifest-invalid', { dir, file: MANIFEST_FILE, line: i + 1 }), 2);
    out.set(m[2], m[1]);
  });
  return out;
}

export type Ownership = 'absent' | 'empty' | 'owned';

export interface OwnershipOptions {
  /** Also hash every listed file (the check before a tree is deleted); without it, names and kinds only (the early check). */
  readonly content: boolean;
  /** The directory as the user named it, for messages (the check may run on the tree renamed aside). */
  readonly shownAs?: string;
  /** The option that named it: `-o` or `--check`. */
  readonly option?: string;
}

const EXAMPLES = 4;

function examples(items: readonly string[]): string {
  const shown = items.slice(0, EXAMPLES).join(', ');
  return items.length > EXAMPLES ? `${shown}, and ${items.length - EXAMPLES} more` : shown;
}

/**
 * Whether smi-compile may replace `dir`: `absent` and `empty` may be taken, `owned` proven by
 * the manifest. Otherwise OutputTreeError, exit 2: SMI4005 (not a directory), SMI4003 (no
 * manifest), SMI4004 (a damaged manifest), SMI4002 (entries that are not ours), SMI4008 (`dir`
 * cannot be read at all).
 */
export function proveOwnership(dir: string, opts: OwnershipOptions): Ownership {
  const shown = opts.shownAs ?? dir;
  const kind = rootKind(dir);
  if (kind === undefined) return 'absent';
  if (kind !== 'directory') {
    const what = kind === 'symlink' ? 'a symbolic link' : kind === 'file' ? 'a file' : 'not a regular file';
    throw new OutputTreeError(diagnostic('output-not-directory', { dir: shown, what, option: opts.option ?? '-o' }), 2);
  }
  const entries = walkTree(dir);
  if (entries.length === 0) return 'empty';
  if (entries[0].path === '.') {
    throw new OutputTreeError(diagnostic('tree-unreadable', { dir: shown, path: '.', detail: entries[0].detail ?? '' }), 2);
  }
  const manifestEntry = entries.find((e) => e.path === MANIFEST_FILE);
  if (!manifestEntry || manifestEntry.kind !== 'file') {
    const top = entries.filter((e) => !e.path.includes('/')).map((e) => showPath(e.kind === 'directory' ? `${e.path}/` : e.path));
    throw new OutputTreeError(
      diagnostic('output-no-manifest', {
        dir: shown,
        manifest: MANIFEST_FILE,
        examples: examples(top),
        hint: 'if an older smi-compile wrote it, remove it (git rm -r -q, or rm -r once nothing in it is yours) and rerun; see SMI4003',
      }),
      2,
    );
  }
  let listed: Map<string, string>;
  try {
    listed = parseManifest(readFileSync(join(dir, MANIFEST_FILE), 'utf8'), shown);
  } catch (err) {
    if (err instanceof OutputTreeError) throw err;
    throw new OutputTreeError(diagnostic('tree-unreadable', { dir: shown, path: showPath(MANIFEST_FILE), detail: errorCode(err) }), 2);
  }
  // Directories that hold a listed file; any other directory is someone else's (an empty one included).
  const ours = new Set<string>();
  for (const f of listed.keys()) for (let i = f.indexOf('/'); i >= 0; i = f.indexOf('/', i + 1)) ours.add(f.slice(0, i));

  const foreign: string[] = [];
  for (const e of entries) {
    if (e.path === MANIFEST_FILE) continue;
    const why = problem(dir, e, listed, ours, opts.content);
    if (why !== undefined) foreign.push(`${showPath(e.kind === 'directory' ? `${e.path}/` : e.path)}${why}`);
  }
  if (foreign.length > 0) {
    throw new OutputTreeError(
      diagnostic('output-not-owned', { dir: shown, count: foreign.length, plural: foreign.length === 1 ? 'y' : 'ies', examples: examples(foreign) }),
      2,
    );
  }
  return 'owned';
}

/** Why entry `e` is not ours (a short note after its path, '' for "not written by smi-compile"); undefined when it is. */
function problem(dir: string, e: TreeEntry, listed: ReadonlyMap<string, string>, ours: ReadonlySet<string>, content: boolean): string | undefined {
  switch (e.kind) {
    case 'unreadable':
      return ` (cannot be read: ${e.detail})`;
    case 'symlink':
      return ' (a symbolic link)';
    case 'other':
      return ' (not a regular file)';
    case 'directory':
      return ours.has(e.path) ? undefined : '';
    case 'file': {
      const expected = listed.get(e.path);
      if (expected === undefined) return '';
      if (!content) return undefined;
      let actual: string;
      try {
        actual = sha256File(join(dir, ...e.path.split('/')));
      } catch (err) {
        return ` (cannot be read: ${errorCode(err)})`;
      }
      return actual === expected ? undefined : ' (changed since smi-compile wrote it)';
    }
  }
}
