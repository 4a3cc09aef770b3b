/**
 * The output tree: `OUT/<namespace>/<workload>/{listeners,routes,clusters,endpoints,secrets,bootstrap}.yaml`.
 * One renderer for `compile -o`, `--check` and the golden tests: `renderProxy` serialises one
 * proxy's files. `compile -o` streams them (StagedTree: one proxy at a time into a staging
 * directory that replaces the output in one rename once every proxy was written and checked);
 * `renderTree` renders a whole tree in memory (tests, small trees).
 *
 * Every writer goes through StagedTree, which writes only inside the output directory (each path
 * is checked, tree-paths.ts; each file and directory is created exclusively, never through
 * something already there), writes the manifest that proves the tree is ours, and replaces an
 * existing directory only when its manifest proves every entry in it is ours (tree-manifest.ts).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, unlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import jsyaml from 'js-yaml';
import { diagnostic } from '../diagnostics/diagnostic.ts';
import { CONFIG_DUMP_FILE, configDumpText } from './config-dump.ts';
import { staticBootstrap } from '../emit/static-bootstrap.ts';
import { XDS_KINDS, type ProxyConfig } from '../emit/types.ts';
import { createExclusive } from '../files/exclusive.ts';
import { sha256Hex } from '../shared/hash.ts';
import { proveOwnership, renderManifest, walkTree } from './tree-manifest.ts';
import { checkTreePath, comparePaths, MANIFEST_FILE, OutputTreeError, showPath, treePath } from './tree-paths.ts';

export { MANIFEST_FILE, OutputTreeError } from './tree-paths.ts';

export type OutputFormat = 'yaml' | 'json';

/** Relative path (with `/`) → file content. Sorted by path. */
export type OutputTree = ReadonlyMap<string, string>;

/**
 * js-yaml's dumper: five times faster than `yaml`'s stringify on large trees (writing is
 * most of a large compile), and plain: no anchors for the objects emit shares between
 * proxies (`noRefs`), never a folded line (`lineWidth: -1`), so diffs stay line-per-field.
 */
export function serialise(value: unknown, format: OutputFormat): string {
  if (format === 'json') return `${JSON.stringify(value, null, 2)}\n`;
  return jsyaml.dump(value, { lineWidth: -1, noRefs: true, indent: 2 });
}

/** What goes into a workload directory besides the dynamic packaging. */
export interface RenderOptions {
  /** `compile --static`: also `bootstrap-static.<format>`, the proxy's resources inline (src/emit/static-bootstrap.ts). */
  readonly static?: boolean;
  /** `compile --format config-dump`: also `config_dump.json`, Envoy's admin config dump of the proxy (config-dump.ts). */
  readonly configDump?: boolean;
  /** One per compile: each resource that several proxies share is serialised once (SharedTexts). */
  readonly sharedTexts?: SharedTexts;
}

/**
 * YAML of the resources that proxies share, for one compile. Emit hands every proxy that gets the
 * same resource (an upstream's endpoints, a trust bundle, a shared route table...) the same frozen
 * object, and a YAML list is its items' texts one after the other (`- ` at the start of each, the
 * item's own lines indented under it), so a shared item's text is made once and reused. In a
 * permissive mesh most of the tree is such items: 250 services write 354 MB from 126 MB of
 * distinct items (render 12.9 → 4.8 s of CPU). Only frozen items met a second time are kept,
 * weakly: a proxy's own items go with it, so memory holds what is shared, not the tree.
 */
export class SharedTexts {
  private readonly met = new WeakSet<object>();
  private readonly texts = new WeakMap<object, string>();

  list(items: readonly unknown[]): string {
    let out = '';
    for (const item of items) {
      if (typeof item !== 'object' || item === null) return serialise(items, 'yaml');
      let text = this.texts.get(item);
      if (text === undefined) {
        text = serialise([item], 'yaml');
        // Frozen (emit deep-freezes what it shares): the text stays true for every later proxy.
        if (this.met.has(item) && Object.isFrozen(item)) this.texts.set(item, text);
        else this.met.add(item);
      }
      out += text;
    }
    return out || serialise(items, 'yaml');
  }
}

/**
 * One proxy's files, `<namespace>/<workload>/<kind>.<format>` → content, sorted by path.
 * OutputTreeError (SMI4001) when the namespace or workload is not a plain file name.
 */
export function renderProxy(proxy: ProxyConfig, format: OutputFormat, options: RenderOptions = {}): [string, string][] {
  const dir = treePath(proxy.namespace, proxy.workload);
  const files: [string, string][] = [[`${dir}/bootstrap.${format}`, serialise(proxy.bootstrap, format)]];
  if (options.static) files.push([`${dir}/bootstrap-static.${format}`, serialise(staticBootstrap(proxy), format)]);
  const shared = format === 'yaml' ? options.sharedTexts : undefined;
  for (const kind of XDS_KINDS) files.push([`${dir}/${kind}.${format}`, shared ? shared.list(proxy.resources[kind]) : serialise(proxy.resources[kind], format)]);
  if (options.configDump) files.push([`${dir}/${CONFIG_DUMP_FILE}`, configDumpText(proxy)]);
  return files.sort(([a], [b]) => comparePaths(a, b));
}

