/**
 * Paths inside an output tree, and the coded error every writer of a tree raises. A tree path is
 * relative, `/`-separated, and each segment is a plain file name: the writer checks every path it
 * is handed (whatever the parser and the passes let through), so no name can put a file outside
 * the output directory.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import { diagnostic } from '../diagnostics/diagnostic.ts';

/** The manifest at the root of every tree smi-compile writes (tree-manifest.ts); no tree file may take its name. */
export const MANIFEST_FILE = '.smi-compile.sha256';

/** Exit code of the refusal: 1 for what the input caused (an unsafe name, a failed write), 2 for a directory the user pointed at that is not ours. */
export type TreeExit = 1 | 2;

/** A refusal or failure of an output-tree writer or reader: a diagnostic, never a stack trace. */
export class OutputTreeError extends Error {
  constructor(
    readonly diagnostic: Diagnostic,
    readonly exitCode: TreeExit,
  ) {
    super(diagnostic.message);
  }
}

/** Most file systems' NAME_MAX. */
const MAX_SEGMENT_BYTES = 255;
// Control characters (NUL and newline included: the manifest is one path per line), and `\`, a
// separator on Windows and an escape in `sha256sum` files.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f\\]/;

/** Why `segment` cannot be a file or directory name of a tree; undefined when it can. */
function unsafeSegment(segment: string): string | undefined {
  if (segment === '') return 'it has an empty path segment';
  if (segment === '.' || segment === '..') return `it has a "${segment}" segment`;
  if (segment.includes('/')) return 'a name holds "/"';
  if (FORBIDDEN.test(segment)) return 'it holds a backslash or a control character (NUL, newline, ...)';
  if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) return `a path segment is longer than ${MAX_SEGMENT_BYTES} bytes`;
  return undefined;
}

/** Why `file` (relative, `/`-separated) cannot be written into a tree; undefined when it can. */
export function unsafeTreePath(file: string): string | undefined {
  if (file.startsWith('/')) return 'it is absolute';
  if (/^[A-Za-z]:/.test(file)) return 'it starts with a drive letter';
  if (file === MANIFEST_FILE) return `${MANIFEST_FILE} is the tree's manifest`;
  for (const segment of file.split('/')) {
    const why = unsafeSegment(segment);
    if (why) return why;
  }
  return undefined;
}

/** A path as a diagnostic shows it: quoted and escaped, cut to 160 characters, so a hostile name cannot forge lines. */
/** Output paths in code-unit order: the order the tree is written, read and compared in. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function showPath(path: string): string {
  const quoted = JSON.stringify(path);
  return quoted.length > 160 ? `${quoted.slice(0, 150)}…" (${path.length} characters)` : quoted;
}

/** `segments` joined into a tree path; OutputTreeError (SMI4001, exit 1) when any segment is not a plain name. */
export function treePath(...segments: string[]): string {
  const path = segments.join('/');
  for (const segment of segments) {
    const why = unsafeSegment(segment);
    if (why) throw unsafePathError(path, why);
  }
  return path;
}

function unsafePathError(path: string, reason: string): OutputTreeError {
  return new OutputTreeError(diagnostic('output-path-unsafe', { path: showPath(path), reason }), 1);
}

/** Checks a tree path; returns it. OutputTreeError (SMI4001) when it is unsafe. */
export function checkTreePath(file: string): string {
  const why = unsafeTreePath(file);
  if (why) throw unsafePathError(file, why);
  return file;
}
