/**
 * The lint report: what `smi-compile lint` prints and the exit code it returns, given the
 * diagnostics a compile produced. The CLI parses flags and writes `text`; everything that
 * decides what users see (suppressions, order, format, threshold) lives here, so it is
 * tested without spawning processes.
 */
import { compareDiagnostics, type Diagnostic, type Level } from '../diagnostics/diagnostic.ts';
import { formatGithub } from './format-github.ts';
import { formatJson } from './format-json.ts';
import { formatSarif } from './format-sarif.ts';
import { formatText } from './format-text.ts';
import { summarize, type Summary } from './summary.ts';
import { applySuppressions, parseSuppressRule, type AnnotationLookup, type SuppressRule } from './suppress.ts';
import { DEFAULT_FAIL_ON, exitCodeFor } from './threshold.ts';

export type LintFormat = 'text' | 'json' | 'sarif' | 'github';
export interface LintReportOptions {
  /** `--output`; default `text`. */
  format?: LintFormat;
  /** `--fail-on`; default `error`. */
  failOn?: Level;
  /** `--suppress` values as typed (`CODE` or `CODE=Kind/ns/name`), or already parsed rules. */
  suppress?: readonly (string | SuppressRule)[];
  /** The annotations of the resource a diagnostic is about, for `smi-compile.io/suppress`. */
  annotationsOf?: AnnotationLookup;
  /** Where `text` will be written; the text format is coloured only when it is a TTY. */
  stream?: { isTTY?: boolean };
  /** Defaults to `process.env` (`NO_COLOR`, `TERM`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Paths in SARIF and GitHub output are relative to this; default `process.cwd()`. */
  cwd?: string;
  /** Absolute URL of docs/diagnostics.md for SARIF `helpUri`; see format-sarif.ts. */
  docsUri?: string;
}

export interface LintReport {
  text: string;
  /** 1 when a reported (unsuppressed) diagnostic is at or above `failOn`, else 0. */
  exitCode: 0 | 1;
  /** The diagnostics that were reported, sorted, and the counts; for callers that want them. */
  diagnostics: Diagnostic[];
  summary: Summary;
}

/** The same finding reported twice (e.g. by two passes) is shown once. */
function dedupe(sorted: readonly Diagnostic[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  let last: Diagnostic | undefined;
  for (const d of sorted) {
    if (last && compareDiagnostics(last, d) === 0 && last.level === d.level && sameResource(last, d)) continue;
    out.push(d);
    last = d;
  }
  return out;
}

function sameResource(a: Diagnostic, b: Diagnostic): boolean {
  const x = a.resource;
  const y = b.resource;
  return x === y || (!!x && !!y && x.kind === y.kind && x.namespace === y.namespace && x.name === y.name);
}

/**
 * Throws `SuppressSpecError` for a malformed `--suppress` value; the CLI should map it to a
 * usage error (exit 2), or validate first with `parseSuppressRule`.
 */
export function lintReport(diagnostics: readonly Diagnostic[], options: LintReportOptions = {}): LintReport {
  const format = options.format ?? 'text';
  const rules = (options.suppress ?? []).map((s) => (typeof s === 'string' ? parseSuppressRule(s) : s));
  const { kept, suppressed } = applySuppressions(diagnostics, { rules, annotationsOf: options.annotationsOf });
  const reported = dedupe([...kept].sort(compareDiagnostics));
  const summary = summarize(reported, suppressed.length);
  const cwd = options.cwd ?? process.cwd();
  let text: string;
  switch (format) {
    case 'text':
      text = formatText(reported, summary, { stream: options.stream, env: options.env });
      break;
    case 'json':
      text = formatJson(reported, summary);
      break;
    case 'sarif':
      text = formatSarif(reported, { cwd, docsUri: options.docsUri });
      break;
    case 'github':
      text = formatGithub(reported, summary, cwd);
      break;
    default:
      throw new RangeError(`unknown lint output format ${JSON.stringify(format satisfies never)}`);
  }
  return { text, exitCode: exitCodeFor(reported, options.failOn ?? DEFAULT_FAIL_ON), diagnostics: reported, summary };
}
