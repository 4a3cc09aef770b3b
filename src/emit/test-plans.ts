/**
 * Hand-built ProxyPlans for emit's tests: the OSM bookstore demo in miniature, in its
 * restrictive and permissive flavours, plus TCP, gRPC and address-less variants.
 */
import type { InboundPort, OutboundPort, ProxyPlan, UpstreamCluster } from '../ir/proxy-plan.ts';
import { layoutOutbound } from '../passes/outbound-layout.ts';

export const BOOKBUYER_ID = 'bookbuyer.bookbuyer.cluster.local';
export const BOOKTHIEF_ID = 'bookthief.bookthief.cluster.local';
export const BOOKSTORE_ID = 'bookstore.bookstore.cluster.local';

const svc = (namespace: string, name: string) => ({ namespace, name });

export function upstream(ns: string, name: string, targetPort: number, extra: Partial<UpstreamCluster> = {}): UpstreamCluster {
  return {
    name: `${ns}/${name}|${targetPort}`,
    service: svc(ns, name),
    targetPort,
    port: targetPort,
    protocol: 'http',
    identities: [`${name}.${ns}.cluster.local`],
    endpoints: [],
    ...extra,
  };
}

export function outbound(ns: string, name: string, port: number, extra: Partial<OutboundPort> = {}): OutboundPort {
  return {
    service: svc(ns, name),
    port,
    protocol: 'http',
    addresses: [],
    backends: [{ cluster: `${ns}/${name}|${port}`, weight: 100 }],
    split: false,
    ...extra,
  };
}

function basePlan(ns: string, workload: string, extra: Partial<ProxyPlan>): ProxyPlan {
  return {
    namespace: ns,
    workload,
    kind: 'Deployment',
    serviceAccount: workload,
    identity: `${workload}.${ns}.cluster.local`,
    trustDomain: 'cluster.local',
    permissive: false,
    inbound: [],
    outbound: [],
    upstreams: [],
    ...extra,
    outboundLayout: layoutOutbound(extra.outbound ?? []),
  };
}

/** bookbuyer calls the `bookstore` apex, split 50/50 over bookstore-v1 and bookstore-v2 (restrictive mode). */
export function bookbuyerPlan(): ProxyPlan {
  return basePlan('bookbuyer', 'bookbuyer', {
    outbound: [
      outbound('bookstore', 'bookstore', 14001, {
        addresses: ['10.96.0.10'],
        split: true,
        backends: [
          { cluster: 'bookstore/bookstore-v1|14001', weight: 50 },
          { cluster: 'bookstore/bookstore-v2|14001', weight: 50 },
        ],
      }),
    ],
    upstreams: [
      upstream('bookstore', 'bookstore-v1', 14001, { identities: [BOOKSTORE_ID], endpoints: ['10.244.1.5', '10.244.1.6'] }),
      upstream('bookstore', 'bookstore-v2', 14001, { identities: [BOOKSTORE_ID], endpoints: ['10.244.2.7'] }),
    ],
  });
}

/** bookstore-v1 serves port 14001; one TrafficTarget admits bookbuyer on GET /books-bought and /buy-a-book/new. */
export function bookstoreV1Plan(): ProxyPlan {
  const port: InboundPort = {
    service: svc('bookstore', 'bookstore-v1'),
    port: 14001,
    targetPort: 14001,
    protocol: 'http',
    localCluster: 'bookstore/bookstore-v1|14001|local',
    policies: [{ name: 'bookstore', principals: [BOOKBUYER_ID] }],
    routes: [
      {
        name: 'bookstore-service-routes/books-bought',
        match: {
          name: 'books-bought',
          pathRegex: '/books-bought',
          methods: ['GET'],
          headers: [{ name: 'user-agent', value: '.*-http-client/*.*', path: [] }, { name: 'host', value: 'bookstore.*', path: [] }],
          path: [],
        },
        principals: [BOOKBUYER_ID],
      },
      {
        name: 'bookstore-service-routes/buy-a-book',
        match: { name: 'buy-a-book', pathRegex: '.*a-book.*new', methods: ['GET', 'POST'], headers: [], path: [] },
        principals: [BOOKBUYER_ID],
      },
    ],
    apexes: [{ service: svc('bookstore', 'bookstore'), port: 14001 }],
  };
  return basePlan('bookstore', 'bookstore-v1', {
    serviceAccount: 'bookstore',
    identity: BOOKSTORE_ID,
    inbound: [port],
  });
}

