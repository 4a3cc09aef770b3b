import type { Diagnostic, Level } from '../diagnostics/diagnostic.ts';

export interface Summary {
  error: number;
  warning: number;
  info: number;
  /** Diagnostics dropped by `--suppress` or a `smi-compile.io/suppress` annotation. */
  suppressed: number;
}

export function summarize(diagnostics: readonly Diagnostic[], suppressed: number): Summary {
  const s: Summary = { error: 0, warning: 0, info: 0, suppressed };
  for (const d of diagnostics) s[d.level satisfies Level]++;
  return s;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `3 problems (2 errors, 1 warning, 0 info), 1 suppressed`, or `no problems`. */
export function summaryLine(s: Summary): string {
  const total = s.error + s.warning + s.info;
  const head =
    total === 0
      ? 'no problems'
      : `${plural(total, 'problem')} (${plural(s.error, 'error')}, ${plural(s.warning, 'warning')}, ${s.info} info)`;
  return s.suppressed > 0 ? `${head}, ${s.suppressed} suppressed` : head;
}
