/**
 * Binds services to the workloads their selectors match, workloads to service accounts and
 * identities, and services to their endpoints. Everything later passes look up goes through
 * the tables built here, so each relation is computed once.
 */
import { diagnostic } from '../diagnostics/diagnostic.ts';
import { keyOf, resourceKey, type EndpointSet, type Mesh, type Service, type ServicePort, type Workload } from '../ir/types.ts';
import { byNamespaceAndName, firstByKey, pushTo } from './collections.ts';
import { at, refOf, type PassContext } from './context.ts';
import { indexInvalid, reportedAsInvalid } from './invalid-references.ts';
import { compareStrings } from '../shared/compare.ts';

export interface ResolvedPort {
  readonly port: ServicePort;
  /** The numeric target port (named target ports resolved against the selected workloads). */
  readonly targetPort: number;
}

export interface ServiceBinding {
  readonly service: Service;
  readonly key: string;
  readonly workloads: readonly Workload[];
  /** `ns/sa` of the selected workloads, sorted. */
  readonly serviceAccounts: readonly string[];
  /** Ports whose target port could be resolved, in declaration order. */
  readonly ports: readonly ResolvedPort[];
  /** Ready endpoint IPs from Endpoints/EndpointSlices, sorted and unique. */
  readonly endpoints: readonly string[];
}

export interface Bindings {
  /** By `ns/name`. Each service appears once (the first definition wins; duplicates are reported). */
  readonly services: ReadonlyMap<string, ServiceBinding>;
  /** Workloads that get a proxy (one per `ns/name`), sorted by namespace then name. */
  readonly workloads: readonly Workload[];
  /** Services that select a workload, by workload key `ns/kind/name`. */
  readonly servicesOfWorkload: ReadonlyMap<Workload, readonly ServiceBinding[]>;
  /** Services backed by a service account, by `ns/sa`. */
  readonly servicesOfServiceAccount: ReadonlyMap<string, readonly ServiceBinding[]>;
  /** Workloads running as a service account, by `ns/sa`. */
  readonly workloadsOfServiceAccount: ReadonlyMap<string, readonly Workload[]>;
}

export interface BoundMesh extends Mesh {
  readonly bindings: Bindings;
}

export function selects(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return false;
  const entries = Object.entries(selector);
  if (entries.length === 0) return false; // an empty selector selects nothing for a Service
  return entries.every(([k, v]) => labels[k] === v);
}

/** Index key of a workload of `namespace` with pod label `label: value` (NUL: in neither a label key nor a namespace). */
function labelKey(namespace: string, label: string, value: string): string {
  return `${namespace}\u0000${label}\u0000${value}`;
}

/**
 * The workloads of the service's namespace its selector selects, in workload order. Only those
 * carrying the selector's first label are tried (from an index by label), not every workload of
 * the namespace: a namespace of N services and N workloads costs N, not N² (1,000 services:
 * ≈ 55,000 selector tests before).
 */
function selectedWorkloads(service: Service, workloadsByLabel: ReadonlyMap<string, readonly Workload[]>): Workload[] {
  const selector = service.selector;
  if (!selector) return [];
  const first = Object.keys(selector)[0];
  if (first === undefined) return []; // an empty selector selects nothing for a Service
  const candidates = workloadsByLabel.get(labelKey(service.meta.namespace, first, selector[first])) ?? [];
  return candidates.filter((w) => selects(selector, w.podLabels));
}

function resolveTargetPort(
  service: Service,
  port: ServicePort,
  workloads: readonly Workload[],
  ctx: PassContext,
): number | undefined {
  if (typeof port.targetPort === 'number') return port.targetPort;
  const numeric = Number(port.targetPort);
  if (Number.isInteger(numeric) && numeric > 0) return numeric;
  for (const w of workloads) {
    const found = w.containerPorts.find((cp) => cp.name === port.targetPort);
    if (found) return found.containerPort;
  }
  // Without selected workloads there is nothing to resolve against; the selector diagnostic says why.
  if (workloads.length > 0) {
    ctx.report(
      diagnostic(
        'unresolved-target-port',
        { namespace: service.meta.namespace, name: service.meta.name, port: port.port, targetPort: port.targetPort },
        at(service, [...port.path, 'targetPort']),
        refOf(service),
      ),
    );
  }
  return undefined;
}

/** A service's ready endpoint IPs, sorted and unique (also what the compile's endpoint-only path recomputes). */
export function endpointIPs(sets: readonly EndpointSet[] | undefined): string[] {
  if (!sets) return [];
  const ips = new Set<string>();
  for (const set of sets) for (const a of set.addresses) if (a.ready) ips.add(a.ip);
  return [...ips].sort(compareIPs);
}