export function renderTree(proxies: readonly ProxyConfig[], format: OutputFormat, options: RenderOptions = {}): OutputTree {
  const files = proxies.flatMap((proxy) => renderProxy(proxy, format, options));
  files.sort(([a], [b]) => comparePaths(a, b));
  return new Map(files);
}

/**
 * The relative paths (with `/`) of every file of the tree at `dir`, sorted, the manifest left
 * out (it is derived from the files: comparisons compare the files); empty when `dir` does not
 * exist. OutputTreeError (SMI4008, exit 2) for an entry that is neither a directory nor a regular
 * file (a symbolic link, dangling or looping or not) and for a directory that cannot be read.
 */
export function treeFiles(dir: string): string[] {
  const files: string[] = [];
  for (const e of walkTree(dir)) {
    if (e.kind === 'file') {
      if (e.path !== MANIFEST_FILE) files.push(e.path);
      continue;
    }
    if (e.kind === 'directory') continue;
    if (e.kind === 'unreadable' && e.path === '.' && e.detail === 'ENOENT') return [];
    const detail = e.kind === 'unreadable' ? `cannot be read (${e.detail})` : e.kind === 'symlink' ? 'is a symbolic link (not followed)' : 'is not a regular file';
    throw new OutputTreeError(diagnostic('tree-unreadable', { dir, path: showPath(e.path), detail }), 2);
  }
  return files;
}

/** Reads a tree from disk (every file below `dir`, the manifest left out); empty when `dir` does not exist. */
export function readTree(dir: string): OutputTree {
  return new Map(treeFiles(dir).map((f) => [f, readFileSync(join(dir, ...f.split('/')), 'utf8')]));
}

function writeFailed(path: string, err: unknown): OutputTreeError {
  if (err instanceof OutputTreeError) return err;
  const e = err as NodeJS.ErrnoException;
  return new OutputTreeError(diagnostic('output-write-failed', { path, detail: e.code ? `${e.code} (${e.syscall ?? 'write'})` : String(e.message) }), 1);
}

export interface StagedTreeOptions {
  /** The option that named the directory, for messages: `-o` (default) or `--check`. */
  readonly option?: string;
}

/**
 * A new tree for `outDir`, written file by file into a hidden sibling staging directory
 * `.OUT.tmp-<pid>`, then put in place by `commit()` as one step (the old tree is renamed
 * aside, the staging directory renamed into place, the old tree removed): a killed compile
 * leaves either the old tree or the new one, never a mix, and workload directories that
 * disappeared disappear with the old tree. `abort()` removes the staging directory and leaves
 * the old tree as it was. Files may come in any order; a path written twice keeps the last.
 *
 * Ownership: the constructor refuses (OutputTreeError) a `outDir` that is not a directory, or
 * holds entries its manifest does not list; `commit()` proves it again, contents hashed, on the
 * old tree once renamed aside (so nothing added meanwhile through `outDir` escapes the check),
 * and puts it back when the proof fails. Every path written is checked (SMI4001); every file
 * and directory of the staging tree is created exclusively.
 */
export class StagedTree {
  readonly target: string;
  readonly staging: string;
  private readonly retired: string;
  /** File → sha256 of what was written: the manifest. */
  private readonly hashes = new Map<string, string>();
  private readonly sizes = new Map<string, number>();
  /** Directories made in the staging tree, relative. */
  private readonly dirs = new Set<string>();
  private lastDir = '';
  private bytesWritten = 0;
  private state: 'open' | 'committed' | 'aborted' = 'open';
  /** The outermost directory made for the parent of `outDir` (none when it existed): an aborted compile removes it again. */
  private readonly madeParent: string | undefined;

  constructor(
    private readonly outDir: string,
    private readonly opts: StagedTreeOptions = {},
  ) {
    this.target = resolve(outDir);
    proveOwnership(this.target, { content: false, shownAs: outDir, option: opts.option });
    const parent = dirname(this.target);
    try {
      this.madeParent = mkdirSync(parent, { recursive: true });
    } catch (err) {
      throw writeFailed(parent, err);
    }
    this.staging = join(parent, `.${basename(this.target)}.tmp-${process.pid}`);
    this.retired = join(parent, `.${basename(this.target)}.old-${process.pid}`);
    removeLeftovers(parent, basename(this.target));
    try {
      rmSync(this.staging, { recursive: true, force: true }); // a namesake of a process with our pid, long gone
      mkdirSync(this.staging); // not recursive: fails if anything got there first; an empty mesh still produces an (empty) tree
    } catch (err) {
      this.state = 'aborted';
      throw writeFailed(this.staging, err);
    }
  }

