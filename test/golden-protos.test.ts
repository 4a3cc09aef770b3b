/** Every resource in every golden file decodes under the real Envoy protos and re-encodes to the same bytes. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { envoyType, encodeProtoJson, protojson } from '../src/envoy/protos.ts';

const BOOTSTRAP = 'type.googleapis.com/envoy.config.bootstrap.v3.Bootstrap';

function goldenFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) goldenFiles(p, out);
    else if (p.endsWith('.yaml')) out.push(p);
  }
  return out;
}

function roundTrip(typeUrl: string, json: unknown, where: string): void {
  let bytes: Uint8Array;
  try {
    bytes = encodeProtoJson(typeUrl, json);
  } catch (err) {
    assert.unreachable(`${where}: does not encode as ${typeUrl}: ${(err as Error).message}`);
    return;
  }
  const type = envoyType(typeUrl);
  const decoded = type.decode(bytes);
  const again = type.encode(protojson.fromJson(type, protojson.toJson(type, decoded) as object)).finish();
  assert.equal(Buffer.from(again).toString('hex'), Buffer.from(bytes).toString('hex'), `${where}: re-encodes to the same bytes`);
}

test('every golden resource round-trips through the Envoy protos', () => {
  const files = goldenFiles('golden');
  assert.ok(files.length > 0, 'goldens exist');
  let resources = 0;
  for (const file of files) {
    const doc = parse(readFileSync(file, 'utf8'));
    if (/\/bootstrap(-static)?\.yaml$/.test(file)) {
      roundTrip(BOOTSTRAP, doc, file);
      resources++;
      continue;
    }
    assert.ok(Array.isArray(doc), `${file} is a list`);
    for (const [i, resource] of (doc as Record<string, unknown>[]).entries()) {
      assert.type(resource['@type'], 'string', `${file}[${i}] has @type`);
      roundTrip(resource['@type'] as string, resource, `${file}[${i}]`);
      resources++;
    }
  }
  assert.ok(resources > 50, `checked ${resources} resources`);
});

test.run();
