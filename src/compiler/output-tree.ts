/**
 * The output tree: `OUT/<namespace>/<workload>/{listeners,routes,clusters,endpoints,secrets,bootstrap}.yaml`.
 * Rendered in memory first, so that `compile -o`, `--check` and the golden tests share one
 * renderer, and so that nothing touches the disk until the whole tree is known to be good.
 */
import { createTwoFilesPatch } from 'diff';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import jsyaml from 'js-yaml';
import { XDS_KINDS, type ProxyConfig } from '../emit/types.ts';

export type OutputFormat = 'yaml' | 'json';

/** Relative path (with `/`) → file content. Sorted by path. */
export type OutputTree = ReadonlyMap<string, string>;

const FILE_STEMS = [...XDS_KINDS, 'bootstrap'] as const;
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

export function renderTree(proxies: readonly ProxyConfig[], format: OutputFormat): OutputTree {
  const files: [string, string][] = [];
  for (const proxy of proxies) {
    const dir = `${proxy.namespace}/${proxy.workload}`;
    for (const kind of XDS_KINDS) files.push([`${dir}/${kind}.${format}`, serialise(proxy.resources[kind], format)]);
    files.push([`${dir}/bootstrap.${format}`, serialise(proxy.bootstrap, format)]);
  }
  files.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
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

/** Reads a tree from disk (every file below `dir`); empty when `dir` does not exist. */
export function readTree(dir: string): OutputTree {
  return new Map(listFiles(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

/** Files under `dir` that smi-compile did not write: replacing the directory would lose them. */
export function foreignFiles(dir: string): string[] {
  return listFiles(dir).filter((f) => !OUTPUT_FILE.test(f));
}

/**
 * Replaces `outDir` with `tree` as one step: the tree is written to a sibling temp directory
 * and renamed into place, so a killed compile leaves either the old tree or the new one,
 * never a mix. Stale workload directories disappear with the old tree.
 */
export function writeTree(tree: OutputTree, outDir: string, modes?: ReadonlyMap<string, number>): { files: number; bytes: number } {
  const target = resolve(outDir);
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const staging = join(parent, `.${basename(target)}.tmp-${process.pid}`);
  const retired = join(parent, `.${basename(target)}.old-${process.pid}`);
  removeLeftovers(parent, basename(target));
  rmSync(staging, { recursive: true, force: true });
  let bytes = 0;
  for (const [file, content] of tree) {
    const p = join(staging, ...file.split('/'));
    mkdirSync(dirname(p), { recursive: true });
    // A mode is set at creation (private keys: 0600), so the file is never readable by others.
    writeFileSync(p, content, { mode: modes?.get(file) ?? 0o666 });
    bytes += Buffer.byteLength(content);
  }
  mkdirSync(staging, { recursive: true }); // an empty mesh still produces an (empty) tree
  let hadOld = false;
  try {
    renameSync(target, retired);
    hadOld = true;
  } catch {
    // no previous tree
  }
  renameSync(staging, target);
  if (hadOld) rmSync(retired, { recursive: true, force: true });
  return { files: tree.size, bytes };
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

/** Differences from `expected` (the golden tree) to `actual` (this compile), sorted by file. */
export function diffTrees(expected: OutputTree, actual: OutputTree, labels = { expected: 'golden', actual: 'compiled' }): TreeDifference[] {
  const files = [...new Set([...expected.keys(), ...actual.keys()])].sort();
  const out: TreeDifference[] = [];
  for (const file of files) {
    const before = expected.get(file);
    const after = actual.get(file);
    if (before === after) continue;
    const kind = before === undefined ? 'unexpected' : after === undefined ? 'missing' : 'changed';
    const patch = createTwoFilesPatch(
      `${labels.expected}/${file}`,
      `${labels.actual}/${file}`,
      before ?? '',
      after ?? '',
      undefined,
      undefined,
      { context: 3 },
    );
    out.push({ file, kind, patch });
  }
  return out;
}
