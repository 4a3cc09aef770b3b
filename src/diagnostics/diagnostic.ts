import type { SourcePosition } from '../shared/position.ts';
import { CATALOGUE, type CatalogueEntry, type KnownEntry, type Level } from './catalogue.ts';
import { compareStrings } from '../shared/compare.ts';

export type { Level } from './catalogue.ts';
export type { SourcePosition } from '../shared/position.ts';

export interface ResourceRef {
  kind: string;
  namespace?: string;
  name: string;
}

type Current = Exclude<KnownEntry, { readonly retired: true }>;

/** The name of a diagnostic the code may report (`yaml-syntax`): how the code refers to one. */
export type DiagnosticName = Current['name'];
/** A diagnostic's stable code (`SMI1001`): what users, suppressions and SARIF see. */
export type DiagnosticCode = KnownEntry['code'];

/** The `{placeholders}` of a message template. */
type Placeholders<S extends string> = S extends `${string}{${infer P}}${infer Rest}` ? P | Placeholders<Rest> : never;

/** The arguments the template of diagnostic `N` takes: each of its placeholders, no other. */
export type DiagnosticArgs<N extends DiagnosticName> = { readonly [K in Placeholders<Extract<Current, { readonly name: N }>['message']>]: string | number };

/** One diagnostic type for parser, passes, lint, compile and serve. */
export interface Diagnostic {
  code: DiagnosticCode;
  level: Level;
  message: string;
  source?: SourcePosition;
  resource?: ResourceRef;
}

type MessageArgs = Record<string, string | number>;

/** Accumulates diagnostics; passes report here instead of throwing. */
export interface Reporter {
  report(d: Diagnostic): void;
}

export class DiagnosticBag implements Reporter {
  readonly items: Diagnostic[] = [];
  report(d: Diagnostic): void {
    this.items.push(d);
  }
  hasErrors(): boolean {
    return this.items.some((d) => d.level === 'error');
  }
}

const BY_CODE = new Map<string, CatalogueEntry>(CATALOGUE.map((e) => [e.code, e]));
const BY_NAME = new Map<string, CatalogueEntry>(CATALOGUE.map((e) => [e.name, e]));

/** The entry of a code or name the user wrote (`--suppress`, comments); throws when there is none. */
export function catalogueEntry(codeOrName: string): CatalogueEntry {
  const entry = BY_CODE.get(codeOrName) ?? BY_NAME.get(codeOrName);
  if (!entry) throw new Error(`diagnostic ${codeOrName} is not in the catalogue`);
  return entry;
}

/** Fills `{placeholders}` of a catalogue template; a missing argument stays visible as `{name}`. */
function renderTemplate(template: string, args: MessageArgs): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) =>
    Object.prototype.hasOwnProperty.call(args, key) ? String(args[key]) : whole,
  );
}

/**
 * Builds the diagnostic `name` (`yaml-syntax`) from the catalogue, its template filled with
 * `args`. The level is the catalogue's default; callers never pick levels ad hoc.
 */
export function diagnostic<N extends DiagnosticName>(
  name: N,
  args: DiagnosticArgs<N>,
  source?: SourcePosition,
  resource?: ResourceRef,
): Diagnostic {
  const entry = BY_NAME.get(name);
  if (!entry) throw new Error(`diagnostic ${name} is not in the catalogue`);
  const d: Diagnostic = { code: entry.code as DiagnosticCode, level: entry.level, message: renderTemplate(entry.message, args) };
  if (source) d.source = source;
  if (resource) d.resource = resource;
  return d;
}

const LEVEL_RANK: Record<Level, number> = { info: 0, warning: 1, error: 2 };

export function atLeast(level: Level, threshold: Level): boolean {
  return LEVEL_RANK[level] >= LEVEL_RANK[threshold];
}

/** Stable order: file, line, column, code, message; diagnostics without a source last. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    compareStrings(a.source?.file ?? '\uffff', b.source?.file ?? '\uffff') ||
    (a.source?.line ?? 0) - (b.source?.line ?? 0) ||
    (a.source?.column ?? 0) - (b.source?.column ?? 0) ||
    compareStrings(a.code, b.code) ||
    compareStrings(a.message, b.message)
  );
}

/** `file:line:col: level CODE message`, the format compilers and editors understand. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = !d.source ? '' : d.source.field !== undefined ? `${d.source.file}${d.source.field ? ` ${d.source.field}` : ''}: ` : `${d.source.file}:${d.source.line}:${d.source.column}: `;
  return `${where}${d.level} ${d.code} ${d.message}`;
}
