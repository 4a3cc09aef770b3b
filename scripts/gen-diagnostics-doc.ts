#!/usr/bin/env -S node --import tsx
/**
 * Writes docs/diagnostics.md from the diagnostics catalogue.
 *
 *   node --import tsx scripts/gen-diagnostics-doc.ts          # rewrite the file
 *   node --import tsx scripts/gen-diagnostics-doc.ts --check  # exit 1 if it is stale
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIAGNOSTICS_DOC_PATH, REGENERATE_COMMAND, renderDiagnosticsDoc } from '../src/lint/diagnostics-doc.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, DIAGNOSTICS_DOC_PATH);
const wanted = renderDiagnosticsDoc();

let current: string | undefined;
try {
  current = readFileSync(target, 'utf8');
} catch {
  current = undefined;
}

if (process.argv.includes('--check')) {
  if (current !== wanted) {
    console.error(`${DIAGNOSTICS_DOC_PATH} is stale; run: ${REGENERATE_COMMAND}`);
    process.exit(1);
  }
  console.log(`${DIAGNOSTICS_DOC_PATH} is up to date`);
} else if (current === wanted) {
  console.log(`${DIAGNOSTICS_DOC_PATH} is up to date`);
} else {
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, wanted);
  console.log(`wrote ${DIAGNOSTICS_DOC_PATH}`);
}
