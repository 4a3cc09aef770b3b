import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsyaml from 'js-yaml';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateMesh, writeMesh } from '../../bench/generate-mesh.ts';
import { randomEditor } from '../../test/random-edits.ts';
import { compilePaths } from './compile.ts';
import { CompileMemo } from './compile-memo.ts';
import { positionOf } from '../parser/origin.ts';

const options = { protoCheck: false, stableObjects: true } as const;
const signature = (r: ReturnType<typeof compilePaths>): string => JSON.stringify([r.proxies, r.diagnostics, r.ok]);

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'smi-compile-memo-'));
}

test('a memo compiles to what a fresh compile does, diagnostics and positions included', () => {
  // Every file here gives diagnostics (most with positions located after parsing).
  const paths = ['test/diagnostics', 'fixtures/bookstore'];
  const memo = new CompileMemo();
  const fresh = signature(compilePaths(paths, options));
  assert.is(signature(compilePaths(paths, options, undefined, memo)), fresh);
  const files = memo.parsed;
  assert.ok(files > 20);
  assert.is(signature(compilePaths(paths, options, undefined, memo)), fresh, 'from the memo');
  assert.is(memo.parsed, files, 'nothing parsed again');
  assert.is(memo.reused, files);
});

test('only a changed file is parsed again; a removed one leaves the memo', () => {
  const dir = scratch();
  try {
    cpSync('fixtures/bookstore', dir, { recursive: true });
    const memo = new CompileMemo();
    compilePaths([dir], options, undefined, memo);
    const files = memo.size;
    const target = join(dir, 'bookstore.yaml');
    writeFileSync(target, `${readFileSync(target, 'utf8')}\n# edited\n`);
    const again = compilePaths([dir], options, undefined, memo);
    assert.is(memo.parsed, files + 1);
    assert.is(signature(again), signature(compilePaths([dir], options)));
    rmSync(target);
    compilePaths([dir], options, undefined, memo);
    assert.is(memo.size, files - 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

type Doc = Record<string, any>;

/** Rewrites the documents of one file (js-yaml round trip; positions move, as they do in real edits). */
function editDocs(file: string, edit: (docs: Doc[]) => Doc[]): void {
  const docs = jsyaml.loadAll(readFileSync(file, 'utf8')) as Doc[];
  writeFileSync(file, edit(docs).map((d) => jsyaml.dump(d, { lineWidth: -1 })).join('---\n'));
}

const named = (docs: Doc[], kind: string, pick = 0): Doc => docs.filter((d) => d.kind === kind)[pick];

test('after every kind of edit a memo compile equals a fresh one, and reuses what the edit did not touch', () => {
  const dir = scratch();
  try {
    writeMesh(generateMesh({ services: 60, namespaces: 4, permissive: false, seed: 7 }), dir);
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(dir, f));
    const [a, b, c] = files;
    const memo = new CompileMemo();
    const check = (what: string): ReturnType<typeof compilePaths> => {
      const incremental = compilePaths([dir], options, undefined, memo);
      const fresh = compilePaths([dir], options);
      assert.is(signature(incremental), signature(fresh), what);
      return incremental;
    };
    const first = check('first compile');
    assert.ok(first.ok && first.proxies.length > 60);

    // One TrafficTarget gains a source from another namespace: one namespace's passes rerun,
    // and only the destination's and the new caller's proxies get new configs.
    let newCaller = '';
    editDocs(a, (docs) => {
      const t = named(docs, 'TrafficTarget');
      const caller = (jsyaml.loadAll(readFileSync(c, 'utf8')) as Doc[]).find((d) => d.kind === 'ServiceAccount')!;
      newCaller = `${caller.metadata.namespace}/${caller.metadata.name}`;
      t.spec.sources.push({ kind: 'ServiceAccount', name: caller.metadata.name, namespace: caller.metadata.namespace });
      return docs;
    });
    const before = new Map(first.proxies.map((p) => [p.nodeId, p]));
    const edited = check('a source added to a TrafficTarget');
    // ('' holds the cluster-scoped Namespace objects, one from every file: it reruns on any edit, and is tiny.)
    assert.equal(memo.passes.rerunNamespaces.filter((ns) => ns !== '').length, 1, 'one namespace rerun');
    const changed = edited.proxies.filter((p) => before.get(p.nodeId) !== p).map((p) => p.nodeId);
    assert.ok(changed.length >= 2 && changed.length <= 6, `few proxies re-emitted: ${changed.join(', ')}`);
    assert.ok(changed.some((id) => id.startsWith(newCaller.split('/')[0])), 'the new caller is among them');
    assert.ok(memo.passes.plan.reused > memo.passes.plan.planned, 'most plans reused');

    editDocs(a, (docs) => {
      named(docs, 'TrafficSplit').spec.backends[0].weight = 50;
      return docs;
    });
    check('split weights');
    editDocs(b, (docs) => {
      const slice = named(docs, 'EndpointSlice', 2);
      slice.endpoints[0].addresses = ['10.99.0.1'];
      slice.endpoints[1].conditions.ready = false;
      return docs;
    });
    check('an endpoint moved, another not ready');
    editDocs(b, (docs) => {
      const svc = named(docs, 'Service', 1);
      svc.spec.ports[0].port += 1;
      named(docs, 'Deployment', 3).spec.template.spec.serviceAccountName = named(docs, 'ServiceAccount', 0).metadata.name;
      return docs;
    });
    check('a service port and a workload identity');
    editDocs(c, (docs) => {
      const group = named(docs, 'HTTPRouteGroup');
      group.spec.matches[0].pathRegex = '/changed/.*';
      group.spec.matches.push({ name: 'broken', pathRegex: '(' });
      return docs;
    });
    const broken = check('a route group change with an invalid regex');
    assert.ok(!broken.ok);
    editDocs(c, (docs) => {
      named(docs, 'HTTPRouteGroup').spec.matches.pop();
      return docs;
    });
    assert.ok(check('the regex fixed').ok);
    writeFileSync(b, `# a comment\n\n${readFileSync(b, 'utf8')}`);
    check('positions moved only');
    writeFileSync(join(dir, 'zz-duplicate.yaml'), jsyaml.dump(named(jsyaml.loadAll(readFileSync(c, 'utf8')) as Doc[], 'TrafficTarget')));
    check('a duplicate TrafficTarget in another file');
    editDocs(a, (docs) => docs.filter((d) => d.kind !== 'TrafficTarget' || d !== named(docs, 'TrafficTarget')));
    check('a TrafficTarget removed');
    writeFileSync(
      join(dir, 'osm-mesh-config.yaml'),
      'apiVersion: config.openservicemesh.io/v1alpha2\nkind: MeshConfig\nmetadata:\n  name: osm-mesh-config\n  namespace: osm-system\nspec:\n  traffic:\n    enablePermissiveTrafficPolicyMode: true\n',
    );
    check('permissive mode on');
    rmSync(join(dir, 'osm-mesh-config.yaml'));
    check('permissive mode off');
    writeFileSync(c, 'kind: [\n');
    assert.ok(!check('broken YAML').ok);
    rmSync(c);
    check('a namespace file removed');
    rmSync(b);
    check('another one removed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('120 random edits in a row, errors included: after each, a memo compile equals a fresh one', () => {
  const dir = scratch();
  try {
    writeMesh(generateMesh({ services: 36, namespaces: 3, permissive: false, seed: 11 }), dir);
    const editor = randomEditor(dir, 2026);
    const memo = new CompileMemo();
    for (let step = 0; step < 120; step++) {
      const what = editor.edit();
      const incremental = signature(compilePaths([dir], options, undefined, memo));
      assert.is(incremental, signature(compilePaths([dir], options)), `step ${step}: ${what}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a split whose apex is named in another namespace is replanned when that namespace changes', () => {
  const dir = scratch();
  try {
    cpSync('fixtures/canary', dir, { recursive: true });
    const memo = new CompileMemo();
    const fresh = () => signature(compilePaths([dir], options));
    assert.is(signature(compilePaths([dir], options, undefined, memo)), fresh());
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml'))) {
      const path = join(dir, f);
      const text = readFileSync(path, 'utf8');
      if (!/weight/.test(text)) continue;
      writeFileSync(path, text.replace(/weight: (\d+)/, (_, w) => `weight: ${Number(w) === 0 ? 1 : Number(w) - 1}`));
      assert.is(signature(compilePaths([dir], options, undefined, memo)), fresh(), f);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('memoised configs and their documents are frozen: nothing can edit what the next compile reuses', () => {
  const memo = new CompileMemo();
  const r = compilePaths(['fixtures/bookstore'], options, undefined, memo);
  assert.ok(r.proxies.length > 0);
  for (const p of r.proxies) assert.ok(Object.isFrozen(p));
  const again = compilePaths(['fixtures/bookstore'], options, undefined, memo);
  assert.ok(again.proxies.every((p, i) => p === r.proxies[i]), 'the same objects');
  memo.load([{ path: 'a.yaml', text: 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n  namespace: ns\n' }], { report: () => {} });
  const accounts = memo.lists().serviceAccounts;
  assert.is(accounts.length, 1);
  assert.is(positionOf(accounts[0].origin, ['metadata', 'name']).line, 4);
});

test('emit state belongs to the memo: its compiles share objects, other memos and memo-less compiles share none', () => {
  const memo = new CompileMemo();
  const dynamic = (r: ReturnType<typeof compilePaths>) => r.proxies[0].bootstrap.dynamic_resources;
  const first = compilePaths(['fixtures/bookstore'], options, undefined, memo);
  // Other options: every proxy is emitted again, through the same session.
  const again = compilePaths(['fixtures/bookstore'], { ...options, protoCheck: true }, undefined, memo);
  assert.ok(again.proxies[0] !== first.proxies[0], 'emitted again');
  assert.ok(dynamic(again) === dynamic(first), 'from the memo\'s shared objects');
  const otherMemo = compilePaths(['fixtures/bookstore'], options, undefined, new CompileMemo());
  const noMemo = compilePaths(['fixtures/bookstore'], options);
  assert.ok(dynamic(otherMemo) !== dynamic(first) && dynamic(noMemo) !== dynamic(first) && dynamic(noMemo) !== dynamic(otherMemo));
  assert.equal(dynamic(noMemo), dynamic(first));
});

test.run();
