import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { generateMesh, writeMesh } from '../../bench/generate-mesh.ts';
import type { ProxyConfig } from '../emit/types.ts';
import type { SourceObject } from '../parser/source.ts';
import { buildSnapshot } from '../serve/snapshot/snapshot.ts';
import { ResourceInterner } from '../serve/snapshot/interner.ts';
import { compilePaths, type CompileResult } from './compile.ts';
import { CompileMemo } from './compile-memo.ts';

const SEED = Number(process.env.FC_SEED ?? 20261207);
const RUNS = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : undefined;
const options = { protoCheck: false, stableObjects: true } as const;

type Doc = Record<string, any>;

/** The generated mesh as API objects (what serve --kubernetes hands the compiler), two of its services made headless. */
function meshObjects(): SourceObject[] {
  const objects: SourceObject[] = [];
  for (const f of generateMesh({ services: 16, namespaces: 2, permissive: false, seed: 11 }).files) {
    for (const d of parseAllDocuments(f.text)) {
      const value = d.toJS() as Doc | null;
      if (value) objects.push(objectOf(value));
    }
  }
  let headless = 0;
  for (const [i, o] of objects.entries()) {
    if (o.value.kind !== 'Service' || headless >= 2 || !objects.some((s) => s.value.kind === 'EndpointSlice' && serviceOf(s.value as Doc) === key(o.value as Doc))) continue;
    const v = structuredClone(o.value) as Doc;
    v.spec.clusterIP = 'None';
    v.spec.clusterIPs = ['None'];
    objects[i] = objectOf(v);
    headless++;
  }
  assert.is(headless, 2);
  return objects;
}

const objectOf = (value: Doc): SourceObject => ({ ref: `${value.kind} ${value.metadata.namespace ?? ''}/${value.metadata.name}`, value });
const key = (v: Doc): string => `${v.metadata.namespace}/${v.metadata.name}`;
const serviceOf = (v: Doc): string => `${v.metadata.namespace}/${v.metadata.labels['kubernetes.io/service-name']}`;

type Edit =
  | { kind: 'add-ip' | 'drop-ip' | 'not-ready' | 'delete'; slice: number; n: number }
  | { kind: 'create' | 'move'; slice: number; service: number; n: number }
  | { kind: 'duplicate'; slice: number; n: number }
  | { kind: 'service-toggle'; service: number; n: number };

const nat = fc.nat({ max: 1000 });
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constantFrom('add-ip' as const, 'drop-ip' as const, 'not-ready' as const, 'delete' as const), slice: nat, n: nat }),
  fc.record({ kind: fc.constantFrom('create' as const, 'move' as const), slice: nat, service: nat, n: nat }),
  fc.record({ kind: fc.constant('duplicate' as const), slice: nat, n: nat }),
  fc.record({ kind: fc.constant('service-toggle' as const), service: nat, n: nat }),
);

/** The mesh as the cluster holds it: objects, with Services that can be taken away and given back. */
class Cluster {
  objects: SourceObject[];
  private readonly services: Doc[];
  private readonly removed = new Map<string, SourceObject>();
  constructor(objects: SourceObject[]) {
    this.objects = objects;
    this.services = objects.filter((o) => o.value.kind === 'Service').map((o) => o.value as Doc);
  }

  private slices(): number[] {
    return this.objects.flatMap((o, i) => (o.value.kind === 'EndpointSlice' ? [i] : []));
  }

  /** A service name to point a slice at: one of the mesh's, or one nobody defines. */
  private serviceName(n: number, namespace: string): string {
    const candidates = this.services.filter((s) => s.metadata.namespace === namespace).map((s) => s.metadata.name as string);
    return n % (candidates.length + 1) === candidates.length ? 'ghost' : candidates[n % (candidates.length + 1)];
  }

  /** A new slice goes after the last one, as the informers' sorted list would put a new name. */
  private insert(value: Doc): void {
    const slices = this.slices();
    this.objects.splice((slices.at(-1) ?? this.objects.length - 1) + 1, 0, objectOf(value));
  }

