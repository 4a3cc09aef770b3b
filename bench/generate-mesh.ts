/**
 * A deterministic synthetic mesh: Kubernetes + SMI manifests shaped like OSM's own samples
 * (../shared/corpus/osm-docs), at any size. Same arguments → same bytes.
 *
 *   npx tsx bench/generate-mesh.ts --services 1000 [--permissive] [--namespaces 50]
 *       [--callers 3] [--seed 1] --out DIR
 *
 * Per service `s` in namespace `ns`:
 *   - ServiceAccount `s`
 *   - Service `s` (ports named with protocol prefixes; ~15% gRPC, half of those through
 *     `appProtocol: grpc`; ~5% TCP, some server-first; a ClusterIP from 10.96.0.0/12)
 *   - Deployment `s` (serviceAccountName, labels app/version, containerPorts)
 *   - EndpointSlice `s-xxxxx` (discovery.k8s.io/v1, 2–3 ready pods from 10.244.0.0/16)
 *   - HTTPRouteGroup `s-routes` (specs.smi-spec.io/v1alpha4: pathRegex, methods, headers),
 *     or a TCPRoute `s-tcp` for TCP services
 *   - TrafficTarget `s` (access.smi-spec.io/v1alpha3) admitting `callersPerService` other
 *     services' ServiceAccounts, chosen deterministically (about half from the same namespace)
 * Every tenth service is a canary, as in osm-docs/samples/canary: Deployments `s-v1` and
 * `s-v2` instead of `s`, backend Services `s-v1`/`s-v2` with their EndpointSlices, and a
 * TrafficSplit `s-split` (split.smi-spec.io/v1alpha2) sending 90/10.
 * `permissive` adds OSM's MeshConfig (config.openservicemesh.io/v1alpha2) with
 * `spec.traffic.enablePermissiveTrafficPolicyMode: true`, in `osm-system.yaml`.
 *
 * One multi-document YAML file per namespace, `<ns>.yaml`, documents in a stable order.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';

export interface GenerateMeshOptions {
  readonly services: number;
  /** Defaults to about services/20 (at least 1). */
  readonly namespaces?: number;
  readonly permissive: boolean;
  /** ServiceAccounts admitted by each service's TrafficTarget (default 3). */
  readonly callersPerService?: number;
  readonly seed?: number;
}

export interface GeneratedFile {
  readonly path: string;
  readonly text: string;
}

export interface GeneratedMesh {
  readonly files: GeneratedFile[];
}

type Doc = Record<string, unknown>;

/** mulberry32: small, fast, good enough for shaping test data, and identical everywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  'orders', 'payments', 'catalog', 'cart', 'checkout', 'inventory', 'shipping', 'users',
  'auth', 'search', 'reviews', 'recommend', 'pricing', 'billing', 'notify', 'ledger',
  'profile', 'media', 'reports', 'quotes', 'fraud', 'loyalty', 'tax', 'audit',
];
const TEAMS = ['shop', 'core', 'data', 'edge', 'growth', 'risk', 'ops', 'ml'];
const ALNUM = 'bcdfghjklmnpqrstvwxz2456789';

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function ipv4(base: number, offset: number): string {
  const n = (base + offset) >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
const CLUSTER_IP_BASE = (10 << 24) | (96 << 16); // 10.96.0.0/12
const CLUSTER_IP_SIZE = 1 << 20;
const POD_IP_BASE = (10 << 24) | (244 << 16); // 10.244.0.0/16 (then on into 10.245/16, …)

type Proto = 'http' | 'grpc' | 'tcp';

interface PortSpec {
  /** Service port. */
  readonly port: number;
  readonly name: string;
  readonly appProtocol?: string;
  /** As written in the Service; undefined = same as port. */
  readonly targetPort?: number | string;
  /** What the container actually listens on. */
  readonly containerPort: number;
  readonly containerPortName: string;
}

