import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inboundRouteConfigurations, outboundRouteConfigurations } from './routes.ts';
import { addresslessPlan, BOOKBUYER_ID, bookbuyerPlan, bookstoreV1Plan, permissiveBookstorePlan, tcpAndGrpcPlan } from './test-plans.ts';
import { EmitSession } from './session.ts';

const session = new EmitSession();

type J = Record<string, any>;

const rbacPrincipals = (route: J) => {
  const policies = route.typed_per_filter_config['envoy.filters.http.rbac'].rbac.rules.policies;
  return Object.values(policies).flatMap((p: any) => p.principals.map((x: J) => x.any ? '*' : x.authenticated.principal_name.exact));
};

test('outbound: rds-outbound.<port>, a virtual host per service, catch-all route to the split', () => {
  const [config] = outboundRouteConfigurations(session, bookbuyerPlan()) as J[];
  assert.is(config['@type'], 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration');
  assert.is(config.name, 'rds-outbound.14001');
  assert.is(config.validate_clusters, false);
  const [vhost] = config.virtual_hosts;
  assert.is(vhost.name, 'outbound_virtual-host|bookstore.bookstore.svc.cluster.local');
  assert.not.ok(vhost.domains.includes('bookstore'), 'bare name only for callers in the same namespace');
  assert.ok(vhost.domains.includes('bookstore.bookstore:14001'));
  assert.equal(vhost.routes, [
    {
      match: { safe_regex: { regex: '.*' } },
      route: {
        weighted_clusters: {
          clusters: [
            { name: 'bookstore/bookstore-v1|14001', weight: 50 },
            { name: 'bookstore/bookstore-v2|14001', weight: 50 },
          ],
        },
        timeout: '0s',
      },
    },
  ]);
});

test('outbound: unsplit service routes to its cluster; TCP ports get no route configuration', () => {
  const configs = outboundRouteConfigurations(session, tcpAndGrpcPlan()) as J[];
  assert.equal(configs.map((c) => c.name), ['rds-outbound.50051']);
  assert.equal(configs[0].virtual_hosts[0].routes[0].route, { cluster: 'inventory/stock|50051', timeout: '0s' });
});

test('outbound: services sharing a port share one route configuration, one virtual host each, sorted', () => {
  const configs = outboundRouteConfigurations(session, addresslessPlan()) as J[];
  assert.equal(configs.map((c) => c.name), ['rds-outbound.80', 'rds-outbound.8443']);
  assert.equal(configs[0].virtual_hosts.map((v: J) => v.name), [
    'outbound_virtual-host|cart.shop.svc.cluster.local',
    'outbound_virtual-host|catalog.shop.svc.cluster.local',
  ]);
  assert.is(configs[0].virtual_hosts[0].domains[0], 'cart', 'same namespace: bare name first');
});

test('inbound: a route per match and method, path and headers as RE2, host as :authority, per-route RBAC', () => {
  const [config] = inboundRouteConfigurations(session, bookstoreV1Plan()) as J[];
  assert.is(config.name, 'rds-inbound.14001');
  const own = config.virtual_hosts.find((v: J) => v.name === 'inbound_virtual-host|bookstore-v1.bookstore.svc.cluster.local');
  assert.ok(own.domains.includes('bookstore-v1'), 'inbound always accepts the bare name');
  assert.equal(own.routes.map((r: J) => r.name), [
    'bookstore-service-routes/books-bought|GET',
    'bookstore-service-routes/buy-a-book|GET',
    'bookstore-service-routes/buy-a-book|POST',
  ]);
  const [booksBought] = own.routes;
  assert.equal(booksBought.match, {
    safe_regex: { regex: '/books-bought' },
    headers: [
      { name: ':method', string_match: { exact: 'GET' } },
      { name: 'user-agent', string_match: { safe_regex: { regex: '.*-http-client/*.*' } } },
      { name: ':authority', string_match: { safe_regex: { regex: 'bookstore.*' } } },
    ],
  });
  assert.equal(booksBought.route, { cluster: 'bookstore/bookstore-v1|14001|local', timeout: '0s' });
  for (const route of own.routes) assert.equal(rbacPrincipals(route), [BOOKBUYER_ID]);
});

test('inbound: the split apex gets a virtual host of its own with the same routes', () => {
  const [config] = inboundRouteConfigurations(session, bookstoreV1Plan()) as J[];
  assert.equal(config.virtual_hosts.map((v: J) => v.name), [
    'inbound_virtual-host|bookstore-v1.bookstore.svc.cluster.local',
    'inbound_virtual-host|bookstore.bookstore.svc.cluster.local',
  ]);
  const apex = config.virtual_hosts[1];
  assert.ok(apex.domains.includes('bookstore') && apex.domains.includes('bookstore.bookstore.svc.cluster.local:14001'));
  assert.equal(apex.routes, config.virtual_hosts[0].routes);
});

test('inbound permissive: one allow-all route, RBAC admitting any principal', () => {
  const [config] = inboundRouteConfigurations(session, permissiveBookstorePlan()) as J[];
  const [route] = config.virtual_hosts[0].routes;
  assert.equal(route.match, { safe_regex: { regex: '.*' } });
  assert.equal(rbacPrincipals(route), ['*']);
});

test('inbound: methods ["*"] means any method; [] matches nothing; principals [] admits no one', () => {
  const plan = bookstoreV1Plan();
  const port = plan.inbound[0];
  const m = (name: string, methods: string[] | undefined) => ({ name, pathRegex: '/x', methods, headers: [], path: [] });
  const routes = [
    { name: 'g/any', match: m('any', ['GET', '*']), principals: [BOOKBUYER_ID] },
    { name: 'g/none', match: m('none', []), principals: [BOOKBUYER_ID] },
    { name: 'g/closed', match: m('closed', undefined), principals: [] },
  ];
  const [config] = inboundRouteConfigurations(session, { ...plan, inbound: [{ ...port, routes, apexes: undefined }] }) as J[];
  const out = config.virtual_hosts[0].routes;
  assert.equal(out.map((r: J) => r.name), ['g/any', 'g/closed']);
  assert.is(out[0].match.headers, undefined, 'no :method matcher for any method');
  assert.equal(out[1].typed_per_filter_config['envoy.filters.http.rbac'].rbac.rules, { action: 'ALLOW', policies: {} });
});

test('inbound: two ports of one service on the same targetPort share a virtual host (no duplicate domains)', () => {
  const plan = permissiveBookstorePlan();
  const port = plan.inbound[0];
  const [config] = inboundRouteConfigurations(session, { ...plan, inbound: [port, { ...port, port: 80 }] }) as J[];
  assert.is(config.virtual_hosts.length, 1);
  const domains: string[] = config.virtual_hosts[0].domains;
  assert.is(new Set(domains).size, domains.length);
  assert.ok(domains.includes('bookstore-v1:80') && domains.includes('bookstore-v1:14001'));
});

test.run();