  /**
   * Writes one file (relative path with `/`). A mode is set at creation (private keys: 0600), so
   * the file is never readable by others. OutputTreeError: SMI4001 for a path that would not stay
   * inside the tree, SMI4007 when the file system refuses.
   */
  write(file: string, content: string, mode?: number): void {
    if (this.state !== 'open') throw new Error(`StagedTree for ${this.target} is ${this.state}`);
    checkTreePath(file);
    const slash = file.lastIndexOf('/');
    const dir = slash < 0 ? '' : file.slice(0, slash);
    try {
      if (dir !== this.lastDir) {
        this.makeDirs(dir);
        this.lastDir = dir;
      }
      const p = join(this.staging, file); // checked segments, `/`-separated: join reads `/` as a separator on every platform
      if (this.dirs.has(file)) throw new Error(`${file} is a directory of this tree`);
      const before = this.sizes.get(file);
      if (before !== undefined) {
        this.bytesWritten -= before;
        unlinkSync(p); // ours: written by this tree a moment ago
      }
      createExclusive(p, content, mode);
    } catch (err) {
      throw writeFailed(file, err);
    }
    const size = Buffer.byteLength(content);
    this.hashes.set(file, sha256Hex(content));
    this.sizes.set(file, size);
    this.bytesWritten += size;
  }

  /** Makes each directory of `dir` not made yet, one level at a time and exclusively: never into something already there. */
  private makeDirs(dir: string): void {
    if (dir === '' || this.dirs.has(dir)) return;
    const slash = dir.lastIndexOf('/');
    if (slash >= 0) this.makeDirs(dir.slice(0, slash));
    if (this.sizes.has(dir)) throw new Error(`${dir} is a file of this tree`);
    mkdirSync(join(this.staging, dir));
    this.dirs.add(dir);
  }

  get files(): number {
    return this.hashes.size;
  }

  get bytes(): number {
    return this.bytesWritten;
  }

  /**
   * Puts the staged tree, with its manifest, in place of `outDir`. OutputTreeError when the old
   * tree turns out not to be ours (SMI4002..SMI4005: it is put back, nothing is written) or the
   * file system refuses (SMI4007).
   */
  commit(): { files: number; bytes: number } {
    if (this.state !== 'open') throw new Error(`StagedTree for ${this.target} is ${this.state}`);
    try {
      createExclusive(join(this.staging, MANIFEST_FILE), renderManifest(this.hashes));
    } catch (err) {
      throw writeFailed(MANIFEST_FILE, err);
    }
    let hadOld = false;
    try {
      renameSync(this.target, this.retired);
      hadOld = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw writeFailed(this.outDir, err);
    }
    if (hadOld) {
      try {
        proveOwnership(this.retired, { content: true, shownAs: this.outDir, option: this.opts.option });
      } catch (err) {
        renameSync(this.retired, this.target);
        throw err;
      }
    }
    try {
      renameSync(this.staging, this.target);
    } catch (err) {
      if (hadOld) renameSync(this.retired, this.target);
      throw writeFailed(this.outDir, err);
    }
    this.state = 'committed';
    if (hadOld) rmSync(this.retired, { recursive: true, force: true });
    return { files: this.files, bytes: this.bytes };
  }

  /** Removes the staging directory; `outDir` stays as it was. Idempotent; a no-op after commit. */
  abort(): void {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    rmSync(this.staging, { recursive: true, force: true });
    if (this.madeParent) removeEmptyDirs(dirname(this.target), this.madeParent);
  }
}

/** `dir`, then each parent up to and including `top`, while empty (something else may have appeared there meanwhile). */
function removeEmptyDirs(dir: string, top: string): void {
  for (let d = dir; ; d = dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      return; // not empty (or gone): leave it and everything above
    }
    if (d === top || dirname(d) === d) return;
  }
}

/** Replaces `outDir` with `tree` as one step (see StagedTree). */
export function writeTree(tree: OutputTree, outDir: string, modes?: ReadonlyMap<string, number>): { files: number; bytes: number } {
  const staged = new StagedTree(outDir);
  try {
    for (const [file, content] of tree) staged.write(file, content, modes?.get(file));
    return staged.commit();
  } finally {
    staged.abort();
  }
}

/**
 * A compile killed mid-write (SIGKILL, OOM killer, a CI timeout) leaves its staging directory
 * `.OUT.tmp-<pid>`, or the retired old tree `.OUT.old-<pid>` when it died between the two
 * renames. Both are hidden and never mistaken for output, but they would pile up: the next
 * write removes those whose process is gone; a retired tree only when its manifest still proves
 * it ours (it may have died while proving it). A live pid may be a concurrent compile; leave it.
 */
function removeLeftovers(parent: string, base: string): void {
  const prefix = `.${base}.`;
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(tmp|old)-(\d+)$/.exec(name.slice(prefix.length));
    if (!m || Number(m[2]) === process.pid || isAlive(Number(m[2]))) continue;
    const path = join(parent, name);
    if (m[1] === 'old') {
      try {
        proveOwnership(path, { content: true });
      } catch {
        continue; // not provably ours: left where it is
      }
    }
    rmSync(path, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}
