/**
 * The same paths as they were at a commit: `git archive <ref> -- <paths>` unpacked into a temp
 * directory, so `diff --base <ref>` compiles the old side exactly as the new one (same reader,
 * same relative layout). A path that did not exist at the commit has no old side.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';

export class GitTreeError extends Error {}

function git(cwd: string, args: readonly string[]): { ok: boolean; stdout: Buffer; stderr: string } {
  const r = spawnSync('git', args, { cwd, maxBuffer: 1 << 30 });
  if (r.error) throw new GitTreeError(`git ${args[0]}: ${r.error.message}`);
  return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr.toString().trim() };
}

export interface TreeAtRef {
  /** The old side of each path that existed at the commit (in the temp directory). */
  readonly paths: readonly string[];
  /** The temp directory (empty when no path existed). */
  readonly dir: string;
  readonly commit: string;
  remove(): void;
}

export function pathsAtRef(cwd: string, ref: string, paths: readonly string[]): TreeAtRef {
  const top = git(cwd, ['rev-parse', '--show-toplevel']);
  if (!top.ok) throw new GitTreeError(`--base needs a git checkout: ${top.stderr}`);
  const root = top.stdout.toString().trim();
  const commit = git(cwd, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  if (!commit.ok) throw new GitTreeError(`--base ${ref}: no such commit`);
  const dir = mkdtempSync(join(tmpdir(), 'smi-compile-base-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const old: string[] = [];
    for (const p of paths) {
      const rel = relative(root, resolve(cwd, p));
      if (rel.startsWith('..')) throw new GitTreeError(`${p} is outside the git checkout ${root}`);
      const spec = rel === '' ? '.' : rel.split(sep).join('/');
      const tar = git(root, ['archive', '--format=tar', commit.stdout.toString().trim(), '--', spec]);
      if (!tar.ok) {
        if (/did not match any files/.test(tar.stderr)) continue; // not there at that commit: no old side
        throw new GitTreeError(`git archive ${ref} -- ${spec}: ${tar.stderr}`);
      }
      const x = spawnSync('tar', ['-x', '-C', dir], { input: tar.stdout });
      if (x.status !== 0) throw new GitTreeError(`tar: ${x.error?.message ?? x.stderr.toString().trim()}`);
      old.push(join(dir, rel));
    }
    return { paths: old, dir, commit: commit.stdout.toString().trim(), remove };
  } catch (err) {
    remove();
    throw err;
  }
}
