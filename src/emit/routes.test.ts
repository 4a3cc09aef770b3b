import { EmitSession } from './session.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inboundRouteConfigurations, outboundRouteConfigurations } from './routes.ts';
import { deploy, split, svc, target } from '../passes/test-mesh.ts';
import { goldenPlan, plannedProxies } from './golden-plans.ts';

const session = new EmitSession();

type J = Record<string, any>;

const BOOKBUYER_ID = 'bookbuyer.bookbuyer.cluster.local';

const group = (matches: string) => `apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {name: bookstore-service-routes, namespace: bookstore}
spec:
  matches:
${matches}`;

/**
 * The bookstore demo in miniature: bookstore-v1 serves port 14001 and is the backend of the
 * bookstore apex; one TrafficTarget admits bookbuyer on GET /books-bought (with a user-agent and
 * a host header) and GET or POST on buy-a-book. `extra` adds manifests; `matches` replaces the group's.
 */
function bookstoreV1(extra: readonly string[] = [], matches?: string) {
  const proxies = plannedProxies([
    deploy('bookstore', 'bookstore-v1', 'bookstore'),
    svc('bookstore', 'bookstore-v1', ['14001']),
    svc('bookstore', 'bookstore', ['14001']),
    split('bookstore', 'bookstore', 'bookstore', ['bookstore-v1=100']),
    deploy('bookbuyer', 'bookbuyer'),
    group(
      matches ??
        `  - {name: books-bought, pathRegex: /books-bought, methods: [GET], headers: [{user-agent: ".*-http-client/*.*"}, {host: "bookstore.*"}]}
  - {name: buy-a-book, pathRegex: ".*a-book.*new", methods: [GET, POST]}`,
    ),
    target('bookstore', 'bookstore', 'bookstore', ['bookbuyer/bookbuyer'], ['{kind: HTTPRouteGroup, name: bookstore-service-routes}']),
    ...extra,
  ]);
  return proxies.find((p) => p.workload === 'bookstore-v1')!;
}

const rbacPrincipals = (route: J) => {
  const policies = route.typed_per_filter_config['envoy.filters.http.rbac'].rbac.rules.policies;
  return Object.values(policies).flatMap((p: any) => p.principals.map((x: J) => x.any ? '*' : x.authenticated.principal_name.exact));
};

test('outbound: rds-outbound.<port>, a virtual host per service, catch-all route to the split', () => {
  const [config] = outboundRouteConfigurations(session, goldenPlan('bookstore', 'bookbuyer/bookbuyer')) as J[];
  assert.is(config['@type'], 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration');
  assert.is(config.name, 'rds-outbound.14001');
  assert.is(config.validate_clusters, false);
  const vhost = config.virtual_hosts.find((v: J) => v.name === 'outbound_virtual-host|bookstore.bookstore.svc.cluster.local');
  assert.equal(config.virtual_hosts.length, 3, 'the apex and both backends, each callable');
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
  const configs = outboundRouteConfigurations(session, goldenPlan('multi-port', 'shop/frontend')) as J[];
  assert.equal(configs.map((c) => c.name), ['rds-outbound.80', 'rds-outbound.9090'], 'none for TCP 6379');
  assert.equal(configs[0].virtual_hosts[0].routes[0].route, { cluster: 'shop/catalog|8080', timeout: '0s' });
});

test('outbound: services sharing a port share one route configuration, one virtual host each, sorted', () => {
  const configs = outboundRouteConfigurations(session, goldenPlan('bookstore-permissive', 'bookstore/bookstore')) as J[];
  assert.equal(configs.map((c) => c.name), ['rds-outbound.14001'], 'none for mysql (TCP)');
  assert.equal(configs[0].virtual_hosts.map((v: J) => v.name), [
    'outbound_virtual-host|bookstore-v1.bookstore.svc.cluster.local',
    'outbound_virtual-host|bookstore-v2.bookstore.svc.cluster.local',
    'outbound_virtual-host|bookstore.bookstore.svc.cluster.local',
    'outbound_virtual-host|bookwarehouse.bookwarehouse.svc.cluster.local',
  ]);
  assert.is(configs[0].virtual_hosts[0].domains[0], 'bookstore-v1', 'same namespace: bare name first');
});

test('inbound: a route per match and method, path and headers as RE2, host as :authority, per-route RBAC', () => {
  const [config] = inboundRouteConfigurations(session, bookstoreV1()) as J[];
  assert.is(config.name, 'rds-inbound.14001');
  const own = config.virtual_hosts.find((v: J) => v.name === 'inbound_virtual-host|bookstore-v1.bookstore.svc.cluster.local');
  assert.ok(own.domains.includes('bookstore-v1'), 'inbound always accepts the bare name');
  assert.equal(own.routes.map((r: J) => r.name), [
    'bookstore/bookstore-service-routes/books-bought|GET',
    'bookstore/bookstore-service-routes/buy-a-book|GET',
    'bookstore/bookstore-service-routes/buy-a-book|POST',
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
  const [config] = inboundRouteConfigurations(session, bookstoreV1()) as J[];
  assert.equal(config.virtual_hosts.map((v: J) => v.name), [
    'inbound_virtual-host|bookstore-v1.bookstore.svc.cluster.local',
    'inbound_virtual-host|bookstore.bookstore.svc.cluster.local',
  ]);
  const apex = config.virtual_hosts[1];
  assert.ok(apex.domains.includes('bookstore') && apex.domains.includes('bookstore.bookstore.svc.cluster.local:14001'));
  assert.equal(apex.routes, config.virtual_hosts[0].routes);
});

test('inbound permissive: one allow-all route, RBAC admitting any principal', () => {
  const [config] = inboundRouteConfigurations(session, goldenPlan('bookstore-permissive', 'bookstore/bookstore')) as J[];
  const [route] = config.virtual_hosts[0].routes;
  assert.equal(route.match, { safe_regex: { regex: '.*' } });
  assert.equal(rbacPrincipals(route), ['*']);
});

test('inbound: methods ["*"] means any method; [] matches nothing; principals [] admits no one', () => {
  // `closed` is admitted only by a TrafficTarget whose one source is a Group: no principal.
  const nobody = target('bookstore', 'nobody', 'bookstore', ['bookbuyer/bookbuyer'], ['{kind: HTTPRouteGroup, name: closing}']).replace(
    'kind: ServiceAccount, name: bookbuyer',
    'kind: Group, name: bookbuyer',
  );
  const closing = group('  - {name: closed, pathRegex: /x}').replace('name: bookstore-service-routes', 'name: closing');
  const plan = bookstoreV1([nobody, closing], '  - {name: any, pathRegex: /x, methods: [GET, "*"]}\n  - {name: none, pathRegex: /x, methods: []}');
  const [config] = inboundRouteConfigurations(session, plan) as J[];
  const out = config.virtual_hosts[0].routes;
  assert.equal(out.map((r: J) => r.name), ['bookstore/bookstore-service-routes/any', 'bookstore/closing/closed']);
  assert.is(out[0].match.headers, undefined, 'no :method matcher for any method');
  assert.equal(out[1].typed_per_filter_config['envoy.filters.http.rbac'].rbac.rules, { action: 'ALLOW', policies: {} });
});

test.run();
