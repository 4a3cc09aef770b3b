import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compilePaths } from '../compiler/compile.ts';
import type { PlannedMesh } from '../passes/plan.ts';
import { accessEdges, edgeText, splitViews } from './edges.ts';

const mesh = compilePaths(['fixtures/bookstore'], { analyseOnly: true }).mesh as PlannedMesh;

test('access edges of the bookstore fixture: every call some sidecar admits, per route and method, with what admits it', () => {
  const edges = accessEdges(mesh);
  assert.equal(
    edges.map((e) => `${e.from} → ${edgeText(e)} [${e.admittedBy?.target.meta.name}]`),
    [
      'bookbuyer/bookbuyer → bookstore/bookstore GET .*a-book.*new [bookstore]',
      'bookbuyer/bookbuyer → bookstore/bookstore GET /books-bought {user-agent: .*-http-client/*.*, client-app: bookbuyer} [bookstore]',
      'bookbuyer/bookbuyer → bookstore/bookstore-v1 GET .*a-book.*new [bookstore]',
      'bookbuyer/bookbuyer → bookstore/bookstore-v1 GET /books-bought {user-agent: .*-http-client/*.*, client-app: bookbuyer} [bookstore]',
      'bookbuyer/bookbuyer → bookstore/bookstore-v2 GET .*a-book.*new [bookstore-v2]',
      'bookbuyer/bookbuyer → bookstore/bookstore-v2 GET /books-bought {user-agent: .*-http-client/*.*, client-app: bookbuyer} [bookstore-v2]',
      'bookstore/bookstore → bookwarehouse/bookwarehouse POST .* [bookstore-access-bookwarehouse]',
      'bookwarehouse/bookwarehouse → bookwarehouse/mysql tcp:3306 [mysql]',
    ],
  );
});

test('splits by apex, with their backends and weights', () => {
  assert.equal(
    [...splitViews(mesh).values()].map((s) => [s.apex, s.backends.map((b) => `${b.service}=${b.weight}`)]),
    [['bookstore/bookstore', ['bookstore/bookstore-v1=50', 'bookstore/bookstore-v2=50']]],
  );
});

test('permissive mode: every workload may send any request to every service port', () => {
  const permissive = compilePaths(['fixtures/bookstore-permissive'], { analyseOnly: true }).mesh as PlannedMesh;
  const edges = accessEdges(permissive);
  assert.ok(edges.length > 0);
  assert.ok(edges.every((e) => e.admittedBy === undefined && (e.route === 'any request' || e.route === 'tcp')));
  assert.ok(edges.some((e) => e.from === 'bookthief/bookthief' && e.service === 'bookstore/bookstore'));
});

test.run();