interface ServicePlan {
  readonly index: number;
  readonly name: string;
  readonly namespace: string;
  readonly proto: Proto;
  readonly ports: readonly PortSpec[];
  readonly canary: boolean;
}

export function generateMesh(options: GenerateMeshOptions): GeneratedMesh {
  const services = Math.floor(options.services);
  if (!(services >= 1)) throw new Error('services must be at least 1');
  const nsCount = Math.max(1, Math.min(services, Math.floor(options.namespaces ?? Math.round(services / 20)) || 1));
  const callers = Math.max(0, Math.min(services - 1, options.callersPerService ?? 3));
  const rand = prng(options.seed ?? 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const suffix = (n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += ALNUM[Math.floor(rand() * ALNUM.length)];
    return s;
  };

  const nsWidth = String(nsCount).length;
  const svcWidth = String(services).length;
  const namespaces = Array.from({ length: nsCount }, (_, i) => `${TEAMS[i % TEAMS.length]}-${pad(i, nsWidth)}`);

  // ── plan every service first, so callers can be chosen among all of them ──
  const plans: ServicePlan[] = [];
  for (let i = 0; i < services; i++) {
    const namespace = namespaces[i % nsCount];
    const name = `${WORDS[i % WORDS.length]}-${pad(i, svcWidth)}`;
    const r = rand();
    let proto: Proto;
    const ports: PortSpec[] = [];
    if (r < 0.05) {
      proto = 'tcp';
      if (rand() < 0.4) {
        ports.push({ port: 3306, name: 'tcp-server-first-mysql', containerPort: 3306, containerPortName: 'mysql' });
      } else {
        const p = pick([5432, 6379, 9000]);
        ports.push({ port: p, name: 'tcp', appProtocol: 'tcp', containerPort: p, containerPortName: 'tcp' });
      }
    } else if (r < 0.2) {
      proto = 'grpc';
      if (rand() < 0.5) ports.push({ port: 9090, name: 'api', appProtocol: 'grpc', containerPort: 9090, containerPortName: 'grpc' });
      else ports.push({ port: 9090, name: 'grpc-api', targetPort: 'grpc', containerPort: 9090, containerPortName: 'grpc' });
    } else {
      proto = 'http';
      const t = rand();
      if (t < 0.6) ports.push({ port: 80, name: 'http-web', targetPort: 8080, containerPort: 8080, containerPortName: 'http' });
      else if (t < 0.8) ports.push({ port: 80, name: 'http', targetPort: 'http', containerPort: 8080, containerPortName: 'http' });
      else ports.push({ port: 8080, name: `${name}-port`, containerPort: 8080, containerPortName: 'web' }); // no prefix: OSM's http default
      if (rand() < 0.3) ports.push({ port: 8081, name: 'http-admin', targetPort: 8081, containerPort: 8081, containerPortName: 'admin' });
    }
    plans.push({ index: i, name, namespace, proto, ports, canary: (i + 1) % 10 === 0 });
  }
  const byNamespace = new Map<string, ServicePlan[]>(namespaces.map((n) => [n, []]));
  for (const p of plans) byNamespace.get(p.namespace)!.push(p);

  // ── addresses, handed out in service order ──
  let clusterIpNext = 10;
  const nextClusterIp = (): string => {
    if (clusterIpNext >= CLUSTER_IP_SIZE - 1) throw new Error('out of ClusterIPs in 10.96.0.0/12');
    return ipv4(CLUSTER_IP_BASE, clusterIpNext++);
  };
  let podIpNext = 0;
  const nextPodIp = (): string => {
    // skip .0 and .255 in every /24 so addresses look like what a CNI hands out
    while ((podIpNext & 255) === 0 || (podIpNext & 255) === 255) podIpNext++;
    return ipv4(POD_IP_BASE, podIpNext++);
  };

  const docsByNs = new Map<string, Doc[]>(namespaces.map((n) => [n, [namespaceDoc(n)]]));
  for (const s of plans) {
    const docs = docsByNs.get(s.namespace)!;
    const ns = s.namespace;
    const appLabels = { app: s.name };
    docs.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: s.name, namespace: ns } });
    docs.push(serviceDoc(s.name, ns, { app: s.name }, s.ports, nextClusterIp(), appLabels));

    type Deploy = { name: string; version: string; replicas: number; ips: string[]; pods: string[] };
    const deploys: Deploy[] = [];
    const versions = s.canary ? [['v1', 2], ['v2', 1]] as const : [['v1', 2 + Math.floor(rand() * 2)]] as const;
    for (const [version, replicas] of versions) {
      const dname = s.canary ? `${s.name}-${version}` : s.name;
      const rs = suffix(10);
      const pods = Array.from({ length: replicas }, () => `${dname}-${rs}-${suffix(5)}`);
      const ips = pods.map(() => nextPodIp());
      deploys.push({ name: dname, version, replicas, ips, pods });
      docs.push(deploymentDoc(dname, ns, s.name, version, replicas, s.ports, rand));
    }
    const all = deploys.flatMap((d) => d.ips.map((ip, k) => ({ ip, pod: d.pods[k] })));
    docs.push(endpointSliceDoc(s.name, `${s.name}-${suffix(5)}`, ns, s.ports, all, rand));
    if (s.canary) {
      for (const d of deploys) {
        docs.push(serviceDoc(d.name, ns, { app: s.name, version: d.version }, s.ports, nextClusterIp(), { app: s.name, version: d.version }));
        docs.push(endpointSliceDoc(d.name, `${d.name}-${suffix(5)}`, ns, s.ports, d.ips.map((ip, k) => ({ ip, pod: d.pods[k] })), rand));
      }
    }

    // ── SMI: routes, access, split ──
    let rule: Doc;
    if (s.proto === 'tcp') {
      docs.push({
        apiVersion: 'specs.smi-spec.io/v1alpha4',
        kind: 'TCPRoute',
        metadata: { name: `${s.name}-tcp`, namespace: ns },
        spec: { matches: { ports: s.ports.map((p) => p.port) } },
      });
      rule = { kind: 'TCPRoute', name: `${s.name}-tcp` };
    } else {
      const matches = s.proto === 'grpc' ? grpcMatches(s.name, rand) : httpMatches(s.name, rand);
      docs.push({
        apiVersion: 'specs.smi-spec.io/v1alpha4',
        kind: 'HTTPRouteGroup',
        metadata: { name: `${s.name}-routes`, namespace: ns },
        spec: { matches },
      });
      // most targets name the matches they admit; some admit a subset, as in osm-docs/access
      const names = matches.map((m) => m.name as string);
      const admitted = rand() < 0.25 && names.length > 1 ? names.slice(0, names.length - 1) : names;
      rule = { kind: 'HTTPRouteGroup', name: `${s.name}-routes`, matches: admitted };
    }
    if (callers > 0) {
      const sources = chooseCallers(s, plans, byNamespace, callers, rand).map((c) => ({
        kind: 'ServiceAccount',
        name: c.name,
        namespace: c.namespace,
      }));
      docs.push({
        kind: 'TrafficTarget',
        apiVersion: 'access.smi-spec.io/v1alpha3',
        metadata: { name: s.name, namespace: ns },
        spec: {
          destination: { kind: 'ServiceAccount', name: s.name, namespace: ns },
          rules: [rule],
          sources,
        },
      });
    }
    if (s.canary) {
      docs.push({
        apiVersion: 'split.smi-spec.io/v1alpha2',
        kind: 'TrafficSplit',
        metadata: { name: `${s.name}-split`, namespace: ns },
        spec: {
          // both forms OSM accepts for the root service
          service: rand() < 0.5 ? `${s.name}.${ns}` : s.name,
          backends: [
            { service: `${s.name}-v1`, weight: 90 },
            { service: `${s.name}-v2`, weight: 10 },
          ],
        },
      });
    }
  }

  const files: GeneratedFile[] = namespaces.map((ns) => ({ path: `${ns}.yaml`, text: toYaml(docsByNs.get(ns)!) }));
  if (options.permissive) files.push({ path: 'osm-system.yaml', text: toYaml([meshConfigDoc()]) });
  return { files };
}

