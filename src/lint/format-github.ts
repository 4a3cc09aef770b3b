/**
 * GitHub Actions workflow commands (`::error file=…,line=…,col=…,title=CODE::message`):
 * printed to a job's log, each becomes an annotation on the pull request's diff, with no
 * upload step and no permissions. Escaping follows @actions/core (toolkit `command.ts`):
 * the runner splits on `::` and `,`, and ends a command at a newline.
 */
import type { Diagnostic, Level } from '../diagnostics/diagnostic.ts';
import { isPseudoFile, relativePath } from './paths.ts';
import { summaryLine, type Summary } from './summary.ts';

/** GitHub has `notice` where we have `info`. */
const COMMAND: Record<Level, string> = { error: 'error', warning: 'warning', info: 'notice' };

/** The message part: `%`, CR and LF would otherwise end or corrupt the command. */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A property value: additionally `:` and `,`, which separate the properties themselves. */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function githubCommand(d: Diagnostic, cwd: string): string {
  const props: string[] = [];
  if (d.source && !isPseudoFile(d.source.file)) {
    props.push(`file=${escapeProperty(relativePath(d.source.file, cwd))}`);
    props.push(`line=${d.source.line}`, `col=${d.source.column}`);
  }
  props.push(`title=${escapeProperty(d.code)}`);
  return `::${COMMAND[d.level]} ${props.join(',')}::${escapeData(d.message)}`;
}

/**
 * One command per diagnostic, then the summary as a plain log line. `cwd` should be the
 * repository root (the job's working directory), which GitHub resolves `file=` against.
 */
export function formatGithub(diagnostics: readonly Diagnostic[], summary: Summary, cwd: string = process.cwd()): string {
  return [...diagnostics.map((d) => githubCommand(d, cwd)), summaryLine(summary)].join('\n') + '\n';
}
