import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import type { Mesh, Origin, Service, Workload } from '../ir/types.ts';
import { bind, selects } from './bind.ts';
import { passContext } from './context.ts';

const ORIGIN: Origin = { from: 'text', file: 'test.yaml', document: '', line: 1, prefix: [] };

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMESPACES = ['a', 'b', 'c'];
const LABELS: Record<string, string[]> = { app: ['x', 'y', 'z'], tier: ['web', 'db'], 'version=': ['1', '2'], v: ['1', '=2'] };

function labels(next: () => number, most: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, values] of Object.entries(LABELS)) if (next() < most) out[key] = values[Math.floor(next() * values.length)];
  return out;
}

function workload(next: () => number, i: number): Workload {
  return {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    meta: { name: `w${i}`, namespace: NAMESPACES[Math.floor(next() * NAMESPACES.length)], labels: {}, annotations: {} },
    origin: ORIGIN,
    serviceAccount: 'default',
    podLabels: labels(next, 0.7),
    containerPorts: [],
  } as unknown as Workload;
}

function service(next: () => number, i: number): Service {
  const r = next();
  return {
    kind: 'Service',
    apiVersion: 'v1',
    meta: { name: `s${i}`, namespace: NAMESPACES[Math.floor(next() * NAMESPACES.length)], labels: {}, annotations: {} },
    origin: ORIGIN,
    selector: r < 0.1 ? undefined : r < 0.2 ? {} : labels(next, 0.4),
    ports: [],
    headless: false,
  } as unknown as Service;
}

test('a service selects exactly the workloads of its namespace its whole selector matches, in workload order (the label index agrees with testing every workload)', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const next = random(seed);
    const workloads = Array.from({ length: 1 + Math.floor(next() * 30) }, (_, i) => workload(next, i));
    const services = Array.from({ length: 1 + Math.floor(next() * 20) }, (_, i) => service(next, i));
    const mesh = { workloads, services, serviceAccounts: [], endpointSets: [] } as unknown as Mesh;
    const { bindings } = bind(mesh, passContext(new DiagnosticBag(), {}));
    for (const svc of services) {
      const expected = bindings.workloads.filter((w) => w.meta.namespace === svc.meta.namespace && selects(svc.selector, w.podLabels));
      const got = bindings.services.get(`${svc.meta.namespace}/${svc.meta.name}`)?.workloads;
      assert.equal(got?.map((w) => w.meta.name), expected.map((w) => w.meta.name), `seed ${seed}, service ${svc.meta.namespace}/${svc.meta.name}`);
    }
  }
});

test.run();