  /** Applies an edit; answers whether it changed endpoint sets only (the endpoint path's case, headless aside). */
  apply(e: Edit): { endpointsOnly: boolean; changedSlices: Doc[] } {
    const ip = `10.250.${(e.n >> 8) & 3}.${e.n & 255}`;
    if (e.kind === 'service-toggle') {
      const svc = this.services[e.service % this.services.length];
      const k = key(svc);
      const at = this.objects.findIndex((o) => o.value.kind === 'Service' && key(o.value as Doc) === k);
      if (at >= 0) {
        this.removed.set(k, this.objects.splice(at, 1)[0]);
      } else {
        this.objects.splice(this.objects.findIndex((o) => o.value.kind === 'Service') + 1, 0, this.removed.get(k)!);
        this.removed.delete(k);
      }
      return { endpointsOnly: false, changedSlices: [] };
    }
    const slices = this.slices();
    // An edit that changes nothing leaves the input as it was: the endpoint path, trivially.
    if (slices.length === 0) return { endpointsOnly: true, changedSlices: [] };
    const i = slices[e.slice % slices.length];
    const old = this.objects[i].value as Doc;
    const v = structuredClone(old);
    switch (e.kind) {
      case 'add-ip':
        v.endpoints = [...(v.endpoints ?? []), { addresses: [ip], conditions: { ready: true } }];
        break;
      case 'drop-ip':
        v.endpoints = (v.endpoints ?? []).slice(0, -1); // down to none: the service loses its last endpoint
        break;
      case 'not-ready':
        if (v.endpoints?.[0]) v.endpoints[0].conditions = { ready: !(v.endpoints[0].conditions?.ready ?? true) };
        break;
      case 'delete':
        this.objects.splice(i, 1);
        return { endpointsOnly: true, changedSlices: [old] };
      case 'move':
        v.metadata.labels['kubernetes.io/service-name'] = this.serviceName(e.service, v.metadata.namespace);
        break;
      case 'create':
      case 'duplicate': {
        const fresh: Doc = {
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: {
            namespace: v.metadata.namespace,
            name: e.kind === 'duplicate' ? v.metadata.name : `extra-${e.n}`,
            labels: { 'kubernetes.io/service-name': e.kind === 'duplicate' ? v.metadata.labels['kubernetes.io/service-name'] : this.serviceName(e.service, v.metadata.namespace) },
          },
          addressType: 'IPv4',
          endpoints: [{ addresses: [ip], conditions: { ready: true } }],
          ports: v.ports,
        };
        if (this.objects.some((o) => o.value.kind === 'EndpointSlice' && key(o.value as Doc) === key(fresh) && e.kind === 'create')) return { endpointsOnly: true, changedSlices: [] };
        this.insert(fresh);
        return { endpointsOnly: true, changedSlices: [fresh] };
      }
    }
    this.objects[i] = objectOf(v);
    return { endpointsOnly: true, changedSlices: [old, v] };
  }

  /** True when the endpoint path must step aside for these slices: a headless service behind one, or a name defined twice. */
  needsPasses(before: readonly SourceObject[], changed: readonly Doc[]): boolean {
    const headless = new Set(this.objects.filter((o) => o.value.kind === 'Service' && (o.value as Doc).spec.clusterIP === 'None').map((o) => key(o.value as Doc)));
    if (changed.some((s) => headless.has(serviceOf(s)))) return true;
    const count = (objects: readonly SourceObject[], k: string) => objects.filter((o) => o.value.kind === 'EndpointSlice' && key(o.value as Doc) === k).length;
    return changed.some((s) => count(before, key(s)) > 1 || count(this.objects, key(s)) > 1);
  }
}

const signature = (r: CompileResult): string => JSON.stringify([r.proxies, r.diagnostics, r.ok]);

/** The snapshot's versions and stats, built as the server builds it (`interner`: the one that served the one before). */
function versions(proxies: readonly ProxyConfig[], interner = new ResourceInterner()): unknown[] {
  const { snapshot } = buildSnapshot(proxies, interner);
  return [snapshot!.version, snapshot!.stats, ...[...snapshot!.proxies.values()].map((p) => `${p.nodeId} ${p.version}`)];
}

