/**
 * SARIF 2.1.0 for GitHub code scanning (`github/codeql-action/upload-sarif`): findings show
 * up as code-scanning alerts on the lines they point at, with the catalogue's explanation as
 * the rule's help. The log is deterministic (sorted input, no timestamps, no absolute paths
 * of the machine that ran it), so it can be diffed and cached.
 */
import type * as Sarif from 'sarif';
import type { Diagnostic, Level } from '../diagnostics/diagnostic.ts';
import { CATALOGUE, type CatalogueEntry } from '../diagnostics/catalogue.ts';
import pkg from '../../package.json' with { type: 'json' };
import { diagnosticsDocAnchor } from './diagnostics-doc.ts';
import { isPseudoFile, relativePath } from './paths.ts';
import { byKey } from '../shared/compare.ts';

const SARIF_SCHEMA_URI = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

/** SARIF calls our `info` a `note`. */
const SARIF_LEVEL: Record<Level, Sarif.Result.level> = { error: 'error', warning: 'warning', info: 'note' };

export interface SarifOptions {
  /** Paths in the log are made relative to this (the repository root in CI). */
  cwd?: string;
  /**
   * Absolute URL of docs/diagnostics.md as users can browse it; `helpUri` is this plus
   * `#<code>`. SARIF requires an absolute URI there, so without a known URL (neither this
   * option nor package.json `repository`) rules carry `help` text but no `helpUri`.
   */
  docsUri?: string;
}

/** `git+https://github.com/o/r.git` → `https://github.com/o/r/blob/main/docs/diagnostics.md`. */
export function docsUriFromRepository(repository: unknown): string | undefined {
  const raw = typeof repository === 'string' ? repository : (repository as { url?: unknown } | undefined)?.url;
  if (typeof raw !== 'string') return undefined;
  const m = /^(?:git\+)?(https:\/\/github\.com\/[^/]+\/[^/]+?)(?:\.git)?\/?$/.exec(raw) ?? /^github:([^/]+\/[^/]+)$/.exec(raw);
  if (!m) return undefined;
  const base = m[1]!.startsWith('https://') ? m[1] : `https://github.com/${m[1]}`;
  return `${base}/blob/main/docs/diagnostics.md`;
}

const DEFAULT_DOCS_URI = docsUriFromRepository((pkg as { repository?: unknown }).repository);

/** `route-shadowed` → `Route shadowed`: a short title for the rule list. */
function title(name: string): string {
  const words = name.replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function rule(entry: CatalogueEntry, docsUri: string | undefined): Sarif.ReportingDescriptor {
  const helpUri = docsUri ? `${docsUri}#${diagnosticsDocAnchor(entry.code)}` : undefined;
  const r: Sarif.ReportingDescriptor = {
    id: entry.code,
    name: entry.name,
    shortDescription: { text: title(entry.name) },
    fullDescription: { text: entry.explanation },
    help: {
      text: entry.explanation,
      markdown: `${entry.explanation}\n\nMessage: \`${entry.message}\`${helpUri ? `\n\n[${entry.code} in the diagnostics reference](${helpUri})` : ''}`,
    },
    defaultConfiguration: { level: SARIF_LEVEL[entry.level] },
    properties: { tags: ['smi', 'service-mesh'] },
  };
  if (helpUri) r.helpUri = helpUri;
  return r;
}

/** A relative path becomes a URI reference (each segment percent-encoded: `#`, `?`, spaces). */
export function artifactUri(file: string, cwd: string): string {
  const path = relativePath(file, cwd);
  const encoded = path.split('/').map(encodeURIComponent).join('/');
  return path.startsWith('/') ? `file://${encoded}` : encoded;
}

function location(d: Diagnostic, cwd: string): Sarif.Location | undefined {
  const loc: Sarif.Location = {};
  if (d.source && !isPseudoFile(d.source.file)) {
    loc.physicalLocation = {
      artifactLocation: { uri: artifactUri(d.source.file, cwd) },
      region: { startLine: d.source.line, startColumn: d.source.column },
    };
  }
  if (d.resource) {
    const { kind, namespace, name } = d.resource;
    loc.logicalLocations = [{ fullyQualifiedName: namespace ? `${kind}/${namespace}/${name}` : `${kind}/${name}`, kind: 'resource' }];
  }
  return loc.physicalLocation || loc.logicalLocations ? loc : undefined;
}

/** Diagnostics must already be filtered and sorted; `cwd` defaults to the process's. */
export function buildSarif(diagnostics: readonly Diagnostic[], options: SarifOptions = {}): Sarif.Log {
  const cwd = options.cwd ?? process.cwd();
  const docsUri = options.docsUri ?? DEFAULT_DOCS_URI;
  // Every live catalogue entry is a rule, in code order, so rule indexes are stable across runs.
  const entries = CATALOGUE.filter((e) => !e.retired).slice().sort(byKey((e) => e.code));
  const index = new Map(entries.map((e, i) => [e.code, i]));
  const results = diagnostics.map((d): Sarif.Result => {
    const r: Sarif.Result = { ruleId: d.code, level: SARIF_LEVEL[d.level], message: { text: d.message } };
    const i = index.get(d.code);
    if (i !== undefined) r.ruleIndex = i;
    const loc = location(d, cwd);
    if (loc) r.locations = [loc];
    return r;
  });
  const driver: Sarif.ToolComponent = {
    name: 'smi-compile',
    version: pkg.version,
    semanticVersion: pkg.version,
    rules: entries.map((e) => rule(e, docsUri)),
  };
  if (docsUri) driver.informationUri = docsUri;
  return {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    // Columns come from JavaScript string offsets, i.e. UTF-16 code units; say so.
    runs: [{ tool: { driver }, columnKind: 'utf16CodeUnits', results }],
  };
}

export function formatSarif(diagnostics: readonly Diagnostic[], options: SarifOptions = {}): string {
  return JSON.stringify(buildSarif(diagnostics, options), null, 2) + '\n';
}
