/**
 * The output tree: `OUT/<namespace>/<workload>/{listeners,routes,clusters,endpoints,secrets,bootstrap}.yaml`.
 * One renderer for `compile -o`, `--check` and the golden tests: `renderProxy` serialises one
 * proxy's files. `compile -o` streams them (StagedTree: one proxy at a time into a staging
 * directory that replaces the output in one rename once every proxy was written and checked);
 * `renderTree` renders a whole tree in memory (tests, small trees).
 */
import { createTwoFilesPatch } from 'diff';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import jsyaml from 'js-yaml';
import { staticBootstrap } from '../emit/static-bootstrap.ts';
import { XDS_KINDS, type ProxyConfig } from '../emit/types.ts';

export type OutputFormat = 'yaml' | 'json';

/** Relative path (with `/`) → file content. Sorted by path. */
export type OutputTree = ReadonlyMap<string, string>;

const FILE_STEMS = [...XDS_KINDS, 'bootstrap', 'bootstrap-static'] as const;
// tls.crt and tls.key: `compile --emit-secrets` (src/cli/compile-secrets.ts).
const OUTPUT_FILE = new RegExp(`^[^/]+/[^/]+/((${FILE_STEMS.join('|')})\\.(yaml|json)|tls\\.(crt|key))$`);

/**
 * js-yaml's dumper: five times faster than `yaml`'s stringify on large trees (writing is
 * most of a large compile), and plain: no anchors for the objects emit shares between
 * proxies (`noRefs`), never a folded line (`lineWidth: -1`), so diffs stay line-per-field.
 */
export function serialise(value: unknown, format: OutputFormat): string {
  if (format === 'json') return `${JSON.stringify(value, null, 2)}\n`;
  return jsyaml.dump(value, { lineWidth: -1, noRefs: true, indent: 2 });
}

function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What goes into a workload directory besides the dynamic packaging. */
export interface RenderOptions {
  /** `compile --static`: also `bootstrap-static.<format>`, the proxy's resources inline (src/emit/static-bootstrap.ts). */
  readonly static?: boolean;
}

/** One proxy's files, `<namespace>/<workload>/<kind>.<format>` → content, sorted by path. */
export function renderProxy(proxy: ProxyConfig, format: OutputFormat, options: RenderOptions = {}): [string, string][] {
  const dir = `${proxy.namespace}/${proxy.workload}`;
  const files: [string, string][] = [[`${dir}/bootstrap.${format}`, serialise(proxy.bootstrap, format)]];
  if (options.static) files.push([`${dir}/bootstrap-static.${format}`, serialise(staticBootstrap(proxy), format)]);
  for (const kind of XDS_KINDS) files.push([`${dir}/${kind}.${format}`, serialise(proxy.resources[kind], format)]);
  return files.sort(([a], [b]) => comparePaths(a, b));
}

export function renderTree(proxies: readonly ProxyConfig[], format: OutputFormat, options: RenderOptions = {}): OutputTree {
  const files = proxies.flatMap((proxy) => renderProxy(proxy, format, options));
  files.sort(([a], [b]) => comparePaths(a, b));
  return new Map(files);
}

function listFiles(root: string, dir = root, out: string[] = []): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const name of entries) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) listFiles(root, p, out);
    else out.push(relative(root, p).split(sep).join('/'));
  }
  return out;
}

/** The relative paths (with `/`) of every file below `dir`, sorted; empty when `dir` does not exist. */
export function treeFiles(dir: string): string[] {
  return listFiles(dir).sort(comparePaths);
}

