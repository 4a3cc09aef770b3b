import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateSchemas, SCHEMAS_DIR } from '../../schemas/generate.ts';
import { generateValidatorsModule, VALIDATORS_FILE } from '../../schemas/generate-validators.ts';
import { KNOWN_KINDS, apiVersionOf, lookupKind } from './kinds.ts';
import { validateAgainstSchema } from './schema.ts';

function jsonFilesUnder(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) jsonFilesUnder(path, out);
    else if (name.endsWith('.json')) out.push(relative(SCHEMAS_DIR, path));
  }
  return out;
}

test('committed schemas are what schemas/generate.ts writes (run it after changing a CRD or a source)', () => {
  const generated = generateSchemas();
  assert.equal(jsonFilesUnder(SCHEMAS_DIR), [...generated.keys()].sort());
  for (const [rel, text] of generated) {
    assert.is(readFileSync(join(SCHEMAS_DIR, rel), 'utf8'), text, `schemas/${rel} is stale`);
  }
});

test('committed validators are the committed schemas compiled (run schemas/generate.ts after changing a schema)', () => {
  const committed = new Map(jsonFilesUnder(SCHEMAS_DIR).map((rel) => [rel, readFileSync(join(SCHEMAS_DIR, rel), 'utf8')]));
  assert.is(readFileSync(join(SCHEMAS_DIR, VALIDATORS_FILE), 'utf8'), generateValidatorsModule(committed), `schemas/${VALIDATORS_FILE} is stale`);
});

test('every known kind has a schema that compiles and accepts a minimal object', () => {
  const at = { value: () => ({ file: 'x', line: 1, column: 1 }), key: () => ({ file: 'x', line: 1, column: 1 }) };
  for (const k of KNOWN_KINDS) {
    const problems = validateAgainstSchema(k, { apiVersion: apiVersionOf(k), kind: k.kind, metadata: { name: 'x' } }, at, { kind: k.kind, name: 'x' });
    // Some kinds require a spec; what matters is that the schema compiled and answered.
    assert.ok(problems.every((d) => d.code === 'SMI1004'), `${apiVersionOf(k)} ${k.kind}: ${problems.map((d) => d.message)}`);
  }
});

test('kind lookup: known, unsupported version in a related group, unknown', () => {
  assert.is(lookupKind('split.smi-spec.io/v1alpha4', 'TrafficSplit').status, 'known');
  assert.is(lookupKind('split.smi-spec.io/v1alpha5', 'TrafficSplit').status, 'unsupported-version');
  assert.is(lookupKind('apps/v1beta2', 'Deployment').status, 'unsupported-version');
  assert.is(lookupKind('serving.knative.dev/v1', 'Service').status, 'unknown');
  assert.is(lookupKind('v1', 'ConfigMap').status, 'unknown');
});

test.run();
