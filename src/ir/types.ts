/**
 * The mesh as plain, immutable data. Every SMI version accepted on input is normalised
 * into these shapes; no Envoy type appears here.
 */
import type { FieldPath, Origin, SourcePosition } from '../shared/position.ts';

export type { FieldPath, Origin } from '../shared/position.ts';

export interface ObjectMeta {
  readonly name: string;
  /** Defaults to `default` for namespaced kinds, `''` for cluster-scoped ones. */
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

interface ResourceBase<K extends string> {
  readonly kind: K;
  readonly apiVersion: string;
  readonly meta: ObjectMeta;
  readonly origin: Origin;
}

// ── Kubernetes ──────────────────────────────────────────────────────────────

export type AppProtocol = 'http' | 'tcp' | 'grpc' | 'tcp-server-first';

export interface ServicePort {
  readonly name?: string;
  readonly port: number;
  /** Number, or the name of a container port; defaults to `port`. */
  readonly targetPort: number | string;
  readonly protocol: AppProtocol;
  /** How `protocol` was decided: `appProtocol`, the port name prefix, or OSM's http default. */
  readonly protocolSource: 'appProtocol' | 'name' | 'default';
  /** L4 transport (`spec.ports[].protocol`), TCP unless stated. */
  readonly transport: 'TCP' | 'UDP' | 'SCTP';
  /** Path of this port in the source document, for diagnostics. */
  readonly path: FieldPath;
}

export interface Service extends ResourceBase<'Service'> {
  /** Undefined when the Service has no selector (its endpoints are managed by hand). */
  readonly selector?: Readonly<Record<string, string>>;
  /** ClusterIPs known from the manifest (`clusterIP`/`clusterIPs`); empty when not yet assigned. */
  readonly clusterIPs: readonly string[];
  readonly headless: boolean;
  readonly ports: readonly ServicePort[];
}

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'ReplicaSet' | 'Pod';

export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
}

export interface Workload extends ResourceBase<WorkloadKind> {
  /** Labels of the pods it runs (template labels, or the Pod's own labels). */
  readonly podLabels: Readonly<Record<string, string>>;
  /** `serviceAccountName`, `default` when unset. */
  readonly serviceAccount: string;
  /** Where the service account is named (`...serviceAccountName`); undefined when it is the default. */
  readonly serviceAccountPath?: FieldPath;
  readonly containerPorts: readonly ContainerPort[];
  /** `status.podIP(s)` of a Pod, when present. */
  readonly podIPs: readonly string[];
  /**
   * The controller that owns it (`metadata.ownerReferences[]` with `controller: true`): the
   * ReplicaSet of a Deployment, the Deployment of a ReplicaSet. `kubectl get all -o yaml`
   * dumps all three; the proxy belongs to the top one.
   */
  readonly controller?: { readonly kind: string; readonly name: string };
}

export interface ServiceAccount extends ResourceBase<'ServiceAccount'> {}

export interface Namespace extends ResourceBase<'Namespace'> {}

/** Endpoints and EndpointSlices, normalised: the ready addresses of one service. */
export interface EndpointSet extends ResourceBase<'Endpoints' | 'EndpointSlice'> {
  /** Namespace/name of the Service these endpoints belong to. */
  readonly service: string;
  readonly ports: readonly { readonly name?: string; readonly port: number; readonly protocol: string }[];
  readonly addresses: readonly EndpointAddress[];
}

export interface EndpointAddress {
  readonly ip: string;
  readonly ready: boolean;
  readonly hostname?: string;
  readonly podName?: string;
}

// ── SMI ─────────────────────────────────────────────────────────────────────

export interface IdentityRef {
  readonly kind: string;
  readonly name: string;
  /** Defaults to the TrafficTarget's namespace. */
  readonly namespace: string;
  readonly path: FieldPath;
}

export type RouteKind = 'HTTPRouteGroup' | 'TCPRoute' | 'UDPRoute';

interface RouteRef<K extends RouteKind> {
  readonly kind: K;
  readonly name: string;
  readonly path: FieldPath;
}

/** A rule of a TrafficTarget: the route it names, by kind (the schemas admit no other kind). */
export type TrafficTargetRule =
  | (RouteRef<'HTTPRouteGroup'> & {
      /** Match names; undefined means every match of the group. */
      readonly matches?: readonly { readonly name: string; readonly path: FieldPath }[];
    })
  | RouteRef<'TCPRoute'>
  | RouteRef<'UDPRoute'>;

export interface TrafficTarget extends ResourceBase<'TrafficTarget'> {
  readonly destination: IdentityRef & { readonly port?: number };
  readonly sources: readonly IdentityRef[];
  /** `spec.rules` (v1alpha2+) or `specs` (v1alpha1). */
  readonly rules: readonly TrafficTargetRule[];
}

export interface HeaderMatch {
  readonly name: string;
  /** A regex (RE2) the value must match, as SMI specifies. */
  readonly value: string;
  readonly path: FieldPath;
}

export interface HttpMatch {
  readonly name: string;
  readonly pathRegex?: string;
  /** Undefined or containing '*' means any method; [] means none (a lint warning). */
  readonly methods?: readonly string[];
  readonly headers: readonly HeaderMatch[];
  readonly path: FieldPath;
}

