/**
 * `explain` agrees with traffic: for every (source workload, destination service, route) of the
 * bookstore fixture, its verdict is what the real Envoy sidecars do (bookstore-pods.ts). Each
 * route's request (and one no route admits) is sent from every pod to every HTTP service, and a
 * connection to mysql from every pod; an allowed call must reach an app behind one of the
 * backends explain names, a denied one must not reach any app, failing as explain says it does:
 * 404 (no route at the destination), 403 (route RBAC), or no HTTP answer at all (no outbound
 * filter chain, or the network RBAC refusing the caller's certificate).
 *
 * Needs root, Envoy and iptables (skipped without them, failed under CI=true).
 */
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import { compilePaths } from '../../src/compiler/compile.ts';
import type { PlannedMesh } from '../../src/passes/plan.ts';
import { explain, type Explanation, type ExplainQuery } from '../../src/review/explain.ts';
import { CLUSTER_IPS, PODS, poll, podsUnavailable, startBookstorePods, type BookstorePods } from './bookstore-pods.ts';
import { envoy, envoyTest } from './support.ts';
import type { LooseJson as Json } from '../../src/shared/json.ts';

const CERT_LIFETIME_MS = 60_000;
const HEADERS: ExplainQuery['headers'] = [
  ['user-agent', 'node-http-client/1.0'],
  ['client-app', 'bookbuyer'],
];
/** The fixture's HTTPRouteGroup matches, one request each, and one request no match admits. */
const REQUESTS = [
  { route: 'books-bought', method: 'GET', path: '/books-bought' },
  { route: 'buy-a-book', method: 'GET', path: '/buy-a-book/new' },
  { route: 'restock-books', method: 'POST', path: '/restock-books' },
  { route: '(none)', method: 'GET', path: '/admin' },
];
const HTTP_SERVICES = ['bookstore/bookstore', 'bookstore/bookstore-v1', 'bookstore/bookstore-v2', 'bookwarehouse/bookwarehouse'];
/** The app names (pod-app.mjs answers {from: name}) per workload. */
const APP_OF = new Map(Object.entries(PODS).map(([w, p]) => [p.app.name as string, w]));

let pods: BookstorePods | undefined;
let mesh: PlannedMesh | undefined;

test.before(async () => {
  if (!envoy || podsUnavailable) return;
  pods = await startBookstorePods(envoy, CERT_LIFETIME_MS);
  const r = compilePaths([pods.mesh], { analyseOnly: true });
  assert.ok(r.ok);
  mesh = r.mesh as PlannedMesh;
});

test.after(async () => {
  await pods?.stop();
});

function query(from: string, service: string, req: { method: string; path: string } = { method: 'GET', path: '/' }): ExplainQuery {
  const [namespace, name] = service.split('/');
  return { from, to: { service: name, namespace }, method: req.method, path: req.path, headers: HEADERS };
}

/** What explain says the caller sees, checked against one real answer. */
function agrees(e: Explanation, r: Json): string | undefined {
  const reached = typeof r.body === 'string' && r.body.includes('"from"');
  if (e.verdict === 'allowed') {
    if (r.status !== 200 || !reached) return `explain: allowed; Envoy: ${JSON.stringify(r)}`;
    const workload = APP_OF.get(JSON.parse(r.body).from);
    const named = e.backends.flatMap((b) => (b.weight > 0 ? b.workloads.map((w) => w.workload) : []));
    return named.includes(workload!) ? undefined : `answered by ${workload}, explain's backends are ${named.join(', ')}`;
  }
  if (reached) return `explain: denied (${e.reason}); Envoy: the app answered ${JSON.stringify(r)}`;
  const outcomes = new Set(e.backends.flatMap((b) => (b.weight > 0 ? b.workloads.map((w) => w.outcome) : [])));
  const expected = e.backends.length === 0 ? 'no answer' : outcomes.size === 1 ? [...outcomes][0] : undefined;
  const seen = r.status === undefined ? 'no answer' : String(r.status);
  if (expected === 'refused' || expected === 'no answer') return seen === 'no answer' ? undefined : `explain: ${expected}; Envoy: ${JSON.stringify(r)}`;
  if (expected !== undefined && seen !== expected) return `explain: ${expected}; Envoy: ${JSON.stringify(r)}`;
  return undefined;
}

envoyTest(
  "explain's verdict is the sidecars' for every source, service and route of the bookstore fixture",
  async () => {
    // The sidecars have their certificates once the one call explain allows goes through.
    await poll('the first allowed call', async () => {
      const r = await pods!.fromPod('bookbuyer/bookbuyer', 'http', { host: CLUSTER_IPS['bookstore/bookstore'], port: 14001, path: '/books-bought', headers: { host: 'bookstore.bookstore.svc.cluster.local:14001', ...Object.fromEntries(HEADERS) } });
      return r.status === 200 ? r : JSON.stringify(r);
    });
    const disagreements: string[] = [];
    const verdicts = new Map<string, number>();
    for (const from of Object.keys(PODS)) {
      for (const service of HTTP_SERVICES) {
        for (const req of REQUESTS) {
          const e = explain(mesh!, query(from, service, req));
          const [ns, name] = service.split('/');
          const r = await pods!.fromPod(from, 'http', {
            host: CLUSTER_IPS[service],
            port: 14001,
            path: req.path,
            method: req.method,
            headers: { host: `${name}.${ns}.svc.cluster.local:14001`, ...Object.fromEntries(HEADERS) },
          });
          const d = agrees(e, r);
          if (d) disagreements.push(`${from} → ${service} ${req.method} ${req.path} (${req.route}): ${d}`);
          verdicts.set(e.verdict, (verdicts.get(e.verdict) ?? 0) + 1);
        }
      }
      const e = explain(mesh!, query(from, 'bookwarehouse/mysql'));
      const r = await pods!.fromPod(from, 'tcp', { host: PODS['bookwarehouse/mysql'].ip, port: 3306 });
      const greeted = r.greeting === 'hello from mysql';
      if (greeted !== (e.verdict === 'allowed')) disagreements.push(`${from} → bookwarehouse/mysql tcp: explain ${e.verdict}, Envoy ${JSON.stringify(r)}`);
      verdicts.set(e.verdict, (verdicts.get(e.verdict) ?? 0) + 1);
    }
    console.log(`  (${JSON.stringify(Object.fromEntries(verdicts))} calls, each through the real sidecars)`);
    assert.equal(disagreements, []);
    // Both kinds of answer were exercised: allowed calls on three routes and the TCP one.
    assert.ok((verdicts.get('allowed') ?? 0) >= 6, JSON.stringify(Object.fromEntries(verdicts)));
  },
  podsUnavailable,
);

test.run();
