/**
 * Paths as CI systems want them. GitHub code scanning and workflow annotations resolve a
 * path against the repository root (the job's working directory), so absolute paths and
 * Windows separators would make annotations land nowhere.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * `file` relative to `cwd`, with `/` separators. A file outside `cwd` keeps its absolute
 * path: `../../x.yaml` would point outside the repository, which no CI can show.
 */
export function relativePath(file: string, cwd: string): string {
  const abs = isAbsolute(file) ? file : resolve(cwd, file);
  const rel = relative(cwd, abs);
  const outside = rel === '' || rel.startsWith('..') || isAbsolute(rel);
  return (outside ? abs : rel).split(sep).join('/');
}

/** True for names the parser gives to input that is not a file (`-`, `<stdin>`). */
export function isPseudoFile(file: string): boolean {
  return file === '-' || (file.startsWith('<') && file.endsWith('>'));
}