/** Permissive mode: no RBAC policies, one allow-all route. */
export function permissiveBookstorePlan(): ProxyPlan {
  const plan = bookstoreV1Plan();
  return {
    ...plan,
    permissive: true,
    inbound: plan.inbound.map((p) => ({
      ...p,
      policies: undefined,
      routes: [{ name: '*', principals: undefined }],
      apexes: undefined,
    })),
  };
}

/** bookwarehouse calls mysql (TCP, 3306) and a gRPC service, and serves mysql-style TCP itself. */
export function tcpAndGrpcPlan(): ProxyPlan {
  return basePlan('bookwarehouse', 'bookwarehouse', {
    inbound: [
      {
        service: svc('bookwarehouse', 'bookwarehouse'),
        port: 9000,
        targetPort: 9001,
        protocol: 'tcp',
        localCluster: 'bookwarehouse/bookwarehouse|9001|local',
        policies: [
          { name: 'warehouse-from-store', principals: [BOOKSTORE_ID] },
          { name: 'nobody', principals: [] },
        ],
        routes: [],
      },
    ],
    outbound: [
      outbound('bookwarehouse', 'mysql', 3306, {
        protocol: 'tcp',
        addresses: ['10.96.0.33', 'fd00::33'],
        backends: [{ cluster: 'bookwarehouse/mysql|3306', weight: 100 }],
      }),
      outbound('inventory', 'stock', 50051, {
        protocol: 'grpc',
        addresses: ['10.96.0.51'],
        backends: [{ cluster: 'inventory/stock|50051', weight: 100 }],
      }),
    ],
    upstreams: [
      upstream('bookwarehouse', 'mysql', 3306, { protocol: 'tcp', endpoints: ['10.244.3.3'] }),
      upstream('inventory', 'stock', 50051, { protocol: 'grpc' }),
    ],
  });
}

/** Source manifests without ClusterIPs: three HTTP services and two TCP services on port 80/5432 with no addresses. */
export function addresslessPlan(): ProxyPlan {
  return basePlan('shop', 'frontend', {
    outbound: [
      outbound('shop', 'cart', 80),
      outbound('shop', 'catalog', 80),
      outbound('shop', 'legacy-tcp', 80, { protocol: 'tcp', backends: [{ cluster: 'shop/legacy-tcp|80', weight: 100 }] }),
      outbound('shop', 'pg-a', 5432, { protocol: 'tcp', backends: [{ cluster: 'shop/pg-a|5432', weight: 100 }] }),
      outbound('shop', 'pg-b', 5432, { protocol: 'tcp', backends: [{ cluster: 'shop/pg-b|5432', weight: 100 }] }),
      outbound('pay', 'payments', 8443),
    ],
    upstreams: [
      upstream('pay', 'payments', 8443),
      upstream('shop', 'cart', 80),
      upstream('shop', 'catalog', 80),
      upstream('shop', 'legacy-tcp', 80, { protocol: 'tcp' }),
      upstream('shop', 'pg-a', 5432, { protocol: 'tcp' }),
      upstream('shop', 'pg-b', 5432, { protocol: 'tcp' }),
    ],
  });
}

/** A permissive mesh of `n` HTTP services, seen from one caller: for sharing and timing. */
export function wideMeshPlan(n: number, callerNamespace = 'ns0', caller = 'svc0'): ProxyPlan {
  const outs: OutboundPort[] = [];
  const ups: UpstreamCluster[] = [];
  for (let i = 0; i < n; i++) {
    const ns = `ns${i % 10}`;
    const name = `svc${i}`;
    outs.push(outbound(ns, name, 8080, { addresses: [`10.96.${i >> 8}.${i & 255}`] }));
    ups.push(upstream(ns, name, 8080, { endpoints: [`10.244.${i >> 8}.${i & 255}`] }));
  }
  ups.sort((a, b) => (a.name < b.name ? -1 : 1));
  return basePlan(callerNamespace, caller, {
    permissive: true,
    outbound: outs,
    upstreams: ups,
    inbound: [
      {
        service: svc(callerNamespace, caller),
        port: 8080,
        targetPort: 8080,
        protocol: 'http',
        localCluster: `${callerNamespace}/${caller}|8080|local`,
        routes: [{ name: '*' }],
      },
    ],
  });
}
