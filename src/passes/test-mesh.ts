/**
 * Test support for the passes: a mesh from inline manifests, through the parser, the IR
 * builder and every pass, with the diagnostics they reported. Manifests are YAML documents;
 * `svc`, `deploy`, `target`, `routes` and `split` write the usual ones briefly.
 */
import { CATALOGUE } from '../diagnostics/catalogue.ts';
import { DiagnosticBag, type Diagnostic } from '../diagnostics/diagnostic.ts';
import { buildMesh } from '../ir/build/index.ts';
import type { Mesh } from '../ir/types.ts';
import { parseSources } from '../parser/parse.ts';
import { passContext } from './context.ts';
import { PassMemo, runPasses, type PlannedMesh } from './index.ts';

export interface Planned {
  readonly mesh: PlannedMesh;
  readonly diagnostics: readonly Diagnostic[];
  /** Diagnostic names (the catalogue's), in report order. */
  readonly names: readonly string[];
}

/** The manifests built into a Mesh (its build diagnostics are dropped: the tests here are about the passes). */
export function build(docs: readonly string[]): Mesh {
  const bag = new DiagnosticBag();
  return buildMesh(parseSources([{ path: 'mesh.yaml', text: docs.join('\n---\n') }], bag, { keepRefused: true }), bag, {});
}

/** The passes over these manifests (or a Mesh built from them, to plan the same objects again with a memo). */
export function plan(input: readonly string[] | Mesh, memo?: PassMemo): Planned {
  const bag = new DiagnosticBag();
  const mesh = runPasses(Array.isArray(input) ? build(input) : (input as Mesh), passContext(bag, {}), memo);
  return { mesh, diagnostics: bag.items, names: bag.items.map((d) => CATALOGUE.find((e) => e.code === d.code)?.name ?? d.code) };
}

export { PassMemo };

export const permissive = `apiVersion: config.openservicemesh.io/v1alpha2
kind: MeshConfig
metadata: {name: osm-mesh-config, namespace: osm-system}
spec: {traffic: {enablePermissiveTrafficPolicyMode: true}}`;

/** A Service selecting `app: <name>`; ports `80` or `80/tcp`, `5432/tcp:5433` (port/protocol:targetPort). */
export function svc(ns: string, name: string, ports: readonly string[], extra = ''): string {
  const list = ports.map((p) => {
    const [, port, proto, target] = /^(\d+)(?:\/(\w+))?(?::(\d+))?$/.exec(p)!;
    return `{name: ${proto ?? 'http'}-${port}, port: ${port}${target ? `, targetPort: ${target}` : ''}${proto === 'grpc' ? ', appProtocol: grpc' : ''}}`;
  });
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${ns}}
spec: {selector: {app: ${name}}, ports: [${list.join(', ')}]${extra}}`;
}

/** A Deployment labelled `app: <name>` running as service account `sa` (default: its name), and that account. */
export function deploy(ns: string, name: string, sa = name): string {
  return `apiVersion: v1
kind: ServiceAccount
metadata: {name: ${sa}, namespace: ${ns}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${ns}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {serviceAccountName: ${sa}, containers: [{name: app, image: app}]}`;
}

/** A TrafficTarget in `ns` to service account `dest`, from `ns/sa` sources, with rules given as YAML flow items. */
export function target(ns: string, name: string, dest: string, sources: readonly string[], rules: readonly string[]): string {
  const from = sources.map((s) => {
    const [sns, sa] = s.split('/');
    return `{kind: ServiceAccount, name: ${sa}, namespace: ${sns}}`;
  });
  return `apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: ${name}, namespace: ${ns}}
spec:
  destination: {kind: ServiceAccount, name: ${dest}, namespace: ${ns}}
  sources: [${from.join(', ')}]
  rules: [${rules.join(', ')}]`;
}

/** An HTTPRouteGroup whose matches are named after their path regex's first word (`/books` → `books`). */
export function routes(ns: string, name: string, paths: readonly string[]): string {
  const matches = paths.map((p) => `{name: ${p.replace(/\W/g, '') || 'all'}, pathRegex: "${p}", methods: ["*"]}`);
  return `apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {name: ${name}, namespace: ${ns}}
spec: {matches: [${matches.join(', ')}]}`;
}

export function tcpRoute(ns: string, name: string, ports: readonly number[]): string {
  return `apiVersion: specs.smi-spec.io/v1alpha4
kind: TCPRoute
metadata: {name: ${name}, namespace: ${ns}}
spec: {matches: {ports: [${ports.join(', ')}]}}`;
}

/** A TrafficSplit of `apex` over `backend=weight` pairs. */
export function split(ns: string, name: string, apex: string, backends: readonly string[]): string {
  const list = backends.map((b) => {
    const [service, weight] = b.split('=');
    return `{service: ${service}, weight: ${weight}}`;
  });
  return `apiVersion: split.smi-spec.io/v1alpha2
kind: TrafficSplit
metadata: {name: ${name}, namespace: ${ns}}
spec: {service: ${apex}, backends: [${list.join(', ')}]}`;
}
