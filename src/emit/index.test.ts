import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emitProxy } from './index.ts';
import { bookbuyerPlan, bookstoreV1Plan, wideMeshPlan } from './test-plans.ts';
import { resourceName, XDS_KINDS } from './types.ts';
import { EmitSession } from './session.ts';

const session = new EmitSession();

test('a proxy gets listeners, routes, clusters, endpoints, secrets and a bootstrap, each list sorted by name', () => {
  const proxy = emitProxy(session, bookstoreV1Plan(), {});
  assert.is(proxy.nodeId, 'bookstore/bookstore-v1');
  assert.equal(
    Object.fromEntries(XDS_KINDS.map((k) => [k, proxy.resources[k].map(resourceName)])),
    {
      listeners: ['inbound-listener'],
      routes: ['rds-inbound.14001'],
      clusters: ['bookstore/bookstore-v1|14001|local'],
      endpoints: [],
      secrets: ['root-cert-for-mtls-inbound:bookstore/bookstore', 'service-cert:bookstore/bookstore'],
    },
  );
  const wide = emitProxy(session, wideMeshPlan(30), {});
  for (const kind of XDS_KINDS) {
    const names = wide.resources[kind].map(resourceName);
    assert.equal(names, [...names].sort(), kind);
  }
});

test('deterministic: the same plan gives the same bytes, with or without shared objects from earlier proxies', () => {
  const first = JSON.stringify(emitProxy(session, bookbuyerPlan(), {}));
  emitProxy(session, wideMeshPlan(20, 'bookbuyer', 'other'), {});
  assert.is(JSON.stringify(emitProxy(session, bookbuyerPlan(), {})), first);
  assert.is(JSON.stringify(emitProxy(new EmitSession(), bookbuyerPlan(), {})), first);
});

test('output order does not depend on the order of the plan lists', () => {
  const plan = wideMeshPlan(25);
  const shuffled = { ...plan, outbound: [...plan.outbound].reverse(), upstreams: [...plan.upstreams].reverse() };
  assert.is(JSON.stringify(emitProxy(session, shuffled, {})), JSON.stringify(emitProxy(session, plan, {})));
});

test('sharing: callers in one namespace share the outbound listener, route configuration and endpoints', () => {
  const a = emitProxy(session, wideMeshPlan(40, 'ns3', 'svc3'), {});
  const b = emitProxy(session, wideMeshPlan(40, 'ns3', 'svc13'), {});
  const outbound = (p: typeof a) => p.resources.listeners.find((l) => l.name === 'outbound-listener');
  assert.ok(outbound(a) === outbound(b));
  assert.ok(a.resources.routes.find((r) => r.name === 'rds-outbound.8080') === b.resources.routes.find((r) => r.name === 'rds-outbound.8080'));
  assert.ok(a.resources.endpoints.every((cla, i) => cla === b.resources.endpoints[i]));
  const c = emitProxy(session, wideMeshPlan(40, 'ns4', 'svc4'), {});
  assert.ok(outbound(a) === outbound(c), 'the listener does not depend on the namespace either');
  assert.ok(a.resources.routes[1] !== c.resources.routes[1], 'route configurations do: the bare host names');
});

test('stableObjects: a recompile of the same plan hands back the same inbound listener, route configurations and secrets', () => {
  const first = emitProxy(session, bookstoreV1Plan(), { stableObjects: true });
  const again = emitProxy(session, bookstoreV1Plan(), { stableObjects: true });
  for (const kind of ['listeners', 'routes', 'secrets'] as const) {
    assert.ok(first.resources[kind].length > 0, kind);
    first.resources[kind].forEach((r, i) => assert.is(again.resources[kind][i], r, `${kind} ${String(r.name)}`));
  }
  const oneShot = emitProxy(session, bookstoreV1Plan(), {});
  assert.equal(oneShot.resources, first.resources);
  const inbound = (p: typeof first) => p.resources.listeners.find((l) => l.name === 'inbound-listener');
  assert.is.not(inbound(oneShot), inbound(first));
});

test.run();
