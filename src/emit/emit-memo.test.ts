import { EmitSession } from './session.ts';
/** emitProxy memoises the families that read only a plan's outbound / upstreams lists (and namespace). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareByName } from './common.ts';
import { endpoints } from './endpoints.ts';
import { emitProxy } from './index.ts';
import { outboundListener } from './listeners-outbound.ts';
import { inboundRouteConfigurations, outboundRouteConfigurations } from './routes.ts';
import { goldenPlan, wideMesh } from './golden-plans.ts';

const session = new EmitSession();

test('proxies holding the same lists get the same objects, and what the families build for them', () => {
  const plan = wideMesh(30)[1];
  const sameNs = { ...plan, workload: 'other', serviceAccount: 'other' }; // same lists, same namespace
  const otherNs = { ...plan, namespace: 'elsewhere' }; // same lists, other namespace
  const a = emitProxy(session, plan, {});
  const b = emitProxy(session, sameNs, {});
  const c = emitProxy(session, otherNs, {});
  assert.ok(a.resources.endpoints === b.resources.endpoints && a.resources.endpoints === c.resources.endpoints);
  assert.ok(Object.isFrozen(a.resources.endpoints));
  const outbound = (p: typeof a) => p.resources.listeners.find((l) => l.name === 'outbound-listener');
  assert.ok(outbound(a) === outbound(c));
  const outRoutes = (p: typeof a) => p.resources.routes.filter((r) => String(r.name).startsWith('rds-outbound'));
  assert.ok(outRoutes(a).every((r, i) => r === outRoutes(b)[i]));
  // The same as the families give for the whole plan, memo or not.
  for (const p of [plan, sameNs, otherNs, goldenPlan('bookstore', 'bookbuyer/bookbuyer')]) {
    const proxy = emitProxy(session, p, {});
    assert.equal(proxy.resources.endpoints, endpoints(session, p));
    assert.equal(outbound(proxy), outboundListener(session, p));
    assert.equal(proxy.resources.routes, [...inboundRouteConfigurations(session, p), ...outboundRouteConfigurations(session, p)].sort(compareByName));
  }
  assert.not.equal(outRoutes(c), outRoutes(a), 'bare host names depend on the namespace');
});

test.run();