/** Numeric order for IPv4 (10.0.0.9 before 10.0.0.10), string order otherwise. */
export function compareIPs(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  if (pa.length === 4 && pb.length === 4) {
    for (let i = 0; i < 4; i++) {
      const d = Number(pa[i]) - Number(pb[i]);
      if (d !== 0) return d;
    }
    return 0;
  }
  return compareStrings(a, b);
}

/**
 * Drops workloads whose controller is also in the input (a Deployment's ReplicaSet, that
 * ReplicaSet's Pods): they share the controller's proxy config and node id. A Pod whose owner
 * is missing from the input keeps its own.
 */
function withoutControlled(workloads: readonly Workload[]): Workload[] {
  const present = new Set(workloads.map((w) => `${w.meta.namespace}/${w.kind}/${w.meta.name}`));
  return workloads.filter((w) => !w.controller || !present.has(`${w.meta.namespace}/${w.controller.kind}/${w.controller.name}`));
}

export function bind(mesh: Mesh, ctx: PassContext): BoundMesh {
  const workloads = withoutControlled(firstByKey(mesh.workloads, (w) => `${w.meta.namespace}/${w.kind}/${w.meta.name}`)).sort(byNamespaceAndName);
  const services = firstByKey(mesh.services, resourceKey).sort(byNamespaceAndName);
  const declaredAccounts = new Set(mesh.serviceAccounts.map(resourceKey));
  const invalid = indexInvalid(mesh);

  const workloadsByLabel = new Map<string, Workload[]>();
  const workloadsOfServiceAccount = new Map<string, Workload[]>();
  for (const w of workloads) {
    for (const label in w.podLabels) if (Object.hasOwn(w.podLabels, label)) pushTo(workloadsByLabel, labelKey(w.meta.namespace, label, w.podLabels[label]), w);
    const saKey = keyOf(w.meta.namespace, w.serviceAccount);
    pushTo(workloadsOfServiceAccount, saKey, w);
    if (w.serviceAccount !== 'default' && !declaredAccounts.has(saKey)) {
      const where = w.serviceAccountPath ?? (w.kind === 'Pod' ? ['spec', 'serviceAccountName'] : ['spec', 'template', 'spec', 'serviceAccountName']);
      if (!reportedAsInvalid(invalid, 'ServiceAccount', w.meta.namespace, w.serviceAccount, w, where, ctx)) {
        ctx.report(
          diagnostic(
            'missing-service-account',
            { kind: w.kind, namespace: w.meta.namespace, name: w.meta.name, serviceAccount: w.serviceAccount },
            at(w, where),
            refOf(w),
          ),
        );
      }
    }
  }

  const endpointsByService = new Map<string, EndpointSet[]>();
  for (const set of mesh.endpointSets) pushTo(endpointsByService, set.service, set);

  const bindingsByKey = new Map<string, ServiceBinding>();
  const servicesOfWorkload = new Map<Workload, ServiceBinding[]>();
  const servicesOfServiceAccount = new Map<string, ServiceBinding[]>();
  for (const service of services) {
    const key = resourceKey(service);
    const selected = selectedWorkloads(service, workloadsByLabel);
    if (service.selector && Object.keys(service.selector).length > 0 && selected.length === 0) {
      ctx.report(
        diagnostic('selector-matches-nothing', { namespace: service.meta.namespace, name: service.meta.name }, at(service, ['spec', 'selector']), refOf(service)),
      );
    }
    const ports: ResolvedPort[] = [];
    for (const port of service.ports) {
      if (port.transport !== 'TCP') continue; // the mesh proxies TCP-based protocols only, as OSM
      if (port.protocolSource === 'default') {
        ctx.report(
          diagnostic(
            'protocol-not-inferable',
            { namespace: service.meta.namespace, name: service.meta.name, port: port.port },
            at(service, port.name !== undefined ? [...port.path, 'name'] : [...port.path, 'port']),
            refOf(service),
          ),
        );
      }
      const targetPort = resolveTargetPort(service, port, selected, ctx);
      if (targetPort !== undefined) ports.push({ port, targetPort });
    }
    const serviceAccounts = [...new Set(selected.map((w) => keyOf(w.meta.namespace, w.serviceAccount)))].sort();
    const endpoints = endpointIPs(endpointsByService.get(key));
    if (service.headless && endpoints.length === 0) {
      ctx.report(diagnostic('headless-without-endpoints', { namespace: service.meta.namespace, name: service.meta.name }, at(service, ['spec', 'clusterIP']), refOf(service)));
    }
    const binding: ServiceBinding = { service, key, workloads: selected, serviceAccounts, ports, endpoints };
    bindingsByKey.set(key, binding);
    for (const w of selected) pushTo(servicesOfWorkload, w, binding);
    for (const sa of serviceAccounts) pushTo(servicesOfServiceAccount, sa, binding);
  }

  return {
    ...mesh,
    bindings: {
      services: bindingsByKey,
      workloads,
      servicesOfWorkload,
      servicesOfServiceAccount,
      workloadsOfServiceAccount,
    },
  };
}