function toYaml(docs: readonly Doc[]): string {
  return docs.map((d) => stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}

function namespaceDoc(name: string): Doc {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'openservicemesh.io/monitored-by': 'osm' } },
  };
}

function serviceDoc(
  name: string,
  namespace: string,
  selector: Record<string, string>,
  ports: readonly PortSpec[],
  clusterIP: string,
  labels: Record<string, string>,
): Doc {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels },
    spec: {
      type: 'ClusterIP',
      clusterIP,
      clusterIPs: [clusterIP],
      ports: ports.map((p) => ({
        name: p.name,
        port: p.port,
        ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}),
        protocol: 'TCP',
        ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
      })),
      selector,
    },
  };
}

function deploymentDoc(
  name: string,
  namespace: string,
  app: string,
  version: string,
  replicas: number,
  ports: readonly PortSpec[],
  rand: () => number,
): Doc {
  const labels = { app, version };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: app,
          nodeSelector: { 'kubernetes.io/arch': 'amd64', 'kubernetes.io/os': 'linux' },
          containers: [
            {
              name: app,
              image: `registry.example.com/${app.replace(/-\d+$/, '')}:1.${Math.floor(rand() * 20)}.${Math.floor(rand() * 10)}`,
              imagePullPolicy: 'IfNotPresent',
              ports: ports.map((p) => ({ name: p.containerPortName, containerPort: p.containerPort, protocol: 'TCP' })),
              resources: { requests: { cpu: '100m', memory: '128Mi' } },
            },
          ],
        },
      },
    },
  };
}

