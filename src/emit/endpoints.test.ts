import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { endpoints } from './endpoints.ts';
import { bookbuyerPlan, tcpAndGrpcPlan } from './test-plans.ts';
import { EmitSession } from './session.ts';

const session = new EmitSession();

type J = Record<string, any>;
const byName = (list: J[], name: string) => list.find((r) => r.cluster_name === name);

test('endpoints: ip:targetPort in locality local; present but empty when none are known', () => {
  const list = endpoints(session, bookbuyerPlan()) as J[];
  assert.equal(list.map((c) => c.cluster_name), ['bookstore/bookstore-v1|14001', 'bookstore/bookstore-v2|14001']);
  assert.is(list[0]['@type'], 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment');
  assert.equal(list[0].endpoints, [
    {
      locality: { zone: 'local' },
      lb_endpoints: [
        { endpoint: { address: { socket_address: { address: '10.244.1.5', port_value: 14001 } } } },
        { endpoint: { address: { socket_address: { address: '10.244.1.6', port_value: 14001 } } } },
      ],
    },
  ]);
  const empty = byName(endpoints(session, tcpAndGrpcPlan()) as J[], 'inventory/stock|50051')!;
  assert.equal(empty.endpoints, [{ locality: { zone: 'local' }, lb_endpoints: [] }]);
});

test('endpoints are shared between callers', () => {
  const a = endpoints(session, bookbuyerPlan());
  const b = endpoints(session, { ...bookbuyerPlan(), namespace: 'thief', serviceAccount: 'bookthief' });
  assert.ok(a[0] === b[0]);
});

test.run();
