import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { generateMesh } from './generate-mesh.ts';

type Doc = { kind: string; apiVersion: string; metadata: { name: string; namespace?: string }; spec?: any; [k: string]: any };

function docs(files: { text: string }[]): Doc[] {
  return files.flatMap((f) => parseAllDocuments(f.text).map((d) => {
    assert.equal(d.errors.length, 0);
    return d.toJS() as Doc;
  }));
}

function count(ds: Doc[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of ds) out[d.kind] = (out[d.kind] ?? 0) + 1;
  return out;
}

test('same arguments give the same bytes; another seed does not', () => {
  const a = generateMesh({ services: 40, permissive: false });
  const b = generateMesh({ services: 40, permissive: false });
  assert.equal(a, b);
  const c = generateMesh({ services: 40, permissive: false, seed: 2 });
  assert.not.equal(a.files.map((f) => f.text).join(''), c.files.map((f) => f.text).join(''));
});

test('counts: one file per namespace, canaries every tenth service, callers per target', () => {
  const mesh = generateMesh({ services: 40, permissive: false }); // 2 namespaces, 4 canaries
  assert.equal(mesh.files.length, 2);
  const ds = docs(mesh.files);
  const n = count(ds);
  assert.equal(n.Namespace, 2);
  assert.equal(n.ServiceAccount, 40);
  assert.equal(n.Service, 40 + 4 * 2);
  assert.equal(n.Deployment, 36 + 4 * 2);
  assert.equal(n.EndpointSlice, 40 + 4 * 2);
  assert.equal((n.HTTPRouteGroup ?? 0) + (n.TCPRoute ?? 0), 40);
  assert.equal(n.TrafficTarget, 40);
  assert.equal(n.TrafficSplit, 4);
  assert.equal(n.MeshConfig, undefined);
  for (const t of ds.filter((d) => d.kind === 'TrafficTarget')) {
    assert.equal(t.spec.sources.length, 3);
    assert.ok(t.spec.sources.every((s: any) => s.name !== t.spec.destination.name));
  }
  const ips = ds.filter((d) => d.kind === 'Service').map((d) => d.spec.clusterIP);
  assert.equal(new Set(ips).size, ips.length);
  assert.ok(ips.every((ip: string) => /^10\.(9[6-9]|10\d|11[01])\./.test(ip)));

  const permissive = docs(generateMesh({ services: 40, permissive: true, callersPerService: 1 }).files);
  const mc = permissive.filter((d) => d.kind === 'MeshConfig');
  assert.equal(mc.length, 1);
  assert.equal(mc[0].spec.traffic.enablePermissiveTrafficPolicyMode, true);
  assert.ok(permissive.filter((d) => d.kind === 'TrafficTarget').every((t) => t.spec.sources.length === 1));
});

// The SMI and OSM CRDs in the shared corpus, when present: every SMI/OSM document validates.
const CORPUS = join(fileURLToPath(new URL('.', import.meta.url)), '../../shared/corpus');
test('SMI and MeshConfig documents validate against the corpus CRDs', () => {
  const crdFiles = ['smi-crds/access.yaml', 'smi-crds/httproutegroup.yaml', 'smi-crds/split.yaml', 'smi-crds/tcproute.yaml', 'osm-crds/config_meshconfig.yaml'];
  if (!crdFiles.every((f) => existsSync(join(CORPUS, f)))) return;
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validators = new Map<string, ReturnType<Ajv['compile']>>();
  for (const f of crdFiles) {
    for (const crd of parseAllDocuments(readFileSync(join(CORPUS, f), 'utf8')).map((d) => d.toJS())) {
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      for (const v of crd.spec.versions) {
        validators.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, ajv.compile(v.schema.openAPIV3Schema));
      }
    }
  }
  const ds = docs(generateMesh({ services: 40, permissive: true }).files);
  let checked = 0;
  for (const d of ds) {
    const validate = validators.get(`${d.apiVersion}/${d.kind}`);
    if (!validate) continue;
    assert.ok(validate(d), `${d.kind} ${d.metadata.name}: ${ajv.errorsText(validate.errors)}`);
    checked++;
  }
  assert.ok(checked >= 40 * 2 + 4 + 1);
});

test.run();