function endpointSliceDoc(
  service: string,
  name: string,
  namespace: string,
  ports: readonly PortSpec[],
  pods: readonly { ip: string; pod: string }[],
  rand: () => number,
): Doc {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace,
      labels: {
        'kubernetes.io/service-name': service,
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      },
    },
    addressType: 'IPv4',
    endpoints: pods.map(({ ip, pod }) => ({
      addresses: [ip],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: `node-${Math.floor(rand() * 16)}`,
      targetRef: { kind: 'Pod', name: pod, namespace },
    })),
    ports: ports.map((p) => ({
      name: p.name,
      port: p.containerPort,
      protocol: 'TCP',
      ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
    })),
  };
}

const RESOURCES = ['items', 'orders', 'accounts', 'events', 'records', 'sessions'];

function httpMatches(service: string, rand: () => number): Doc[] {
  const res = RESOURCES[Math.floor(rand() * RESOURCES.length)];
  const all: Doc[] = [
    { name: `list-${res}`, pathRegex: `/api/v1/${res}`, methods: ['GET'] },
    { name: `get-${res}`, pathRegex: `/api/v1/${res}/[^/]+`, methods: ['GET', 'HEAD'] },
    {
      name: `create-${res}`,
      pathRegex: `/api/v1/${res}`,
      methods: ['POST'],
      headers: [{ 'content-type': 'application/json.*' }],
    },
    { name: 'admin', pathRegex: '/admin/.*', methods: ['*'], headers: [{ 'x-role': 'admin' }, { 'user-agent': '.*-client/.*' }] },
    { name: 'health', pathRegex: '/healthz', methods: ['GET'] },
  ];
  const n = 2 + Math.floor(rand() * 3); // 2–4
  const start = Math.floor(rand() * all.length);
  const out: Doc[] = [];
  for (let k = 0; k < n; k++) out.push(all[(start + k) % all.length]);
  void service;
  return out;
}

