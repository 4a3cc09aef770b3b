import { EmitSession } from './session.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { endpoints } from './endpoints.ts';
import { goldenPlan } from './golden-plans.ts';

const session = new EmitSession();

/** api calls the headless etcd, whose pods are known; bookbuyer calls services whose endpoints are not in the fixture. */
const api = goldenPlan('headless-statefulset', 'api/api');
const bookbuyer = goldenPlan('bookstore', 'bookbuyer/bookbuyer');

type J = Record<string, any>;
const byName = (list: J[], name: string) => list.find((r) => r.cluster_name === name);

test('endpoints: ip:targetPort in locality local; present but empty when none are known', () => {
  const list = endpoints(session, api) as J[];
  assert.equal(list.map((c) => c.cluster_name), ['data/etcd|2379', 'data/etcd|2380']);
  assert.is(list[0]['@type'], 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment');
  assert.equal(list[0].endpoints, [
    {
      locality: { zone: 'local' },
      lb_endpoints: [
        { endpoint: { address: { socket_address: { address: '10.244.1.5', port_value: 2379 } } } },
        { endpoint: { address: { socket_address: { address: '10.244.2.9', port_value: 2379 } } } },
        { endpoint: { address: { socket_address: { address: '10.244.3.14', port_value: 2379 } } } },
      ],
    },
  ]);
  const empty = byName(endpoints(session, bookbuyer) as J[], 'bookstore/bookstore-v1|14001')!;
  assert.equal(empty.endpoints, [{ locality: { zone: 'local' }, lb_endpoints: [] }]);
});

test('endpoints are shared between callers', () => {
  const a = endpoints(session, api);
  const b = endpoints(session, goldenPlan('headless-statefulset', 'data/etcd'));
  assert.ok(a[0] === b[0]);
});

test.run();
