/**
 * What one sidecar must do, decided by the passes and turned into Envoy resources by emit.
 * Everything is already resolved and sorted: emit makes no policy decisions.
 */
import type { AppProtocol, HttpMatch, WorkloadKind } from './types.ts';

export interface ServiceName {
  readonly namespace: string;
  readonly name: string;
}

/** One upstream cluster `<ns>/<svc>|<targetPort>` and its endpoints. */
export interface UpstreamCluster {
  /** `<ns>/<svc>|<targetPort>` */
  readonly name: string;
  readonly service: ServiceName;
  readonly targetPort: number;
  /** The backend service's port (the one callers use), for SNI and stats. */
  readonly port: number;
  readonly protocol: AppProtocol;
  /** Identities (`sa.ns.trustDomain`) of the workloads behind the service, sorted. */
  readonly identities: readonly string[];
  /** Ready endpoint IPs, sorted; the CLA port is `targetPort`. */
  readonly endpoints: readonly string[];
}

export interface WeightedBackend {
  /** Cluster name `<ns>/<svc>|<targetPort>`. */
  readonly cluster: string;
  readonly weight: number;
}

/** A service this proxy may call, on one of its ports. */
export interface OutboundPort {
  readonly service: ServiceName;
  readonly port: number;
  readonly protocol: AppProtocol;
  /** Destination IPs for the filter chain match (ClusterIPs, or pod IPs when headless), sorted; empty when unknown. */
  readonly addresses: readonly string[];
  /**
   * Where the traffic goes: one backend (the service's own cluster) or, when the service is
   * the apex of a TrafficSplit, the split's backends with their weights.
   */
  readonly backends: readonly WeightedBackend[];
  /** True when `backends` came from a TrafficSplit. */
  readonly split: boolean;
}

/** Who may call one inbound route, and on which requests. */
export interface InboundHttpRoute {
  /** Name of the HTTPRouteGroup match (`<group>/<match>`), or `*` for allow-all. */
  readonly name: string;
  /** undefined = any request. */
  readonly match?: HttpMatch;
  /** Principals admitted on this route, sorted; undefined = any (permissive mode). */
  readonly principals?: readonly string[];
}

/** One TrafficTarget's admission on an inbound port (network RBAC policy). */
export interface InboundPolicy {
  /** Policy name: the TrafficTarget's name. */
  readonly name: string;
  readonly principals: readonly string[];
}

/** A port of a service this proxy's workload serves. */
export interface InboundPort {
  readonly service: ServiceName;
  readonly port: number;
  readonly targetPort: number;
  readonly protocol: AppProtocol;
  /** Local cluster `<ns>/<svc>|<targetPort>|local`. */
  readonly localCluster: string;
  /** undefined in permissive mode: no RBAC. */
  readonly policies?: readonly InboundPolicy[];
  /** HTTP routes in evaluation order (HTTP and gRPC ports only). */
  readonly routes: readonly InboundHttpRoute[];
  /**
   * TrafficSplit apexes this port serves as a split backend, each with the apex port callers
   * dial. Callers send the apex's Host header (`bookstore`, not `bookstore-v1`), so the inbound
   * route configuration needs a virtual host for each apex too (OSM:
   * getUpstreamServicesIncludeApex). HTTP and gRPC ports only; undefined = none.
   */
  readonly apexes?: readonly { readonly service: ServiceName; readonly port: number }[];
}

export interface ProxyPlan {
  readonly namespace: string;
  readonly workload: string;
  readonly kind: WorkloadKind;
  readonly serviceAccount: string;
  /** `<sa>.<ns>.<trustDomain>` */
  readonly identity: string;
  readonly trustDomain: string;
  readonly permissive: boolean;
  readonly inbound: readonly InboundPort[];
  readonly outbound: readonly OutboundPort[];
  /** Every upstream cluster `outbound` refers to, sorted by name. */
  readonly upstreams: readonly UpstreamCluster[];
}
