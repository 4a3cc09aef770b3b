/**
 * Namespaces, ServiceAccounts and the workloads that run pods (Deployment, StatefulSet,
 * DaemonSet, ReplicaSet, Pod) → IR.
 */
import type { ManifestDocument } from '../../parser/parse.ts';
import type { ContainerPort, FieldPath, Namespace, ServiceAccount, Workload, WorkloadKind } from '../types.ts';
import { base, specOf } from './common.ts';

const DEFAULT_SERVICE_ACCOUNT = 'default';

interface RawContainer {
  ports?: { name?: string; containerPort: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }[];
}

interface RawPodSpec {
  serviceAccountName?: string;
  /** Deprecated alias of serviceAccountName, still honoured by the API server. */
  serviceAccount?: string;
  containers: RawContainer[];
}

interface RawPodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec: RawPodSpec;
}

interface RawPodStatus {
  podIP?: string;
  podIPs?: { ip: string }[];
}

export function buildNamespace(doc: ManifestDocument): Namespace {
  return base(doc, 'Namespace', true);
}

export function buildServiceAccount(doc: ManifestDocument): ServiceAccount {
  return base(doc, 'ServiceAccount');
}

interface RawOwnerReference {
  kind?: string;
  name?: string;
  controller?: boolean;
}

function controllerOf(doc: ManifestDocument): Pick<Workload, 'controller'> {
  const metadata = doc.value.metadata as { ownerReferences?: RawOwnerReference[] } | undefined;
  const owner = metadata?.ownerReferences?.find((o) => o?.controller === true && typeof o.kind === 'string' && typeof o.name === 'string');
  return owner ? { controller: { kind: owner.kind!, name: owner.name! } } : {};
}

/** Deployment, StatefulSet, DaemonSet and ReplicaSet: what their pod template says. */
export function buildController(doc: ManifestDocument, kind: Exclude<WorkloadKind, 'Pod'>): Workload {
  const template = specOf<{ template: RawPodTemplate }>(doc).template;
  return {
    ...base(doc, kind),
    podLabels: template?.metadata?.labels ?? {},
    ...podSpecFields(template?.spec, ['spec', 'template', 'spec']),
    podIPs: [],
    ...controllerOf(doc),
  };
}

export function buildPod(doc: ManifestDocument): Workload {
  const resource = base(doc, 'Pod');
  const status = (doc.value.status ?? {}) as RawPodStatus;
  const ips = status.podIPs?.length ? status.podIPs.map((p) => p.ip) : status.podIP ? [status.podIP] : [];
  return {
    ...resource,
    podLabels: resource.meta.labels,
    ...podSpecFields(specOf<RawPodSpec>(doc) as RawPodSpec, ['spec']),
    podIPs: ips,
    ...controllerOf(doc),
  };
}

function podSpecFields(spec: RawPodSpec | undefined, at: FieldPath): Pick<Workload, 'serviceAccount' | 'serviceAccountPath' | 'containerPorts'> {
  const containerPorts: ContainerPort[] = [];
  for (const container of spec?.containers ?? []) {
    for (const p of container.ports ?? []) {
      const port: ContainerPort = { containerPort: p.containerPort, protocol: p.protocol ?? 'TCP' };
      containerPorts.push(p.name === undefined ? port : { name: p.name, ...port });
    }
  }
  // `serviceAccountName: ""` is unset to the API server (Go's omitempty), as it is here.
  const field = spec?.serviceAccountName ? 'serviceAccountName' : spec?.serviceAccount ? 'serviceAccount' : undefined;
  if (field === undefined) return { serviceAccount: DEFAULT_SERVICE_ACCOUNT, containerPorts };
  return { serviceAccount: spec![field]!, serviceAccountPath: [...at, field], containerPorts };
}