function grpcMatches(service: string, rand: () => number): Doc[] {
  const word = service.replace(/-\d+$/, '');
  const svc = `${word}.v1.${word[0].toUpperCase()}${word.slice(1)}Service`;
  const methods = ['Get', 'List', 'Create', 'Update', 'Delete', 'Watch'];
  const n = 1 + Math.floor(rand() * 3); // 1–3 named RPCs, then the wildcard
  const start = Math.floor(rand() * methods.length);
  const out: Doc[] = [];
  for (let k = 0; k < n; k++) {
    const m = methods[(start + k) % methods.length];
    out.push({ name: `rpc-${m.toLowerCase()}`, pathRegex: `/${svc}/${m}`, methods: ['POST'] });
  }
  if (rand() < 0.5) out.push({ name: 'rpc-any', pathRegex: `/${svc}/.*`, methods: ['POST'], headers: [{ 'content-type': 'application/grpc.*' }] });
  return out;
}

function chooseCallers(
  s: ServicePlan,
  plans: readonly ServicePlan[],
  byNamespace: ReadonlyMap<string, readonly ServicePlan[]>,
  count: number,
  rand: () => number,
): ServicePlan[] {
  const chosen = new Set<number>();
  const local = byNamespace.get(s.namespace)!;
  let guard = 0;
  while (chosen.size < count && guard++ < count * 100) {
    const pool = rand() < 0.5 && local.length > 1 ? local : plans;
    const c = pool[Math.floor(rand() * pool.length)];
    if (c.index !== s.index) chosen.add(c.index);
  }
  // tiny meshes: fill in order so the count always holds
  for (let k = 0; chosen.size < count && k < plans.length; k++) if (k !== s.index) chosen.add(k);
  return [...chosen].sort((a, b) => a - b).map((k) => plans[k]);
}

function meshConfigDoc(): Doc {
  return {
    apiVersion: 'config.openservicemesh.io/v1alpha2',
    kind: 'MeshConfig',
    metadata: { name: 'osm-mesh-config', namespace: 'osm-system' },
    spec: {
      sidecar: { enablePrivilegedInitContainer: false, logLevel: 'error', maxDataPlaneConnections: 0, configResyncInterval: '0s' },
      traffic: { enableEgress: false, enablePermissiveTrafficPolicyMode: true },
      observability: { enableDebugServer: false, tracing: { enable: false } },
      certificate: { serviceCertValidityDuration: '24h', certKeyBitSize: 2048 },
    },
  };
}

/** Writes the files under `dir` (created if needed); returns the total bytes. */
export function writeMesh(mesh: GeneratedMesh, dir: string): number {
  mkdirSync(dir, { recursive: true });
  let bytes = 0;
  for (const f of mesh.files) {
    writeFileSync(join(dir, f.path), f.text);
    bytes += Buffer.byteLength(f.text);
  }
  return bytes;
}

// ── CLI ──────────────────────────────────────────────────────────────────────

function usage(): never {
  console.error('usage: npx tsx bench/generate-mesh.ts --services N [--permissive] [--namespaces N] [--callers N] [--seed N] --out DIR');
  process.exit(2);
}

function main(argv: string[]): void {
  let services: number | undefined;
  let namespaces: number | undefined;
  let callers: number | undefined;
  let seed: number | undefined;
  let out: string | undefined;
  let permissive = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) usage();
      return v;
    };
    if (a === '--services') services = num();
    else if (a === '--namespaces') namespaces = num();
    else if (a === '--callers') callers = num();
    else if (a === '--seed') seed = num();
    else if (a === '--permissive') permissive = true;
    else if (a === '--out') out = argv[++i];
    else usage();
  }
  if (!services || !out) usage();
  const t0 = performance.now();
  const mesh = generateMesh({ services, namespaces, permissive, callersPerService: callers, seed });
  const bytes = writeMesh(mesh, resolve(out));
  const docs = mesh.files.reduce((n, f) => n + f.text.split('\n---\n').length, 0);
  console.log(
    `${services} services, ${mesh.files.length} files, ${docs} documents, ${(bytes / 1e6).toFixed(2)} MB → ${out} (${Math.round(performance.now() - t0)} ms)`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main(process.argv.slice(2));
