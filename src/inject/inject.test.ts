import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { ANNOTATION, BOOTSTRAP_VOLUME, ENVOY_CONTAINER, INIT_CONTAINER } from './constants.ts';
import { hasSidecar, injectTemplate, workloadOfPod, type InjectOptions } from './inject.ts';
import { iptablesRestoreInput, iptablesRules } from './iptables.ts';
import { applyPatch, jsonPatch } from './json-patch.ts';

const OPTIONS: InjectOptions = { envoyImage: 'envoyproxy/envoy:v1.40.0', initImage: 'openservicemesh/init:v1.2.0', xdsAddress: 'smi-compile.smi-system.svc', xdsPort: 15128, trustDomain: 'cluster.local', meshName: 'osm' };
const TARGET = { namespace: 'bookstore', workload: 'bookstore-v1' };

function template(annotations: Record<string, string> = {}): any {
  return {
    metadata: { labels: { app: 'bookstore' }, annotations },
    spec: {
      serviceAccountName: 'bookstore',
      containers: [
        {
          name: 'app',
          image: 'bookstore:v1',
          ports: [{ name: 'web', containerPort: 14001 }],
          livenessProbe: { httpGet: { path: '/healthz', port: 'web' }, timeoutSeconds: 2 },
          readinessProbe: { httpGet: { path: '/ready', port: 14001, scheme: 'HTTPS' } },
          startupProbe: { tcpSocket: { port: 14001 } },
        },
      ],
    },
  };
}

function injected(t: any, options = OPTIONS): any {
  const r = injectTemplate(t, TARGET, options);
  if (r.outcome !== 'injected') throw new Error(JSON.stringify(r));
  return r.template;
}

test('OSM v1.2 rules: outbound to 15001 but uid 1500, inbound to 15003 but 15010 and the probe ports', () => {
  const rules = iptablesRules();
  assert.ok(rules.includes('-A OSM_PROXY_OUT_REDIRECT -p tcp -j REDIRECT --to-port 15001'));
  assert.ok(rules.includes('-A OSM_PROXY_IN_REDIRECT -p tcp -j REDIRECT --to-port 15003'));
  assert.ok(rules.includes('-A OSM_PROXY_OUTBOUND -m owner --uid-owner 1500 -j RETURN'));
  assert.ok(rules.includes('-A OSM_PROXY_OUT_REDIRECT -p tcp --dport 15000 -j ACCEPT'));
  for (const p of [15010, 15901, 15902, 15903, 15904]) assert.ok(rules.includes(`-A OSM_PROXY_INBOUND -p tcp --dport ${p} -j RETURN`), String(p));
  assert.is(rules[rules.length - 1], '-A OSM_PROXY_OUTBOUND -j OSM_PROXY_OUT_REDIRECT');
  const text = iptablesRestoreInput();
  assert.match(text, /^# OSM sidecar interception rules\n\*nat\n:OSM_PROXY_INBOUND - \[0:0\]\n/);
  assert.match(text, /\nCOMMIT\n$/);
});

test('exclusion annotations become the rules OSM writes for them', () => {
  const t = injected(
    template({
      [ANNOTATION.outboundPorts]: '6379, 5432',
      [ANNOTATION.inboundPorts]: '9090',
      [ANNOTATION.outboundIpRanges]: '10.0.0.0/8,192.168.1.1/32',
      [ANNOTATION.outboundIpRangesIncluded]: '10.96.0.0/12',
    }),
  );
  const script: string = t.spec.initContainers[0].args[1];
  assert.ok(script.includes('-I OSM_PROXY_INBOUND -p tcp --match multiport --dports 9090 -j RETURN\n'));
  assert.ok(script.includes('-A OSM_PROXY_OUTBOUND -p tcp --match multiport --dports 6379,5432 -j RETURN\n'));
  assert.ok(script.includes('-A OSM_PROXY_OUTBOUND -d 10.0.0.0/8 -j RETURN\n-A OSM_PROXY_OUTBOUND -d 192.168.1.1/32 -j RETURN\n'));
  assert.ok(script.includes('-A OSM_PROXY_OUTBOUND -d 10.96.0.0/12 -j OSM_PROXY_OUT_REDIRECT\n-A OSM_PROXY_OUTBOUND -j RETURN\nCOMMIT\n'));
});

test('a bad annotation value is a problem naming the annotation, not a silent default', () => {
  const r = injectTemplate(template({ [ANNOTATION.outboundPorts]: '80,http' }), TARGET, OPTIONS);
  assert.is(r.outcome, 'invalid');
  assert.equal((r as any).problems[0].annotation, ANNOTATION.outboundPorts);
  assert.is(injectTemplate(template({ [ANNOTATION.outboundIpRanges]: '10.0.0.0' }), TARGET, OPTIONS).outcome, 'invalid');
  assert.is(injectTemplate(template({ [ANNOTATION.injection]: 'maybe' }), TARGET, OPTIONS).outcome, 'invalid');
});

test('sidecar, init container, emptyDir for the bootstrap; node id <namespace>/<workload>; prometheus annotations', () => {
  const t = injected(template());
  assert.equal(t.spec.containers.map((c: any) => c.name), ['app', ENVOY_CONTAINER]);
  assert.equal(t.spec.initContainers.map((c: any) => c.name), [INIT_CONTAINER]);
  assert.equal(t.spec.volumes, [{ name: BOOTSTRAP_VOLUME, emptyDir: {} }]);
  const envoy = t.spec.containers[1];
  assert.is(envoy.securityContext.runAsUser, 1500);
  assert.is(envoy.image, 'envoyproxy/envoy:v1.40.0');
  const bootstrap = parse(t.spec.initContainers[0].env[0].value);
  assert.is(bootstrap.node.id, 'bookstore/bookstore-v1');
  assert.is(t.metadata.annotations['prometheus.io/scrape'], 'true');
  assert.is(t.metadata.annotations['prometheus.io/port'], '15010');
  assert.is(t.metadata.annotations['prometheus.io/path'], '/stats/prometheus');
});

test('HTTP probes go to Envoy on its probe ports and paths; the bootstrap forwards them to the original port and path', () => {
  const t = injected(template());
  const app = t.spec.containers[0];
  assert.equal(app.livenessProbe.httpGet, { path: '/osm-liveness-probe', port: 15901 });
  assert.equal(app.readinessProbe.httpGet, { path: '/ready', port: 15902, scheme: 'HTTPS' });
  assert.equal(app.startupProbe, { tcpSocket: { port: 14001 } }, 'TCP probes are left alone');
  const bootstrap = parse(t.spec.initContainers[0].env[0].value);
  const listeners = bootstrap.static_resources.listeners;
  assert.equal(listeners.map((l: any) => [l.name, l.address.socket_address.port_value]), [['liveness_listener', 15901], ['readiness_listener', 15902]]);
  const route = listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0];
  assert.equal(route, { match: { prefix: '/osm-liveness-probe' }, route: { cluster: 'liveness_cluster', prefix_rewrite: '/healthz', timeout: '2s' } });
  const clusters = bootstrap.static_resources.clusters.map((c: any) => [c.name, c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value]);
  assert.equal(clusters.slice(1), [['liveness_cluster', 14001], ['readiness_cluster', 14001]]);
  assert.equal(t.spec.containers[1].ports.map((p: any) => p.containerPort), [15000, 15003, 15010, 15901, 15902]);
});

