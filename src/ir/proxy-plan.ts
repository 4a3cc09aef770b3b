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

/**
 * One filter chain of the outbound listener, chosen by destination (SO_ORIGINAL_DST) port and
 * address. Envoy rejects a listener two of whose chains have the same match, so the plan
 * decides them once and emit only renders them.
 */
export type OutboundChain =
  /**
   * One service port: matched on its addresses and port (on the port alone when its addresses
   * are unknown); an HTTP connection manager for HTTP and gRPC, tcp_proxy otherwise.
   */
  | { readonly kind: 'service'; readonly port: number; readonly addresses: readonly string[]; readonly service: OutboundPort }
  /**
   * Several HTTP or gRPC service ports whose addresses are unknown, on the same port: one chain
   * matched on the port alone, whose route configuration tells them apart by Host header.
   */
  | { readonly kind: 'shared-http'; readonly port: number; readonly services: readonly OutboundPort[] };

/** Two service ports whose filter chains would match the same destination. */
export interface OutboundOverlap {
  /** The service whose chain claims the destination. */
  readonly first: ServiceName;
  /** The service left out, or (with an address) given a chain Envoy will reject. */
  readonly second: ServiceName;
  /** The contested IP; undefined for address-less service ports, which contest any address. */
  readonly address?: string;
  readonly port: number;
}

/** The outbound listener's filter chains, decided from `outbound` (see OutboundChain). */
export interface OutboundLayout {
  /** Chains with addresses in `outbound` order, then per port those without. */
  readonly chains: readonly OutboundChain[];
  /** Errors: each is reported, and an address-less service port in one has no chain. */
  readonly overlaps: readonly OutboundOverlap[];
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
  /** The outbound listener's filter chains for `outbound`, whose items they hold. */
  readonly outboundLayout: OutboundLayout;
  /** Every upstream cluster `outbound` refers to, sorted by name. */
  readonly upstreams: readonly UpstreamCluster[];
}