/** Reads a tree from disk (every file below `dir`); empty when `dir` does not exist. */
export function readTree(dir: string): OutputTree {
  return new Map(listFiles(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

/** Files under `dir` that smi-compile did not write: replacing the directory would lose them. */
export function foreignFiles(dir: string): string[] {
  return listFiles(dir).filter((f) => !OUTPUT_FILE.test(f));
}

/**
 * A new tree for `outDir`, written file by file into a hidden sibling staging directory
 * `.OUT.tmp-<pid>`, then put in place by `commit()` as one step (the old tree is renamed
 * aside, the staging directory renamed into place, the old tree removed): a killed compile
 * leaves either the old tree or the new one, never a mix, and workload directories that
 * disappeared disappear with the old tree. `abort()` removes the staging directory and leaves
 * the old tree as it was. Files may come in any order; a path written twice keeps the last.
 */
export class StagedTree {
  readonly target: string;
  readonly staging: string;
  private readonly retired: string;
  private readonly paths = new Set<string>();
  private lastDir = '';
  private bytesWritten = 0;
  private state: 'open' | 'committed' | 'aborted' = 'open';
  /** The outermost directory made for the parent of `outDir` (none when it existed): an aborted compile removes it again. */
  private readonly madeParent: string | undefined;

  constructor(outDir: string) {
    this.target = resolve(outDir);
    const parent = dirname(this.target);
    this.madeParent = mkdirSync(parent, { recursive: true });
    this.staging = join(parent, `.${basename(this.target)}.tmp-${process.pid}`);
    this.retired = join(parent, `.${basename(this.target)}.old-${process.pid}`);
    removeLeftovers(parent, basename(this.target));
    rmSync(this.staging, { recursive: true, force: true });
    mkdirSync(this.staging, { recursive: true }); // an empty mesh still produces an (empty) tree
  }

  /** Writes one file (relative path with `/`); a mode is set at creation (private keys: 0600), so the file is never readable by others. */
  write(file: string, content: string, mode = 0o666): void {
    if (this.state !== 'open') throw new Error(`StagedTree for ${this.target} is ${this.state}`);
    const p = join(this.staging, file); // `/`-separated: join reads `/` as a separator on every platform
    const dir = dirname(p);
    if (dir !== this.lastDir) {
      mkdirSync(dir, { recursive: true });
      this.lastDir = dir;
    }
    if (this.paths.has(file)) this.bytesWritten -= statSync(p).size;
    // `encoding` spelled out: node takes its C++ fast path for a string only when the options say
    // utf8, and an options object without it (just `mode`) went the slow way (≈ 2 µs a file, 6,600 files a compile).
    writeFileSync(p, content, { mode, encoding: 'utf8' });
    this.paths.add(file);
    this.bytesWritten += Buffer.byteLength(content);
  }

  get files(): number {
    return this.paths.size;
  }

  get bytes(): number {
    return this.bytesWritten;
  }

  /** Puts the staged tree in place of `outDir`. */
  commit(): { files: number; bytes: number } {
    if (this.state !== 'open') throw new Error(`StagedTree for ${this.target} is ${this.state}`);
    let hadOld = false;
    try {
      renameSync(this.target, this.retired);
      hadOld = true;
    } catch {
      // no previous tree
    }
    renameSync(this.staging, this.target);
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
 * write removes those whose process is gone. A live pid may be a concurrent compile; leave it.
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
    const m = /^(?:tmp|old)-(\d+)$/.exec(name.slice(prefix.length));
    if (!m || Number(m[1]) === process.pid || isAlive(Number(m[1]))) continue;
    rmSync(join(parent, name), { recursive: true, force: true });
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

export interface TreeDifference {
  readonly file: string;
  readonly kind: 'changed' | 'missing' | 'unexpected';
  /** Unified diff from expected (golden) to actual. */
  readonly patch: string;
}

/** A difference without its patch. */
export type TreeChange = Pick<TreeDifference, 'file' | 'kind'>;

export interface DiffLabels {
  readonly expected: string;
  readonly actual: string;
}

const DEFAULT_LABELS: DiffLabels = { expected: 'golden', actual: 'compiled' };

/** The difference of one file, or undefined when both sides are the same (undefined: the file is absent on that side). */
export function diffFile(file: string, before: string | undefined, after: string | undefined, labels: DiffLabels = DEFAULT_LABELS): TreeDifference | undefined {
  if (before === after) return undefined;
  const kind = before === undefined ? 'unexpected' : after === undefined ? 'missing' : 'changed';
  const patch = createTwoFilesPatch(`${labels.expected}/${file}`, `${labels.actual}/${file}`, before ?? '', after ?? '', undefined, undefined, { context: 3 });
  return { file, kind, patch };
}

/** Differences from `expected` (the golden tree) to `actual` (this compile), sorted by file. */
export function diffTrees(expected: OutputTree, actual: OutputTree, labels: DiffLabels = DEFAULT_LABELS): TreeDifference[] {
  const files = [...new Set([...expected.keys(), ...actual.keys()])].sort(comparePaths);
  const out: TreeDifference[] = [];
  for (const file of files) {
    const d = diffFile(file, expected.get(file), actual.get(file), labels);
    if (d) out.push(d);
  }
  return out;
}

/**
 * Compares a tree that arrives in path order (one proxy's files at a time) with a golden tree
 * on disk, reading one golden file at a time: golden files are listed first (names only), and
 * those the compile does not produce are reported as `missing` where they fall in path order.
 * The differences come out sorted by file, as `diffTrees` gives them.
 */
export class GoldenComparison {
  private readonly goldenFiles: string[];
  private next = 0;
  private lastFile: string | undefined;
  /** Every difference so far, without its patch (that went to `onDifference`). */
  readonly changes: TreeChange[] = [];
  files = 0;

  /**
   * `onDifference` gets each difference, patch included, as it is found, in path order: a caller
   * streams the patches somewhere (`--check` spools them to a file) instead of keeping them all.
   */
  constructor(
    readonly goldenDir: string,
    private readonly onDifference: (d: TreeDifference) => void = () => undefined,
    private readonly labels: DiffLabels = DEFAULT_LABELS,
  ) {
    this.goldenFiles = treeFiles(goldenDir);
  }

  /** The next file of the compiled tree; files must come in strictly increasing path order. */
  add(file: string, content: string): void {
    if (this.lastFile !== undefined && comparePaths(this.lastFile, file) >= 0) {
      throw new Error(`GoldenComparison: ${file} after ${this.lastFile}: files must come in path order`);
    }
    this.lastFile = file;
    this.files++;
    this.missingBefore(file);
    let before: string | undefined;
    if (this.next < this.goldenFiles.length && this.goldenFiles[this.next] === file) {
      before = readFileSync(join(this.goldenDir, ...file.split('/')), 'utf8');
      this.next++;
    }
    this.report(diffFile(file, before, content, this.labels));
  }

  /** Reports the golden files that come after the last compiled file; returns every difference (without patches). */
  finish(): TreeChange[] {
    this.missingBefore(undefined);
    return this.changes;
  }

  private report(d: TreeDifference | undefined): void {
    if (!d) return;
    this.changes.push({ file: d.file, kind: d.kind });
    this.onDifference(d);
  }

  private missingBefore(file: string | undefined): void {
    while (this.next < this.goldenFiles.length && (file === undefined || comparePaths(this.goldenFiles[this.next], file) < 0)) {
      const missing = this.goldenFiles[this.next++];
      this.report(diffFile(missing, readFileSync(join(this.goldenDir, ...missing.split('/')), 'utf8'), undefined, this.labels));
    }
  }
}
