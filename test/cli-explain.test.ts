/** `smi-compile explain`: the text and JSON answers and the exit codes (0 answered, 1 input error, 2 usage). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli, tempTree } from './cli-harness.ts';

const BUYER = ['--header', 'user-agent=node-http-client/1.0', '--header', 'client-app=bookbuyer'];

test('allowed: exit 0, text naming the TrafficTarget line, the Envoy route and both split backends (the README example)', async () => {
  const r = await runCli(['explain', 'fixtures/bookstore', '--from', 'bookbuyer/bookbuyer', '--to', 'bookstore.bookstore:14001', '--path', '/books-bought', ...BUYER]);
  assert.is(r.code, 0, r.stderr);
  console.log(r.stdout.replace(/^/gm, '  '));
  assert.match(r.stdout, /^bookbuyer\/bookbuyer → bookstore\/bookstore:14001 \(http\) GET \/books-bought: ALLOWED\n/);
  assert.match(r.stdout, 'route bookstore/bookstore-service-routes/books-bought|GET (envoy.filters.http.rbac policy rbac-for-route)');
  assert.match(r.stdout, 'TrafficTarget bookstore/bookstore rule 0 (HTTPRouteGroup bookstore-service-routes) (fixtures/bookstore/traffic-access-v1.yaml:12)');
  assert.match(r.stdout, 'backend bookstore/bookstore-v2 (cluster bookstore/bookstore-v2|14001, weight 50)');
});

test('denied is an answer too: exit 0; -o json for scripts', async () => {
  const r = await runCli(['explain', 'fixtures/bookstore', '--from', 'bookthief/bookthief', '--to', 'bookstore.bookstore.svc.cluster.local', '--path', '/books-bought', '-o', 'json']);
  assert.is(r.code, 0, r.stderr);
  console.log(r.stdout.replace(/^/gm, '  '));
  const e = JSON.parse(r.stdout);
  assert.is(e.verdict, 'denied');
  assert.match(e.reason, 'no TrafficTarget names bookthief/bookthief as a source');
});

test('input errors exit 1: an unknown workload; manifests with errors', async () => {
  const r = await runCli(['explain', 'fixtures/bookstore', '--from', 'bookstore/nobody', '--to', 'bookstore.bookstore']);
  assert.is(r.code, 1);
  assert.match(r.stderr, 'smi-compile explain: no workload bookstore/nobody in the manifests');
  const broken = tempTree({ 'split.yaml': 'apiVersion: split.smi-spec.io/v1alpha2\nkind: TrafficSplit\nmetadata: {name: s, namespace: a}\nspec:\n  service: nope\n  backends: [{service: x, weight: 1}]\n' });
  const b = await runCli(['explain', broken, '--from', 'a/b', '--to', 'c.a']);
  assert.is(b.code, 1);
  assert.match(b.stderr, 'the manifests have errors');
});

test('usage errors exit 2: a malformed --to, --from or --header, a missing --to', async () => {
  for (const args of [
    ['--from', 'bookbuyer/bookbuyer', '--to', 'bookstore'],
    ['--from', 'bookbuyer/bookbuyer', '--to', 'bookstore.bookstore.svc.other'], // not one of the service's host names
    ['--from', 'bookbuyer', '--to', 'bookstore.bookstore'],
    ['--from', 'bookbuyer/bookbuyer', '--to', 'bookstore.bookstore', '--header', 'novalue'],
    ['--from', 'bookbuyer/bookbuyer'],
  ]) {
    const r = await runCli(['explain', 'fixtures/bookstore', ...args]);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  }
});

test.run();
