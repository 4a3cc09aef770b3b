/**
 * Renders docs/diagnostics.md from the catalogue. The document is generated, never edited
 * by hand, so the reference users read and the codes the tool prints cannot drift apart;
 * `diagnostics-doc.test.ts` fails when the checked-in file is stale.
 */
import { CATALOGUE, type CatalogueEntry } from '../diagnostics/catalogue.ts';
import { byKey } from '../shared/compare.ts';

export const DIAGNOSTICS_DOC_PATH = 'docs/diagnostics.md';
export const REGENERATE_COMMAND = 'node --import tsx scripts/gen-diagnostics-doc.ts';

/** The anchor of a code's section (`SMI3009` → `smi3009`); SARIF `helpUri`s link to it. */
export function diagnosticsDocAnchor(code: string): string {
  return code.toLowerCase();
}

const RANGES: readonly { prefix: string; title: string }[] = [
  { prefix: 'SMI1', title: 'SMI1xxx: reading input' },
  { prefix: 'SMI2', title: 'SMI2xxx: references' },
  { prefix: 'SMI3', title: 'SMI3xxx: semantics' },
  { prefix: 'SMI4', title: 'SMI4xxx: output tree' },
  { prefix: 'SMI5', title: 'SMI5xxx: xDS server' },
  { prefix: 'SMI6', title: 'SMI6xxx: certificates and mTLS' },
  { prefix: 'SMI7', title: "SMI7xxx: Envoy's own verdict" },
  { prefix: 'SMI8', title: 'SMI8xxx: Kubernetes source and injection' },
  { prefix: 'SMI9', title: 'SMI9xxx: internal errors' },
];

/** Inside a table cell a `|` would end the cell and a newline the row. */
function cell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function section(e: CatalogueEntry): string {
  const lines = [
    `<a id="${diagnosticsDocAnchor(e.code)}"></a>`,
    `### ${e.code} ${e.name}`,
    '',
    `- **Level:** ${e.level}${e.retired ? ' (retired: no longer reported)' : ''}`,
    // A fenced span would break on a backtick in the template; templates have none, but be safe.
    `- **Message:** \`\` ${e.message} \`\``,
    '',
    e.explanation,
    '',
    `Suppress with \`--suppress ${e.code}\`, \`--suppress ${e.code}=Kind/namespace/name\`, or the annotation \`smi-compile.io/suppress: ${e.code}\` on the resource.`,
    '',
  ];
  return lines.join('\n');
}

export function renderDiagnosticsDoc(catalogue: readonly CatalogueEntry[] = CATALOGUE): string {
  const entries = [...catalogue].sort(byKey((e) => e.code));
  const out: string[] = [
    '# Diagnostics reference',
    '',
    `<!-- Generated from src/diagnostics/catalogue.ts by \`${REGENERATE_COMMAND}\`. Do not edit by hand. -->`,
    '',
    'Every problem `smi-compile` reports has a stable code, a default level and a message. ' +
      'Codes are never reused or renumbered. `smi-compile lint --fail-on error|warning|info` sets which levels fail the run (exit 1); ' +
      'errors also stop `smi-compile compile`.',
    '',
    '| Code | Name | Level | Message |',
    '|---|---|---|---|',
    ...entries.map((e) => `| [${e.code}](#${diagnosticsDocAnchor(e.code)}) | ${cell(e.name)} | ${e.level}${e.retired ? ' (retired)' : ''} | ${cell(e.message)} |`),
    '',
  ];
  for (const range of RANGES) {
    const inRange = entries.filter((e) => e.code.startsWith(range.prefix));
    if (inRange.length === 0) continue;
    out.push(`## ${range.title}`, '', ...inRange.map(section));
  }
  const unranged = entries.filter((e) => !RANGES.some((r) => e.code.startsWith(r.prefix)));
  if (unranged.length > 0) out.push('## Other', '', ...unranged.map(section));
  return out.join('\n').replace(/\n+$/, '\n');
}