export interface HttpRouteGroup extends ResourceBase<'HTTPRouteGroup'> {
  readonly matches: readonly HttpMatch[];
}

export interface TcpRoute extends ResourceBase<'TCPRoute'> {
  /** Ports the route admits; empty means every port. */
  readonly ports: readonly number[];
}

export interface UdpRoute extends ResourceBase<'UDPRoute'> {
  readonly ports: readonly number[];
}

export interface SplitBackend {
  readonly service: string;
  readonly weight: number;
  readonly path: FieldPath;
}

export interface TrafficSplit extends ResourceBase<'TrafficSplit'> {
  /** The apex as written: `svc`, `svc.ns` or `svc.ns.svc.cluster.local`. */
  readonly service: string;
  readonly backends: readonly SplitBackend[];
  /** v1alpha3+ `matches`: route groups restricting which requests are split. */
  readonly matches: readonly { readonly kind: string; readonly name: string; readonly path: FieldPath }[];
}

export interface MeshConfig extends ResourceBase<'MeshConfig'> {
  readonly permissive?: boolean;
  readonly trustDomain?: string;
}

/**
 * A document of a kind smi-compile reads that was refused: by its schema (the parser) or for a
 * name Kubernetes would refuse (src/ir/build/names.ts). Nothing is built from it; it is kept
 * only so that a reference to it can say "invalid, see there" rather than "does not exist".
 */
export interface InvalidObject extends ResourceBase<'Invalid'> {
  /** The document's own kind (`HTTPRouteGroup`). */
  readonly objectKind: string;
  /** The first error that refused it: what a reference to it points the user at. */
  readonly problem: { readonly code: string; readonly source?: SourcePosition };
}

export interface MeshSettings {
  readonly trustDomain: string;
  readonly permissive: boolean;
  /** The MeshConfig that set these, if any. */
  readonly from?: MeshConfig;
}

export type Resource =
  | Namespace
  | ServiceAccount
  | Service
  | Workload
  | EndpointSet
  | TrafficTarget
  | HttpRouteGroup
  | TcpRoute
  | UdpRoute
  | TrafficSplit
  | MeshConfig
  | InvalidObject;

/** The input, normalised. Passes add the derived sections below. */
export interface Mesh {
  readonly settings: MeshSettings;
  readonly namespaces: readonly Namespace[];
  readonly serviceAccounts: readonly ServiceAccount[];
  readonly services: readonly Service[];
  readonly workloads: readonly Workload[];
  readonly endpointSets: readonly EndpointSet[];
  readonly trafficTargets: readonly TrafficTarget[];
  readonly httpRouteGroups: readonly HttpRouteGroup[];
  readonly tcpRoutes: readonly TcpRoute[];
  readonly udpRoutes: readonly UdpRoute[];
  readonly trafficSplits: readonly TrafficSplit[];
  readonly meshConfigs: readonly MeshConfig[];
  /** Refused documents, only for references to name (see InvalidObject). */
  readonly invalidObjects: readonly InvalidObject[];
}

/** The Mesh's resource lists in a fixed order: per-list arrays elsewhere are indexed by it. */
export const MESH_LISTS = [
  'namespaces', 'serviceAccounts', 'services', 'workloads', 'endpointSets', 'trafficTargets',
  'httpRouteGroups', 'tcpRoutes', 'udpRoutes', 'trafficSplits', 'meshConfigs', 'invalidObjects',
] as const satisfies readonly (keyof Mesh)[];

export type MeshLists = Omit<Mesh, 'settings'>;

/** Which list (MESH_LISTS index) a resource of each kind belongs to. */
export const LIST_OF_KIND: Readonly<Record<Resource['kind'], number>> = {
  Namespace: 0, ServiceAccount: 1, Service: 2,
  Deployment: 3, StatefulSet: 3, DaemonSet: 3, ReplicaSet: 3, Pod: 3,
  Endpoints: 4, EndpointSlice: 4, TrafficTarget: 5, HTTPRouteGroup: 6, TCPRoute: 7, UDPRoute: 8, TrafficSplit: 9, MeshConfig: 10, Invalid: 11,
};

/** Per-list arrays (MESH_LISTS order) → the lists of a Mesh. */
export function asMeshLists(lists: readonly (readonly Resource[])[]): MeshLists {
  const [namespaces, serviceAccounts, services, workloads, endpointSets, trafficTargets, httpRouteGroups, tcpRoutes, udpRoutes, trafficSplits, meshConfigs, invalidObjects] = lists;
  return { namespaces, serviceAccounts, services, workloads, endpointSets, trafficTargets, httpRouteGroups, tcpRoutes, udpRoutes, trafficSplits, meshConfigs, invalidObjects } as MeshLists;
}

/** Resources → per-list arrays (MESH_LISTS order), each in input order. */
export function groupByList(resources: Iterable<Resource>): Resource[][] {
  const lists: Resource[][] = MESH_LISTS.map(() => []);
  for (const r of resources) lists[LIST_OF_KIND[r.kind]].push(r);
  return lists;
}

/** `ns/name`, the key every lookup table uses. */
export function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function resourceKey(r: { meta: ObjectMeta }): string {
  return keyOf(r.meta.namespace, r.meta.name);
}
