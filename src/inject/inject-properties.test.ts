/**
 * Properties of the injector over generated pod templates (fast-check, fixed seed; FC_SEED and
 * FC_RUNS explore): the webhook's patch rebuilds exactly the offline result, injecting is
 * idempotent, the app's containers keep their order and everything but the rewritten probe
 * fields, and the iptables text holds each excluded port and range once.
 */
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ANNOTATION } from './constants.ts';
import { injectTemplate, type InjectOptions } from './inject.ts';
import { applyPatch, jsonPatch } from './json-patch.ts';

const SEED = Number(process.env.FC_SEED ?? 1808);
const RUNS = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : 150;
const OPTIONS: InjectOptions = { envoyImage: 'envoy', initImage: 'init', xdsAddress: 'cp', xdsPort: 15128, trustDomain: 'cluster.local', meshName: 'osm' };

const port = fc.integer({ min: 1, max: 65535 });
const probe = fc.option(
  fc.oneof(
    fc.record({ httpGet: fc.record({ path: fc.constantFrom('/', '/healthz', '/a/b?c=1'), port, scheme: fc.constantFrom('HTTP', 'HTTPS') }) }),
    fc.record({ tcpSocket: fc.record({ port }) }),
    fc.record({ exec: fc.record({ command: fc.constant(['true']) }) }),
  ),
  { nil: undefined },
);
const container = fc.record(
  { name: fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), image: fc.constant('app:1'), livenessProbe: probe, readinessProbe: probe, startupProbe: probe },
  { requiredKeys: ['name', 'image'] },
);
const template = fc.record({
  metadata: fc.record({
    labels: fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.stringMatching(/^[a-z0-9]{0,6}$/), { maxKeys: 3 }),
    annotations: fc.record(
      {
        [ANNOTATION.outboundPorts]: fc.array(port, { maxLength: 4 }).map((a) => a.join(', ')),
        [ANNOTATION.inboundPorts]: fc.array(port, { minLength: 1, maxLength: 4 }).map((a) => a.join(',')),
        [ANNOTATION.outboundIpRanges]: fc.array(fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([ip, b]) => `${ip}/${b}`), { minLength: 1, maxLength: 3 }).map((a) => a.join(',')),
      },
      { requiredKeys: [] },
    ),
  }),
  spec: fc.record({ serviceAccountName: fc.constantFrom('default', 'web'), containers: fc.array(container, { minLength: 1, maxLength: 3 }) }),
});

const strip = (c: any): any => {
  const out = { ...c };
  for (const p of ['livenessProbe', 'readinessProbe', 'startupProbe']) if (out[p]?.httpGet) out[p] = { ...out[p], httpGet: { scheme: out[p].httpGet.scheme } };
  return out;
};

test('patch == offline result; idempotent; app containers kept; exclusions in the rules once each', () => {
  fc.assert(
    fc.property(template, (generated) => {
      const t = JSON.parse(JSON.stringify(generated)); // as JSON from the API server or a YAML file (plain objects)
      const r = injectTemplate(t as any, { namespace: 'shop', workload: 'web' }, OPTIONS);
      if (r.outcome !== 'injected') {
        // Only an empty outbound port list is invalid here ("" is not a port), as OSM says.
        assert.is(r.outcome, 'invalid');
        assert.is((t.metadata.annotations as any)[ANNOTATION.outboundPorts], '');
        return;
      }
      const pod = { apiVersion: 'v1', kind: 'Pod', ...t };
      assert.equal(applyPatch(pod, jsonPatch(pod, { ...pod, ...r.template })), { ...pod, ...r.template });
      assert.equal(injectTemplate(r.template, { namespace: 'shop', workload: 'web' }, OPTIONS), { outcome: 'skipped', reason: 'it already has the sidecar' });
      const app = r.template.spec!.containers.slice(0, -1);
      assert.equal(app.map(strip), t.spec.containers.map(strip));
      const rules: string = r.template.spec!.initContainers.at(-1).args[1];
      for (const cidr of new Set(String((t.metadata.annotations as any)[ANNOTATION.outboundIpRanges] ?? '').split(',').filter(Boolean))) {
        assert.is(rules.split(`-A OSM_PROXY_OUTBOUND -d ${cidr} -j RETURN\n`).length, 2, cidr);
      }
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
});

test.run();