/** What a proxy has besides its ClusterLoadAssignments (JSON). */
const allButEds = (c: ProxyConfig): string => JSON.stringify({ ...c.resources, endpoints: undefined });

test('random endpoint edits: the endpoint path gives what a full compile gives, byte for byte and version for version, and changes only EDS', () => {
  let fast = 0;
  let full = 0;
  fc.assert(
    fc.property(fc.array(edit, { minLength: 1, maxLength: 6 }), (edits) => {
      const cluster = new Cluster(meshObjects());
      const memo = new CompileMemo();
      const interner = new ResourceInterner();
      let previous = compilePaths([], options, undefined, memo, cluster.objects);
      assert.ok(previous.ok, 'the generated mesh compiles');
      versions(previous.proxies, interner);
      for (const e of edits) {
        const before = [...cluster.objects];
        const { endpointsOnly, changedSlices } = cluster.apply(e);
        cluster.objects = [...cluster.objects];
        const taken = memo.endpointOnly;
        const incremental = compilePaths([], options, undefined, memo, cluster.objects);
        const fresh = compilePaths([], options, undefined, undefined, cluster.objects);
        assert.is(signature(incremental), signature(fresh), `after ${JSON.stringify(e)}`);
        assert.equal(versions(incremental.proxies, interner), versions(fresh.proxies), `versions after ${JSON.stringify(e)}`);
        const expectFast = endpointsOnly && !cluster.needsPasses(before, changedSlices);
        assert.is(memo.endpointOnly - taken, expectFast ? 1 : 0, `endpoint path taken for ${JSON.stringify(e)}`);
        if (expectFast) {
          fast++;
          const earlier = new Map(previous.proxies.map((p) => [p.nodeId, p]));
          for (const p of incremental.proxies) {
            const was = earlier.get(p.nodeId)!;
            if (p !== was) assert.is(allButEds(p), allButEds(was), `${p.nodeId}: only its EDS changed`);
          }
        } else {
          full++;
        }
        previous = incremental;
      }
    }),
    { seed: SEED, numRuns: RUNS ?? 25, endOnFailure: true },
  );
  assert.ok(fast > 20 && full > 10, `both paths exercised (endpoint path ${fast}, full ${full})`);
});

test('an EndpointSlice edited in a file under --watch takes the endpoint path; a Service edited in the same file does not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smi-endpoint-path-'));
  try {
    writeMesh(generateMesh({ services: 12, namespaces: 1, permissive: false, seed: 5 }), dir);
    // Each EndpointSlice in a file of its own, as a repository of manifests may keep them.
    const target = join(dir, 'slice.yaml');
    const slice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'extra', namespace: 'payments-1', labels: { 'kubernetes.io/service-name': '' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.250.0.1'], conditions: { ready: true } }],
    };
    const memo = new CompileMemo();
    const check = (what: string): CompileResult => {
      const incremental = compilePaths([dir], options, undefined, memo);
      assert.is(signature(incremental), signature(compilePaths([dir], options)), what);
      return incremental;
    };
    // A service some proxy calls: its cluster `ns/svc|port`.
    const clusters = check('first compile').proxies.flatMap((p) => p.resources.endpoints.map((c) => String((c as Doc).cluster_name)));
    assert.ok(clusters.length > 0);
    const [ns, svc] = clusters[0].split('|')[0].split('/');
    slice.metadata.namespace = ns;
    slice.metadata.labels['kubernetes.io/service-name'] = svc;
    writeFileSync(target, JSON.stringify(slice));
    check('slice added');
    const taken = memo.endpointOnly;
    slice.endpoints.push({ addresses: ['10.250.0.2'], conditions: { ready: true } });
    writeFileSync(target, JSON.stringify(slice));
    const after = check('slice edited');
    assert.is(memo.endpointOnly, taken + 1, 'the endpoint path');
    assert.ok(after.proxies.some((p) => JSON.stringify(p.resources.endpoints).includes('10.250.0.2')), 'a caller has the new endpoint');
    writeFileSync(target, `${readFileSync(target, 'utf8')}\n---\n${JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'x', namespace: ns } })}`);
    check('a ServiceAccount in the same file');
    assert.is(memo.endpointOnly, taken + 1, 'the full path');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
