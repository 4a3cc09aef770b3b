/**
 * Comparing output trees: `compile --check` against the tree on disk, the golden tests against
 * `golden/`. A difference is a unified diff from the expected tree to the actual one.
 */
import { createTwoFilesPatch } from 'diff';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { treeFiles, type OutputTree } from './output-tree.ts';
import { comparePaths } from './tree-paths.ts';

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
function diffFile(file: string, before: string | undefined, after: string | undefined, labels: DiffLabels = DEFAULT_LABELS): TreeDifference | undefined {
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
