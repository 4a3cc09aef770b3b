import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emitProxy } from './index.ts';
import { goldenPlan, wideMesh } from './golden-plans.ts';
import { resourceName, XDS_KINDS } from './types.ts';
import { EmitSession } from './session.ts';

const session = new EmitSession();

const bookbuyer = goldenPlan('bookstore', 'bookbuyer/bookbuyer');
/** Serves bookstore-v2 (and the bookstore apex) and calls nothing. */
const bookstoreV2 = goldenPlan('bookstore', 'bookstore/bookstore-v2');

test('a proxy gets listeners, routes, clusters, endpoints, secrets and a bootstrap, each list sorted by name', () => {
  const proxy = emitProxy(session, bookstoreV2, {});
  assert.is(proxy.nodeId, 'bookstore/bookstore-v2');
  assert.equal(
    Object.fromEntries(XDS_KINDS.map((k) => [k, proxy.resources[k].map(resourceName)])),
    {
      listeners: ['inbound-listener'],
      routes: ['rds-inbound.14001'],
      clusters: ['bookstore/bookstore-v2|14001|local', 'bookstore/bookstore|14001|local'],
      endpoints: [],
      secrets: ['root-cert-for-mtls-inbound:bookstore/bookstore-v2', 'service-cert:bookstore/bookstore-v2'],
    },
  );
  const wide = emitProxy(session, wideMesh(30)[0], {});
  for (const kind of XDS_KINDS) {
    const names = wide.resources[kind].map(resourceName);
    assert.equal(names, [...names].sort(), kind);
  }
});

test('deterministic: the same plan gives the same bytes, with or without shared objects from earlier proxies', () => {
  const first = JSON.stringify(emitProxy(session, bookbuyer, {}));
  for (const plan of wideMesh(20)) emitProxy(session, plan, {});
  emitProxy(session, goldenPlan('bookstore-permissive', 'bookbuyer/bookbuyer'), {});
  assert.is(JSON.stringify(emitProxy(session, bookbuyer, {})), first);
  assert.is(JSON.stringify(emitProxy(new EmitSession(), bookbuyer, {})), first);
});

test('output order does not depend on the order of the plan lists', () => {
  const plan = wideMesh(25)[0];
  const outbound = [...plan.outbound].reverse();
  const layout = plan.outboundLayout;
  const shuffled = { ...plan, outbound, outboundLayout: { ...layout, chains: [...layout.chains].reverse() }, upstreams: [...plan.upstreams].reverse() };
  assert.is(JSON.stringify(emitProxy(session, shuffled, {})), JSON.stringify(emitProxy(session, plan, {})));
});

test('sharing: callers in one namespace share the outbound listener, route configuration and endpoints', () => {
  const wide = wideMesh(40);
  const a = emitProxy(session, wide[3], {});
  const b = emitProxy(session, wide[13], {});
  const outbound = (p: typeof a) => p.resources.listeners.find((l) => l.name === 'outbound-listener');
  assert.ok(outbound(a) === outbound(b));
  assert.ok(a.resources.routes.find((r) => r.name === 'rds-outbound.8080') === b.resources.routes.find((r) => r.name === 'rds-outbound.8080'));
  assert.ok(a.resources.endpoints.every((cla, i) => cla === b.resources.endpoints[i]));
  const c = emitProxy(session, wide[4], {});
  assert.ok(outbound(a) === outbound(c), 'the listener does not depend on the namespace either');
  assert.ok(a.resources.routes[1] !== c.resources.routes[1], 'route configurations do: the bare host names');
});

test('stableObjects: a recompile of the same plan hands back the same inbound listener, route configurations and secrets', () => {
  const first = emitProxy(session, bookstoreV2, { stableObjects: true });
  const again = emitProxy(session, bookstoreV2, { stableObjects: true });
  for (const kind of ['listeners', 'routes', 'secrets'] as const) {
    assert.ok(first.resources[kind].length > 0, kind);
    first.resources[kind].forEach((r, i) => assert.is(again.resources[kind][i], r, `${kind} ${String(r.name)}`));
  }
  const oneShot = emitProxy(session, bookstoreV2, {});
  assert.equal(oneShot.resources, first.resources);
  const inbound = (p: typeof first) => p.resources.listeners.find((l) => l.name === 'inbound-listener');
  assert.is.not(inbound(oneShot), inbound(first));
});

test.run();
