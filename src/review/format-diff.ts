/**
 * `diff`'s outputs: Markdown for a pull-request comment, JSON for scripts, and GitHub workflow
 * commands that annotate the policy line behind each change.
 */
import { escapeData, escapeProperty } from '../lint/format-github.ts';
import { isPseudoFile, relativePath } from '../lint/paths.ts';
import type { AccessChange, MeshDiff, SplitChange } from './diff.ts';

export type DiffFormat = 'markdown' | 'json' | 'github';

export function isEmpty(d: MeshDiff): boolean {
  return d.access.length === 0 && d.splits.length === 0 && d.proxies.length === 0;
}

function at(c: { source?: { file: string; line: number } }, cwd: string): string {
  return c.source ? ` (${relativePath(c.source.file, cwd)}:${c.source.line})` : '';
}

/** Regexes are full of `*` and `_`: escaped, a statement reads the same in the rendered comment. */
function escapeMarkdown(s: string): string {
  return s.replace(/[\\`*_{}[\]<>|#]/g, (c) => `\\${c}`);
}

export function formatMarkdown(d: MeshDiff, cwd: string): string {
  if (isEmpty(d)) return '### smi-compile diff\n\nNo change in access, splits or Envoy configuration.\n';
  const lines = ['### smi-compile diff', ''];
  const added = d.access.filter((c) => c.change === 'added');
  const removed = d.access.filter((c) => c.change === 'removed');
  if (d.access.length > 0) {
    lines.push(`**Access** (${added.length} added, ${removed.length} removed)`, '');
    for (const c of [...added, ...removed]) lines.push(`- ${escapeMarkdown(c.text)}${at(c, cwd)}`);
    lines.push('');
  }
  if (d.splits.length > 0) {
    lines.push('**Traffic splits**', '');
    for (const c of d.splits) lines.push(`- ${escapeMarkdown(c.text)}${at(c, cwd)}`);
    lines.push('');
  }
  if (d.proxies.length > 0) {
    lines.push('**Envoy configuration**', '');
    for (const c of d.proxies) lines.push(`- ${c.text}: ${[...c.added.map((r) => `+${r}`), ...c.removed.map((r) => `-${r}`), ...c.changed.map((r) => `~${r}`)].map((r) => `\`${r}\``).join(', ')}`);
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

/** One workflow command, at the policy line when the new manifests still have it; `file=` relative to `cwd` (the repository root in a job). */
function annotation(level: 'notice' | 'warning', c: AccessChange | SplitChange | { text: string; source?: undefined }, cwd: string): string {
  const props = c.source && !isPseudoFile(c.source.file) ? `file=${escapeProperty(relativePath(c.source.file, cwd))},line=${c.source.line},col=${c.source.column},` : '';
  return `::${level} ${props}title=${escapeProperty('smi-compile diff')}::${escapeData(c.text)}\n`;
}

export function formatGithub(d: MeshDiff, cwd: string): string {
  return [
    ...d.access.map((c) => annotation(c.change === 'added' ? 'warning' : 'notice', c, cwd)),
    ...d.splits.map((c) => annotation('notice', c, cwd)),
    ...d.proxies.map((c) => annotation('notice', { text: c.text }, cwd)),
  ].join('');
}

export function formatDiff(d: MeshDiff, format: DiffFormat, cwd: string): string {
  if (format === 'json') return `${JSON.stringify(d, null, 2)}\n`;
  if (format === 'github') return formatGithub(d, cwd);
  return formatMarkdown(d, cwd);
}
