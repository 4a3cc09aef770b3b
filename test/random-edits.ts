/**
 * Random, seeded edits of a generated mesh on disk, one file rewritten per edit, the way an
 * operator's changes arrive under `serve --watch`. Shared by the tests that hold incremental
 * recompiles to fresh ones (src/compiler/compile-memo.test.ts, test/incremental-snapshot.test.ts).
 *
 * With `valid`, only edits that keep the generated mesh free of errors are drawn (so snapshots
 * get built); without it, anything goes, errors included, since a memo must match a fresh
 * compile on broken input too.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jsyaml from 'js-yaml';
import { prng } from '../bench/generate-mesh.ts';

type Doc = Record<string, any>;

const MESH_CONFIG = 'osm-mesh-config.yaml';
const PERMISSIVE =
  'apiVersion: config.openservicemesh.io/v1alpha2\nkind: MeshConfig\nmetadata:\n  name: osm-mesh-config\n  namespace: osm-system\nspec:\n  traffic:\n    enablePermissiveTrafficPolicyMode: true\n';

export interface RandomEditor {
  /** Makes one edit; says what and where. */
  edit(): string;
}

export function randomEditor(dir: string, seed: number, { valid = false } = {}): RandomEditor {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const files = () => readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== MESH_CONFIG).sort().map((f) => join(dir, f));
  const docsOf = (file: string) => (jsyaml.loadAll(readFileSync(file, 'utf8')) as Doc[]).filter(Boolean);
  const accounts = files().flatMap((f) => docsOf(f).filter((d) => d.kind === 'ServiceAccount').map((d) => ({ name: d.metadata.name, namespace: d.metadata.namespace })));
  const some = (docs: Doc[], kind: string, p: number, change: (d: Doc) => unknown) => {
    for (const d of docs) if (d.kind === kind && rand() < p) change(d);
    return docs;
  };
  const keepValid: [string, (docs: Doc[]) => Doc[]][] = [
    ['a source added', (docs) => some(docs, 'TrafficTarget', 0.3, (t) => t.spec.sources.push({ kind: 'ServiceAccount', ...pick(accounts) }))],
    ['a source dropped', (docs) => some(docs, 'TrafficTarget', 0.3, (t) => t.spec.sources.length > 1 && t.spec.sources.pop())],
    ['a split reweighted', (docs) => some(docs, 'TrafficSplit', 1, (t) => (t.spec.backends[0].weight = 1 + Math.floor(rand() * 99)))],
    ['an endpoint moved', (docs) => some(docs, 'EndpointSlice', 0.3, (e) => (e.endpoints[0].addresses = [`10.99.${Math.floor(rand() * 255)}.${Math.floor(rand() * 255)}`]))],
    ['lines moved', (docs) => [...docs].reverse()],
  ];
  const anything: [string, (docs: Doc[]) => Doc[]][] = [
    ...keepValid,
    ['a document removed', (docs) => docs.filter(() => rand() > 0.05)],
    ['a document duplicated', (docs) => (docs.length ? [...docs, structuredClone(pick(docs))] : docs)],
    ['a port changed', (docs) => some(docs, 'Service', 0.2, (svc) => (svc.spec.ports[0].port += 1))],
    ['a workload changed identity', (docs) => some(docs, 'Deployment', 0.2, (w) => (w.spec.template.spec.serviceAccountName = pick(accounts).name))],
    ['a selector changed', (docs) => some(docs, 'Service', 0.2, (svc) => svc.spec.selector && (svc.spec.selector = { app: pick(accounts).name }))],
    ['a resource moved namespace', (docs) => (docs.length > 0 && (pick(docs).metadata.namespace = pick(accounts).namespace), docs)],
    ['a route group changed', (docs) => some(docs, 'HTTPRouteGroup', 0.3, (g) => (g.spec.matches[0].pathRegex = pick(['/x/.*', '/y', '(', '/z/[^/]+'])))],
  ];
  const edits = valid ? keepValid : anything;
  return {
    edit() {
      const [what, change] = pick(edits);
      const file = pick(files());
      const docs = change(docsOf(file));
      writeFileSync(file, docs.map((d) => jsyaml.dump(d, { lineWidth: -1 })).join('---\n') || '# emptied\n');
      // Now and then the mesh-wide mode flips, or (anything goes) the MeshConfig breaks.
      if (rand() < 0.03) writeFileSync(join(dir, MESH_CONFIG), !valid && rand() < 0.5 ? 'kind: [\n' : PERMISSIVE);
      if (rand() < 0.03) rmSync(join(dir, MESH_CONFIG), { force: true });
      return `${what} in ${file}`;
    },
  };
}