test('with a trust bundle: mTLS to the control plane, the certificate from the service account\'s Secret', () => {
  const t = injected(template(), { ...OPTIONS, trustBundle: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' });
  assert.equal(t.spec.volumes[1], { name: 'envoy-xds-cert', secret: { secretName: 'envoy-xds-cert-bookstore' } });
  const bootstrap = parse(t.spec.initContainers[0].env[0].value);
  const tls = bootstrap.static_resources.clusters[0].transport_socket.typed_config.common_tls_context;
  assert.equal(tls.tls_certificates[0], { certificate_chain: { filename: '/etc/envoy-tls/tls.crt' }, private_key: { filename: '/etc/envoy-tls/tls.key' } });
  assert.is(tls.validation_context.match_typed_subject_alt_names[0].matcher.exact, 'spiffe://cluster.local/ns/smi-system/sa/smi-compile');
});

test('opt-out, unmonitored namespace, hostNetwork and an injected pod are left alone; injection is idempotent', () => {
  assert.is(injectTemplate(template({ [ANNOTATION.injection]: 'disabled' }), TARGET, OPTIONS).outcome, 'skipped');
  assert.is(injectTemplate(template(), TARGET, OPTIONS, { labels: {} }).outcome, 'skipped');
  assert.is(injectTemplate(template(), TARGET, OPTIONS, { labels: { 'openservicemesh.io/monitor': 'other' } }).outcome, 'skipped');
  assert.is(injectTemplate(template(), TARGET, OPTIONS, { labels: { 'openservicemesh.io/monitor': 'osm' } }).outcome, 'injected');
  assert.is(injectTemplate(template(), TARGET, OPTIONS, { labels: { 'openservicemesh.io/monitor': 'osm' }, annotations: { [ANNOTATION.injection]: 'disabled' } }).outcome, 'skipped');
  assert.is(injectTemplate(template({ [ANNOTATION.injection]: 'enabled' }), TARGET, OPTIONS, { labels: { 'openservicemesh.io/monitor': 'osm' }, annotations: { [ANNOTATION.injection]: 'disabled' } }).outcome, 'injected');
  const host = template();
  host.spec.hostNetwork = true;
  assert.is(injectTemplate(host, TARGET, OPTIONS).outcome, 'skipped');
  const once = injected(template());
  assert.ok(hasSidecar(once.spec));
  assert.equal(injectTemplate(once, TARGET, OPTIONS), { outcome: 'skipped', reason: 'it already has the sidecar' });
});

test('the input is not modified, and the output is a function of the input', () => {
  const t = template();
  const before = JSON.stringify(t);
  const a = JSON.stringify(injected(t));
  assert.is(JSON.stringify(t), before);
  assert.is(JSON.stringify(injected(template())), a);
});

test('a JSON patch from the pod to the injected pod reproduces it', () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'bookstore' }, ...template() };
  const t = injected(pod);
  const after = { ...pod, metadata: t.metadata, spec: t.spec };
  const ops = jsonPatch(pod, after);
  assert.equal(applyPatch(pod, ops), after);
  assert.ok(ops.every((o) => o.path.startsWith('/metadata/annotations') || o.path.startsWith('/spec/')), JSON.stringify(ops.map((o) => o.path)));
  assert.equal(jsonPatch({ a: { 'x/y~': 1 } }, { a: {} }), [{ op: 'remove', path: '/a/x~1y~0' }]);
});

test('the workload of a pod: its Deployment through the ReplicaSet, else its controller, else itself', () => {
  assert.is(workloadOfPod({ name: 'web-7d9f-abc', labels: { 'pod-template-hash': '7d9f' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'web-7d9f', controller: true }] }), 'web');
  assert.is(workloadOfPod({ name: 'db-0', ownerReferences: [{ kind: 'StatefulSet', name: 'db', controller: true }] }), 'db');
  assert.is(workloadOfPod({ name: 'rs-x', ownerReferences: [{ kind: 'ReplicaSet', name: 'rs', controller: true }] }), 'rs');
  assert.is(workloadOfPod({ name: 'solo' }), 'solo');
});

test.run();
