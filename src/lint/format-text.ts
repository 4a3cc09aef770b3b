/**
 * `file:line:col: level CODE message`, one per line, then a summary line: the format that
 * compilers use, so editors, terminals and `grep` turn each line into a jump target.
 */
import { formatDiagnostic, type Diagnostic, type Level } from '../diagnostics/diagnostic.ts';
import { summaryLine, type Summary } from './summary.ts';

export interface ColorOptions {
  /** The stream the text will be written to; colour only when it is a terminal. */
  stream?: { isTTY?: boolean };
  /** Defaults to `process.env`; `NO_COLOR` (any non-empty value) turns colour off. */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Colour only on a terminal, and never when the user opted out: https://no-color.org says a
 * non-empty `NO_COLOR` disables colour; `TERM=dumb` terminals cannot show escape codes.
 */
export function useColor({ stream, env = process.env }: ColorOptions): boolean {
  if (!stream?.isTTY) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return env.TERM !== 'dumb';
}

const SGR: Record<Level | 'dim' | 'bold', string> = {
  error: '\x1b[31m',
  warning: '\x1b[33m',
  info: '\x1b[36m',
  dim: '\x1b[2m',
  bold: '\x1b[1m',
};
const RESET = '\x1b[0m';

function paint(on: boolean, style: keyof typeof SGR, text: string): string {
  return on ? `${SGR[style]}${text}${RESET}` : text;
}

function line(d: Diagnostic, color: boolean): string {
  if (!color) return formatDiagnostic(d);
  const where = d.source ? `${paint(true, 'bold', `${d.source.file}:${d.source.line}:${d.source.column}`)}: ` : '';
  return `${where}${paint(true, d.level, d.level)} ${paint(true, 'dim', d.code)} ${d.message}`;
}

/** Diagnostics must already be filtered and sorted; the text ends with a newline. */
export function formatText(diagnostics: readonly Diagnostic[], summary: Summary, options: ColorOptions = {}): string {
  const color = useColor(options);
  const lines = diagnostics.map((d) => line(d, color));
  lines.push(summaryLine(summary));
  return lines.join('\n') + '\n';
}
